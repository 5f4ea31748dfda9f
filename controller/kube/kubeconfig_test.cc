#include "controller/kube/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "controller/kube/api_client.h"
#include "controller/kube/testing/test_pki.h"

namespace gatehouse::kube {
namespace {

namespace fs = std::filesystem;

class KubeConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(std::getenv("TEST_TMPDIR")) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_);
  }
  std::string Write(const std::string& name, const std::string& content) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << content;
    return p.string();
  }
  static std::string B64(const std::string& s) { return absl::Base64Escape(s); }

  fs::path dir_;
  testing::TestPki pki_ = testing::MakeTestPki();
};

TEST_F(KubeConfigTest, InlineCertificatesAndCurrentContext) {
  const std::string yaml = R"(apiVersion: v1
kind: Config
current-context: kind
clusters:
- name: other
  cluster: {server: "https://10.0.0.1:6443"}
- name: kind
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: )" +
                           B64(pki_.ca_pem) + R"(
    tls-server-name: kubernetes
contexts:
- name: other
  context: {cluster: other, user: nobody}
- name: kind
  context: {cluster: kind, user: admin, namespace: team-a}
users:
- name: admin
  user:
    client-certificate-data: )" +
                           B64(pki_.client_cert_pem) + R"(
    client-key-data: )" + B64(pki_.client_key_pem) +
                           R"(
)";
  auto config = LoadKubeConfig(Write("config", yaml));
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://127.0.0.1:6443");
  EXPECT_EQ(config->ca_pem, pki_.ca_pem);
  EXPECT_EQ(config->client_cert_pem, pki_.client_cert_pem);
  EXPECT_EQ(config->client_key_pem, pki_.client_key_pem);
  EXPECT_EQ(config->tls_server_name, "kubernetes");
  EXPECT_EQ(config->ns, "team-a");
  EXPECT_TRUE(config->token.empty());
  EXPECT_FALSE(config->insecure_skip_tls_verify);
}

TEST_F(KubeConfigTest, FilesRelativeToTheKubeconfigAndExplicitContext) {
  Write("ca.crt", pki_.ca_pem);
  fs::create_directories(dir_ / "certs");
  Write("certs/client.crt", pki_.client_cert_pem);
  Write("certs/client.key", pki_.client_key_pem);
  const std::string path = Write("config", R"(
current-context: a
clusters:
- name: b
  cluster:
    server: https://[::1]:6443
    certificate-authority: ca.crt
contexts:
- name: a
  context: {cluster: missing, user: u}
- name: b
  context: {cluster: b, user: u}
users:
- name: u
  user:
    client-certificate: certs/client.crt
    client-key: )" + (dir_ / "certs/client.key").string() +
                                               "\n");
  auto config = LoadKubeConfig(path, "b");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://[::1]:6443");
  EXPECT_EQ(config->ca_pem, pki_.ca_pem);
  EXPECT_EQ(config->client_cert_pem, pki_.client_cert_pem);
  EXPECT_EQ(config->client_key_pem, pki_.client_key_pem);
  // The current context names a cluster that does not exist.
  EXPECT_FALSE(LoadKubeConfig(path).ok());
}

TEST_F(KubeConfigTest, TokenAndTokenFile) {
  const std::string yaml = R"(
current-context: c
clusters: [{name: c, cluster: {server: "http://127.0.0.1:8080", insecure-skip-tls-verify: true}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: abc123}}]
)";
  auto config = ParseKubeConfig(yaml, dir_.string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->token, "abc123");
  EXPECT_TRUE(config->insecure_skip_tls_verify);
  EXPECT_EQ(*CurrentToken(*config), "abc123");

  Write("token", "rotating-1\n");
  std::string with_file = yaml;
  with_file.replace(with_file.find("token: abc123"), 13, "tokenFile: token");
  config = ParseKubeConfig(with_file, dir_.string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->token_file, (dir_ / "token").string());
  EXPECT_EQ(*CurrentToken(*config), "rotating-1");
  // Re-read on every use: projected tokens rotate.
  Write("token", "rotating-2");
  EXPECT_EQ(*CurrentToken(*config), "rotating-2");
}

// A plugin script that counts its runs in `dir`/runs and prints what `body` says.
std::string Plugin(const fs::path& dir, const std::string& name, const std::string& body) {
  const fs::path p = dir / name;
  std::ofstream(p) << "#!/bin/sh\necho run >> " << (dir / "runs").string() << "\n" << body;
  fs::permissions(p, fs::perms::owner_all);
  return p.string();
}

int Runs(const fs::path& dir) {
  std::ifstream in(dir / "runs");
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST_F(KubeConfigTest, ExecPluginTokenIsCachedUntilItExpires) {
  const std::string plugin = Plugin(dir_, "get-token", R"(
case "$KUBERNETES_EXEC_INFO" in *'"interactive":false'*) ;; *) echo "no exec info" >&2; exit 3;; esac
echo "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",
 \"status\":{\"token\":\"tok-$1-$REGION\",\"expirationTimestamp\":\"2999-01-01T00:00:00Z\"}}"
)");
  const std::string yaml = R"(
current-context: c
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: )" + plugin +
                           R"(
      args: [eks]
      env: [{name: REGION, value: north}]
)";
  auto config = ParseKubeConfig(yaml, dir_.string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->exec.args, std::vector<std::string>{"eks"});
  EXPECT_EQ(*CurrentToken(*config), "tok-eks-north");
  EXPECT_EQ(*CurrentToken(*config), "tok-eks-north");
  EXPECT_EQ(Runs(dir_), 1);       // cached: the expiry is far away
  ForgetExecToken(config->exec);  // as after a 401
  EXPECT_EQ(*CurrentToken(*config), "tok-eks-north");
  EXPECT_EQ(Runs(dir_), 2);

  // A token about to expire is fetched again on every use.
  const std::string soon = Plugin(dir_, "soon", R"(
echo '{"kind":"ExecCredential","status":{"token":"short","expirationTimestamp":"2000-01-01T00:00:00Z"}}'
)");
  ExecConfig e{.command = soon};
  EXPECT_EQ(*ExecTokenCached(e), "short");
  EXPECT_EQ(*ExecTokenCached(e), "short");
  EXPECT_EQ(Runs(dir_), 4);
}

TEST_F(KubeConfigTest, ExecPluginErrorsAreClear) {
  auto fails =
      RunExecPlugin({.command = Plugin(dir_, "fails", "echo 'login required' >&2\nexit 1\n")});
  EXPECT_EQ(fails.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(fails.status().message().find("login required"), std::string::npos);
  EXPECT_FALSE(RunExecPlugin({.command = Plugin(dir_, "garbage", "echo '{not json'\n")}).ok());
  EXPECT_FALSE(
      RunExecPlugin({.command = Plugin(dir_, "wrongkind", "echo '{\"kind\":\"Pod\"}'\n")}).ok());
  auto certs = RunExecPlugin(
      {.command = Plugin(
           dir_, "certs",
           "echo '{\"kind\":\"ExecCredential\",\"status\":{\"clientCertificateData\":\"x\"}}'\n")});
  EXPECT_EQ(certs.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(RunExecPlugin({.command = (dir_ / "no-such-plugin").string()}).ok());
  auto slow =
      RunExecPlugin({.command = Plugin(dir_, "slow", "exec sleep 5\n")}, absl::Milliseconds(200));
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded);
}

TEST_F(KubeConfigTest, Errors) {
  const std::string head = R"(
current-context: c
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
)";
  EXPECT_FALSE(ParseKubeConfig("::: not yaml [", "").ok());
  EXPECT_FALSE(ParseKubeConfig("clusters: []", "").ok());  // no current-context
  auto ap = ParseKubeConfig(head + "users: [{name: u, user: {auth-provider: {name: gcp}}}]", "");
  EXPECT_EQ(ap.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(ParseKubeConfig(head + "users: [{name: u, user: {exec: {args: [x]}}}]", "").ok());
  EXPECT_EQ(ParseKubeConfig(head + "users: [{name: u, user: {exec: {command: x, "
                                   "interactiveMode: Always}}}]",
                            "")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(
      ParseKubeConfig(head + "users: [{name: u, user: {client-key-data: \"!!notbase64\"}}]", "")
          .ok());
  EXPECT_FALSE(ParseKubeConfig(head + "users: [{name: u, user: {client-certificate-data: " +
                                   B64(pki_.client_cert_pem) + "}}]",
                               "")
                   .ok());  // a certificate without its key
  EXPECT_FALSE(
      ParseKubeConfig(head + "users: [{name: u, user: {client-certificate: /nonexistent}}]", "")
          .ok());
  EXPECT_FALSE(LoadKubeConfig((dir_ / "missing").string()).ok());
}

TEST_F(KubeConfigTest, InCluster) {
  Write("token", "sa-token\n");
  Write("ca.crt", pki_.ca_pem);
  Write("namespace", "gatehouse-system\n");
  unsetenv("KUBERNETES_SERVICE_HOST");
  EXPECT_FALSE(LoadInClusterConfig(dir_.string()).ok());
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  auto config = LoadInClusterConfig(dir_.string());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server, "https://10.96.0.1:443");
  EXPECT_EQ(config->ca_pem, pki_.ca_pem);
  EXPECT_EQ(config->ns, "gatehouse-system");
  EXPECT_EQ(*CurrentToken(*config), "sa-token");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  EXPECT_EQ(LoadInClusterConfig(dir_.string())->server, "https://[fd00::1]:443");
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
}

TEST(ServerUrlTest, Parses) {
  auto u = ParseServerUrl("https://127.0.0.1:6443");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "6443");
  EXPECT_EQ(u->path_prefix, "");

  u = ParseServerUrl("http://localhost/k8s/clusters/c1/");
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->path_prefix, "/k8s/clusters/c1");

  u = ParseServerUrl("https://[::1]");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "443");

  EXPECT_FALSE(ParseServerUrl("127.0.0.1:6443").ok());
  EXPECT_FALSE(ParseServerUrl("https://host:99999").ok());
  EXPECT_FALSE(ParseServerUrl("https://:443").ok());
  EXPECT_FALSE(ParseServerUrl("https://[::1").ok());
}

}  // namespace
}  // namespace gatehouse::kube
