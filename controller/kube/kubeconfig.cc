#include "controller/kube/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace gatehouse::kube {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Finds the entry called `name` in a kubeconfig list (clusters, users,
// contexts) and returns its inner map (`cluster`, `user`, `context`).
YAML::Node FindNamed(const YAML::Node& list, const std::string& name, const char* inner) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& entry : list) {
    if (entry.IsMap() && entry["name"] && entry["name"].as<std::string>() == name) {
      return entry[inner];
    }
  }
  return YAML::Node();
}

std::string Scalar(const YAML::Node& map, const char* key) {
  if (!map || !map.IsMap()) return "";
  const YAML::Node v = map[key];
  if (!v || !v.IsScalar()) return "";
  return v.as<std::string>();
}

// users[].user.exec: the plugin runs without a terminal, so one that must
// always ask the user cannot be used.
absl::StatusOr<ExecConfig> ParseExec(const YAML::Node& exec) {
  if (!exec.IsMap()) return absl::InvalidArgumentError("kubeconfig: exec must be a mapping");
  ExecConfig e;
  e.command = Scalar(exec, "command");
  e.api_version = Scalar(exec, "apiVersion");
  if (e.command.empty()) return absl::InvalidArgumentError("kubeconfig: exec has no command");
  if (Scalar(exec, "interactiveMode") == "Always") {
    return absl::FailedPreconditionError(
        "kubeconfig: exec plugin needs interactiveMode Always; the controller has no terminal");
  }
  if (const YAML::Node args = exec["args"]; args && args.IsSequence()) {
    for (const auto& a : args) {
      if (a.IsScalar()) e.args.push_back(a.as<std::string>());
    }
  }
  if (const YAML::Node env = exec["env"]; env && env.IsSequence()) {
    for (const auto& v : env) {
      const std::string name = Scalar(v, "name");
      if (name.empty()) return absl::InvalidArgumentError("kubeconfig: exec env entry has no name");
      e.env.emplace_back(name, Scalar(v, "value"));
    }
  }
  return e;
}

// Loads one credential that kubeconfig allows either inline (`<key>-data`,
// base64) or as a file path (`<key>`, relative to the kubeconfig's folder).
absl::StatusOr<std::string> DataOrFile(const YAML::Node& map, const std::string& key,
                                       const std::string& base_dir) {
  const std::string data = Scalar(map, (key + "-data").c_str());
  if (!data.empty()) {
    std::string decoded;
    if (!absl::Base64Unescape(data, &decoded)) {
      return absl::InvalidArgumentError(absl::StrCat(key, "-data is not valid base64"));
    }
    return decoded;
  }
  std::string path = Scalar(map, key.c_str());
  if (path.empty()) return std::string();
  if (fs::path(path).is_relative() && !base_dir.empty())
    path = (fs::path(base_dir) / path).string();
  return ReadFile(path);
}

std::string ResolvePath(std::string path, const std::string& base_dir) {
  if (!path.empty() && fs::path(path).is_relative() && !base_dir.empty()) {
    path = (fs::path(base_dir) / path).string();
  }
  return path;
}

}  // namespace

absl::StatusOr<KubeConfig> ParseKubeConfig(const std::string& yaml, const std::string& base_dir,
                                           const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig: ", e.what()));
  }
  if (!root.IsMap()) return absl::InvalidArgumentError("kubeconfig: not a map");

  const std::string context_name = context.empty() ? Scalar(root, "current-context") : context;
  if (context_name.empty()) return absl::InvalidArgumentError("kubeconfig: no current-context");
  const YAML::Node ctx = FindNamed(root["contexts"], context_name, "context");
  if (!ctx || !ctx.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig: no context ", context_name));
  }
  const std::string cluster_name = Scalar(ctx, "cluster");
  const YAML::Node cluster = FindNamed(root["clusters"], cluster_name, "cluster");
  if (!cluster || !cluster.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat("kubeconfig: no cluster ", cluster_name));
  }

  KubeConfig config;
  config.ns = Scalar(ctx, "namespace");
  config.server = Scalar(cluster, "server");
  while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
  if (config.server.empty()) return absl::InvalidArgumentError("kubeconfig: cluster has no server");
  config.insecure_skip_tls_verify = Scalar(cluster, "insecure-skip-tls-verify") == "true";
  config.tls_server_name = Scalar(cluster, "tls-server-name");
  auto ca = DataOrFile(cluster, "certificate-authority", base_dir);
  if (!ca.ok()) return ca.status();
  config.ca_pem = *std::move(ca);

  const std::string user_name = Scalar(ctx, "user");
  if (!user_name.empty()) {
    const YAML::Node user = FindNamed(root["users"], user_name, "user");
    if (!user || !user.IsMap()) {
      // kubeconfig allows a user with no fields (anonymous), written as `user: {}`.
      if (!user || !user.IsNull()) {
        return absl::InvalidArgumentError(absl::StrCat("kubeconfig: no user ", user_name));
      }
    } else {
      if (user["auth-provider"]) {
        return absl::UnimplementedError(
            "kubeconfig: auth-provider credentials are not supported; use exec, a token or a "
            "client certificate");
      }
      if (const YAML::Node exec = user["exec"]; exec) {
        auto parsed = ParseExec(exec);
        if (!parsed.ok()) return parsed.status();
        config.exec = *std::move(parsed);
      }
      auto cert = DataOrFile(user, "client-certificate", base_dir);
      if (!cert.ok()) return cert.status();
      auto key = DataOrFile(user, "client-key", base_dir);
      if (!key.ok()) return key.status();
      config.client_cert_pem = *std::move(cert);
      config.client_key_pem = *std::move(key);
      if (config.client_cert_pem.empty() != config.client_key_pem.empty()) {
        return absl::InvalidArgumentError(
            "kubeconfig: client certificate and key must be given together");
      }
      config.token = Scalar(user, "token");
      config.token_file = ResolvePath(Scalar(user, "tokenFile"), base_dir);
    }
  }
  return config;
}

absl::StatusOr<KubeConfig> LoadKubeConfig(const std::string& path, const std::string& context) {
  auto content = ReadFile(path);
  if (!content.ok()) return content.status();
  return ParseKubeConfig(*content, fs::path(path).parent_path().string(), context);
}

absl::StatusOr<KubeConfig> LoadInClusterConfig(const std::string& sa_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || port == nullptr || *host == '\0' || *port == '\0') {
    return absl::FailedPreconditionError(
        "not in a cluster: KUBERNETES_SERVICE_HOST/PORT are not set");
  }
  KubeConfig config;
  const std::string h = host;
  // An IPv6 service host needs brackets in a URL.
  config.server =
      absl::StrCat("https://", h.find(':') != std::string::npos ? "[" + h + "]" : h, ":", port);
  config.token_file = (fs::path(sa_dir) / "token").string();
  auto token = ReadFile(config.token_file);
  if (!token.ok()) return token.status();
  auto ca = ReadFile((fs::path(sa_dir) / "ca.crt").string());
  if (!ca.ok()) return ca.status();
  config.ca_pem = *std::move(ca);
  if (auto ns = ReadFile((fs::path(sa_dir) / "namespace").string()); ns.ok()) {
    config.ns = std::string(absl::StripAsciiWhitespace(*ns));
  }
  return config;
}

absl::StatusOr<KubeConfig> LoadDefaultConfig(const std::string& path) {
  if (!path.empty()) return LoadKubeConfig(path);
  if (const char* env = std::getenv("KUBECONFIG"); env != nullptr && *env != '\0') {
    for (absl::string_view p : absl::StrSplit(env, ':', absl::SkipEmpty())) {
      if (fs::exists(std::string(p))) return LoadKubeConfig(std::string(p));
    }
  }
  auto in_cluster = LoadInClusterConfig();
  if (in_cluster.ok()) return in_cluster;
  if (const char* home = std::getenv("HOME"); home != nullptr) {
    const std::string p = (fs::path(home) / ".kube" / "config").string();
    if (fs::exists(p)) return LoadKubeConfig(p);
  }
  return absl::NotFoundError(
      "no kubeconfig: pass --kubeconfig, set KUBECONFIG or run in a cluster");
}

absl::StatusOr<std::string> CurrentToken(const KubeConfig& config) {
  if (!config.exec.empty()) return ExecTokenCached(config.exec);
  if (config.token_file.empty()) return config.token;
  auto token = ReadFile(config.token_file);
  if (!token.ok()) return token.status();
  return std::string(absl::StripAsciiWhitespace(*token));
}

}  // namespace gatehouse::kube
