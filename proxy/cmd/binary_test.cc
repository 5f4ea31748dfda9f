// The gatehouse-proxy binary as a user runs it: flags, the admin endpoint (/ready,
// /config_dump, /metrics), the "admin listening" log line, snapshot-file reloads, a bad
// snapshot file rejected while the last good one keeps serving, and a clean SIGTERM.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/testing/echo_server.h"
#include "proxy/testing/http_client.h"
#include "proxy/testing/proxy_fixture.h"

extern char** environ;

namespace gatehouse::proxy {
namespace {

using testing::HttpClient;

std::string BinaryPath() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* ws = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir ? srcdir : ".") + "/" + (ws ? ws : "gatehouse") +
         "/proxy/cmd/gatehouse-proxy";
}

std::string TempDir() {
  const char* t = std::getenv("TEST_TMPDIR");
  return t ? t : "/tmp";
}

// The proxy process with its stderr captured line by line.
class Proxy {
 public:
  explicit Proxy(const std::vector<std::string>& args) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    std::vector<std::string> all = {BinaryPath()};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    err_ = fds[0];
  }
  ~Proxy() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    close(err_);
  }

  // Reads stderr until a line matches `pattern`; returns the first capture group.
  std::string WaitForLine(const std::string& pattern,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::regex re(pattern);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      size_t nl;
      while ((nl = pending_.find('\n')) != std::string::npos) {
        std::string line = pending_.substr(0, nl);
        pending_.erase(0, nl + 1);
        log_ += line + "\n";
        std::smatch m;
        if (std::regex_search(line, m, re)) return m.size() > 1 ? m[1].str() : line;
      }
      pollfd p{err_, POLLIN, 0};
      if (poll(&p, 1, 100) > 0) {
        char buf[4096];
        ssize_t n = read(err_, buf, sizeof(buf));
        if (n <= 0) break;
        pending_.append(buf, n);
      }
    }
    ADD_FAILURE() << "no line matching " << pattern << "; log so far:\n" << log_ << pending_;
    return "";
  }

  int Terminate() {
    kill(pid_, SIGTERM);
    return Wait();
  }
  int Wait() {
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int err_ = -1;
  std::string pending_;
  std::string log_;
};

std::string SnapshotJson(const std::string& version, int port, int backend) {
  return R"({"version":")" + version +
         R"(","gateway":"ns/gw","listeners":[{"name":"http","address":"127.0.0.1","port":)" +
         std::to_string(port) +
         R"(,"protocol":"HTTP","virtualHosts":[{"name":"ns/gw/http","hosts":[{"routes":[{"name":"ns/r",)"
         R"("match":{"path":{"type":"PREFIX","value":"/"}},"forward":{"backends":[{"cluster":"ns/echo:80","weight":1}]},)"
         R"("filters":[{"responseHeaderModifier":{"set":[{"name":"X-Version","value":")" +
         version +
         R"("}]}}]}]}]}]}],"clusters":[{"name":"ns/echo:80","endpoints":[{"address":"127.0.0.1","port":)" +
         std::to_string(backend) + R"(,"ready":true}]}]})";
}

void WriteFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << content;
  std::rename(tmp.c_str(), path.c_str());
}

TEST(BinaryTest, SnapshotFileModeWithAdminEndpoint) {
  testing::EchoServer echo("echo");
  echo.Start();
  int port = testing::FreePort();
  std::string file = TempDir() + "/snapshot.json";
  WriteFile(file, SnapshotJson("v1", port, echo.port()));
  Proxy proxy(
      {"--snapshot-file=" + file, "--workers=2", "--admin=127.0.0.1:0", "--drain-timeout-ms=500"});
  int admin = std::atoi(proxy.WaitForLine(R"re("msg":"admin listening".*"port":(\d+))re").c_str());
  ASSERT_GT(admin, 0);
  proxy.WaitForLine(R"re("msg":"snapshot applied","version":"v1")re");

  HttpClient a(admin);
  EXPECT_EQ(a.Get("/ready").status, 200);
  testing::Response dump = a.Get("/config_dump");
  EXPECT_EQ(dump.status, 200);
  EXPECT_NE(dump.body.find("\"version\": \"v1\""), std::string::npos) << dump.body;

  HttpClient c(port);
  EXPECT_EQ(c.Get("/").header("X-Version"), "v1");

  // A changed file is applied; a broken one is rejected and v2 keeps serving.
  WriteFile(file, SnapshotJson("v2", port, echo.port()));
  proxy.WaitForLine(R"re("msg":"snapshot applied","version":"v2")re");
  EXPECT_EQ(c.Get("/").header("X-Version"), "v2");
  WriteFile(file, "{ not json");
  proxy.WaitForLine(R"re("msg":"snapshot rejected")re");
  std::string bad = SnapshotJson("v3", port, echo.port());
  bad.replace(bad.find("ns/echo:80\",\"weight"), 10, "ns/none:80");
  WriteFile(file, bad);
  proxy.WaitForLine(R"re("msg":"snapshot rejected","version":"v3")re");
  EXPECT_EQ(c.Get("/").header("X-Version"), "v2");

  testing::Response metrics = a.Get("/metrics");
  EXPECT_NE(metrics.body.find("gatehouse_proxy_snapshots_rejected_total 2"), std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("gatehouse_proxy_snapshot_info{version=\"v2\"} 1"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("gatehouse_proxy_http_responses_total{code=\"2xx\"} 3"),
            std::string::npos);

  EXPECT_EQ(proxy.Terminate(), 0);
}

TEST(BinaryTest, NotReadyWithoutASnapshotAndBadFlagsFail) {
  // A controller that is not there: the proxy runs, reconnects, and is not ready.
  Proxy proxy({"--controller=127.0.0.1:" + std::to_string(testing::FreePort()), "--gateway=ns/gw",
               "--admin=127.0.0.1:0"});
  int admin = std::atoi(proxy.WaitForLine(R"re("msg":"admin listening".*"port":(\d+))re").c_str());
  ASSERT_GT(admin, 0);
  HttpClient a(admin);
  EXPECT_EQ(a.Get("/ready").status, 503);
  proxy.WaitForLine(R"re("msg":"controller reconnect scheduled")re");
  EXPECT_EQ(proxy.Terminate(), 0);

  Proxy bad({"--gateway=no-slash"});
  bad.WaitForLine("--gateway must be NAMESPACE/NAME");
  EXPECT_EQ(bad.Wait(), 2);
}

}  // namespace
}  // namespace gatehouse::proxy
