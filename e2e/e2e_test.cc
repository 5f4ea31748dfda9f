// End to end: gatehouse-controller on a directory of YAML with the host
// provisioner, the one gatehouse-proxy it starts, two HTTP backends on
// 127.0.0.2 and 127.0.0.3. Checks routing by Host and path, the status file,
// and that editing a route file switches the same proxy process to the new
// route within a second while a client looping requests sees no error.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include "controller/resources/yaml.h"
#include "e2e/backend.h"

extern char** environ;

namespace gatehouse::e2e {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string g_controller_binary;
std::string g_proxy_binary;

int FreePort(const std::string& address) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address(address), 0));
  return acceptor.local_endpoint().port();
}

bool Eventually(std::chrono::milliseconds timeout, const std::function<bool()>& cond) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return cond();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes in place (truncate, then write), the way many editors save.
void EditFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::trunc);
  out << content;
}

// The status file's documents, keyed "Kind/namespace/name".
std::map<std::string, json::object> ReadStatus(const std::string& path) {
  std::map<std::string, json::object> out;
  auto docs = resources::YamlToJson(ReadFile(path));
  if (!docs.ok()) return out;
  for (auto& doc : *docs) {
    if (!doc.is_object()) continue;
    const json::object& o = doc.get_object();
    const json::object& meta = o.at("metadata").as_object();
    std::string ns =
        meta.contains("namespace") ? std::string(meta.at("namespace").as_string()) : "";
    out[std::string(o.at("kind").as_string()) + "/" + ns + "/" +
        std::string(meta.at("name").as_string())] = o;
  }
  return out;
}

// The condition `type` in `conditions`, as "Status/Reason" ("" when absent),
// and its observedGeneration.
std::pair<std::string, int64_t> Condition(const json::value* conditions, const std::string& type) {
  if (!conditions || !conditions->is_array()) return {"", 0};
  for (const auto& c : conditions->get_array()) {
    if (c.at("type").as_string() != type) continue;
    int64_t gen = c.as_object().contains("observedGeneration")
                      ? c.at("observedGeneration").to_number<int64_t>()
                      : 0;
    return {std::string(c.at("status").as_string()) + "/" + std::string(c.at("reason").as_string()),
            gen};
  }
  return {"", 0};
}

const json::value* GatewayConditions(const std::map<std::string, json::object>& st,
                                     const std::string& key) {
  auto it = st.find(key);
  if (it == st.end()) return nullptr;
  return it->second.at("status").as_object().if_contains("conditions");
}

const json::value* RouteConditions(const std::map<std::string, json::object>& st,
                                   const std::string& key) {
  auto it = st.find(key);
  if (it == st.end()) return nullptr;
  const json::value* parents = it->second.at("status").as_object().if_contains("parents");
  if (!parents || !parents->is_array() || parents->get_array().empty()) return nullptr;
  return parents->get_array()[0].as_object().if_contains("conditions");
}

// A keep-alive HTTP/1.1 client that reconnects after errors.
class Client {
 public:
  Client(std::string address, int port) : address_(std::move(address)), port_(port) {}

  struct Result {
    bool ok = false;  // transport worked
    int status = 0;
    std::string backend;
    std::string error;
    bool reused = false;  // sent on an already open connection
  };

  Result Get(const std::string& host, const std::string& target) {
    Result r;
    beast::error_code ec;
    if (!stream_) {
      stream_ = std::make_unique<beast::tcp_stream>(io_);
      stream_->expires_after(5s);
      stream_->connect(tcp::endpoint(asio::ip::make_address(address_), port_), ec);
      if (ec) return Fail(r, "connect: " + ec.message());
    } else {
      r.reused = true;
    }
    http::request<http::empty_body> req(http::verb::get, target, 11);
    req.set(http::field::host, host);
    req.keep_alive(true);
    stream_->expires_after(5s);
    http::write(*stream_, req, ec);
    if (ec) return Fail(r, "write: " + ec.message());
    http::response<http::string_body> res;
    http::read(*stream_, buffer_, res, ec);
    if (ec) return Fail(r, "read: " + ec.message());
    r.ok = true;
    r.status = res.result_int();
    r.backend = std::string(res["X-Backend"]);
    if (!res.keep_alive()) Close();
    return r;
  }

  void Close() {
    if (!stream_) return;
    beast::error_code ignored;
    stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.reset();
    buffer_.clear();
  }

 private:
  Result Fail(Result& r, std::string why) {
    r.error = std::move(why);
    Close();
    return r;
  }

  std::string address_;
  int port_;
  asio::io_context io_;
  std::unique_ptr<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

// The direct children of `pid` (across its threads).
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& task : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::istringstream in(ReadFile(task.path().string() + "/children"));
    for (pid_t child; in >> child;) out.push_back(child);
  }
  return out;
}

bool Alive(pid_t pid) { return ::kill(pid, 0) == 0; }

constexpr char kRouteFile[] = "route-foo.yaml";

std::string FooRoute(const std::string& a_service) {
  return R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: foo
  namespace: e2e
spec:
  parentRefs:
  - name: gw
  hostnames: ["foo.example.com"]
  rules:
  - matches:
    - path: {type: PathPrefix, value: /a}
    backendRefs:
    - {name: )" +
         a_service + R"(, port: 8080}
  - matches:
    - path: {type: PathPrefix, value: /b}
    backendRefs:
    - {name: svc-b, port: 8080}
)";
}

std::string ServiceYaml(const std::string& name, const Backend& backend) {
  std::string port = std::to_string(backend.port());
  return R"(apiVersion: v1
kind: Service
metadata:
  name: )" +
         name + R"(
  namespace: e2e
spec:
  ports:
  - {name: http, port: 8080, targetPort: )" +
         port + R"(}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: )" +
         name + R"(-1
  namespace: e2e
  labels: {kubernetes.io/service-name: )" +
         name + R"(}
addressType: IPv4
ports:
- {name: http, port: )" +
         port + R"(}
endpoints:
- addresses: [")" +
         backend.address() + R"("]
  conditions: {ready: true}
)";
}

class EndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = fs::path(tmp ? tmp : "/tmp") / ("e2e." + std::to_string(::getpid()));
    fs::create_directories(root_ / "manifests");
    const char* outputs = std::getenv("TEST_UNDECLARED_OUTPUTS_DIR");
    log_ = (outputs ? fs::path(outputs) : root_) / "controller.log";
  }

  void TearDown() override {
    StopController();
    if (HasFailure()) std::cerr << "---- controller and proxy log ----\n" << ReadFile(log_) << "\n";
    fs::remove_all(root_);
  }

  void Write(const std::string& name, const std::string& content) {
    std::ofstream(root_ / "manifests" / name) << content;
  }

  pid_t StartController(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {g_controller_binary};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, log_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int rc = posix_spawn(&controller_, cargv[0], &actions, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) controller_ = 0;
    return controller_;
  }

  // SIGTERM, then up to 15 s for a clean exit; returns the exit status.
  std::optional<int> StopController() {
    if (controller_ <= 0) return std::nullopt;
    ::kill(controller_, SIGTERM);
    int status = 0;
    auto deadline = Clock::now() + 15s;
    while (::waitpid(controller_, &status, WNOHANG) == 0) {
      if (Clock::now() > deadline) {
        ::kill(controller_, SIGKILL);
        ::waitpid(controller_, &status, 0);
        controller_ = 0;
        return std::nullopt;
      }
      std::this_thread::sleep_for(20ms);
    }
    controller_ = 0;
    return status;
  }

  fs::path root_;
  fs::path log_;
  pid_t controller_ = 0;
};

TEST_F(EndToEndTest, RoutesByHostAndPathAndSwitchesRoutesWithoutErrors) {
  Backend a("backend-a", "127.0.0.2");
  Backend b("backend-b", "127.0.0.3");
  ASSERT_TRUE(a.Start());
  ASSERT_TRUE(b.Start());
  const int gateway_port = FreePort("127.0.0.1");
  const int stream_port = FreePort("127.0.0.1");

  Write("class.yaml", R"(apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gatehouse}
spec: {controllerName: gatehouse.dev/gateway-controller}
)");
  Write("gateway.yaml", R"(apiVersion: v1
kind: Namespace
metadata: {name: e2e}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: e2e}
spec:
  gatewayClassName: gatehouse
  addresses:
  - {type: IPAddress, value: 127.0.0.1}
  listeners:
  - {name: http, protocol: HTTP, port: )" +
                            std::to_string(gateway_port) + R"(}
)");
  Write("services.yaml", ServiceYaml("svc-a", a) + "---\n" + ServiceYaml("svc-b", b));
  Write(kRouteFile, FooRoute("svc-a"));
  Write("route-bar.yaml", R"(apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bar, namespace: e2e}
spec:
  parentRefs: [{name: gw}]
  hostnames: ["bar.example.com"]
  rules:
  - backendRefs: [{name: svc-b, port: 8080}]
)");

  const std::string status_file = (root_ / "status.yaml").string();
  ASSERT_GT(StartController({"--source=dir:" + (root_ / "manifests").string(),
                             "--status-file=" + status_file,
                             "--stream-listen=127.0.0.1:" + std::to_string(stream_port),
                             "--provisioner=host", "--proxy-binary=" + g_proxy_binary,
                             "--proxy-workers=1", "--address-pool=127.0.0.1-127.0.0.1"}),
            0);

  // Status: the Gateway is Programmed once its proxy ACKed; routes are accepted.
  ASSERT_TRUE(Eventually(20s, [&] {
    auto st = ReadStatus(status_file);
    return Condition(GatewayConditions(st, "Gateway/e2e/gw"), "Programmed").first ==
           "True/Programmed";
  })) << ReadFile(status_file);
  {
    auto st = ReadStatus(status_file);
    EXPECT_EQ(Condition(GatewayConditions(st, "Gateway/e2e/gw"), "Accepted").first,
              "True/Accepted");
    EXPECT_EQ(Condition(GatewayConditions(st, "GatewayClass//gatehouse"), "Accepted").first,
              "True/Accepted");
    for (const char* route : {"HTTPRoute/e2e/foo", "HTTPRoute/e2e/bar"}) {
      EXPECT_EQ(Condition(RouteConditions(st, route), "Accepted").first, "True/Accepted") << route;
      EXPECT_EQ(Condition(RouteConditions(st, route), "ResolvedRefs").first, "True/ResolvedRefs")
          << route;
    }
    const json::value* addresses =
        st["Gateway/e2e/gw"].at("status").as_object().if_contains("addresses");
    ASSERT_NE(addresses, nullptr);
    EXPECT_EQ(json::serialize(*addresses), R"([{"type":"IPAddress","value":"127.0.0.1"}])");
  }

  // One proxy, started by the controller.
  std::vector<pid_t> proxies = ChildrenOf(controller_);
  ASSERT_EQ(proxies.size(), 1u);
  const pid_t proxy = proxies[0];

  // Routing by Host and path.
  Client client("127.0.0.1", gateway_port);
  struct Case {
    std::string host, path;
    int status;
    std::string backend;
  };
  for (const Case& c : std::vector<Case>{{"foo.example.com", "/a", 200, "backend-a"},
                                         {"foo.example.com", "/a/deeper?x=1", 200, "backend-a"},
                                         {"foo.example.com", "/b", 200, "backend-b"},
                                         {"bar.example.com", "/a", 200, "backend-b"},
                                         {"bar.example.com:80", "/anything", 200, "backend-b"},
                                         {"foo.example.com", "/c", 404, ""},
                                         {"foo.example.com", "/ab", 404, ""},
                                         {"other.example.com", "/a", 404, ""}}) {
    Client::Result r = client.Get(c.host, c.path);
    ASSERT_TRUE(r.ok) << c.host << c.path << ": " << r.error;
    EXPECT_EQ(r.status, c.status) << c.host << c.path;
    EXPECT_EQ(r.backend, c.backend) << c.host << c.path;
  }
  client.Close();

  // Edit the route (/a moves to backend-b) while two clients loop: one on a
  // keep-alive connection, one with a new connection per request.
  struct Loop {
    std::atomic<int> requests{0}, errors{0}, connections{0};
    std::atomic<bool> switched{false}, flapped{false};
    Clock::time_point switched_at;
    std::string first_error;
  };
  Loop keepalive, fresh;
  std::atomic<bool> stop{false};
  auto run = [&](Loop& loop, bool reuse) {
    Client c("127.0.0.1", gateway_port);
    while (!stop.load()) {
      Client::Result r = c.Get("foo.example.com", "/a");
      ++loop.requests;
      if (!r.reused) ++loop.connections;
      if (!r.ok || r.status != 200 || (r.backend != "backend-a" && r.backend != "backend-b")) {
        if (loop.errors++ == 0) {
          loop.first_error =
              r.ok ? "status " + std::to_string(r.status) + " from \"" + r.backend + "\"" : r.error;
        }
        continue;
      }
      if (r.backend == "backend-b" && !loop.switched.load()) {
        loop.switched_at = Clock::now();
        loop.switched = true;
      } else if (r.backend == "backend-a" && loop.switched.load()) {
        loop.flapped = true;
      }
      if (!reuse) c.Close();
    }
  };
  std::thread t1(run, std::ref(keepalive), true);
  std::thread t2(run, std::ref(fresh), false);
  std::this_thread::sleep_for(300ms);
  const auto edited_at = Clock::now();
  EditFile((root_ / "manifests" / kRouteFile).string(), FooRoute("svc-b"));
  bool switched =
      Eventually(5s, [&] { return keepalive.switched.load() && fresh.switched.load(); });
  std::this_thread::sleep_for(300ms);
  stop = true;
  t1.join();
  t2.join();

  ASSERT_TRUE(switched);
  auto latency = [&](const Loop& l) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(l.switched_at - edited_at).count();
  };
  std::cerr << "switch after " << latency(keepalive) << " ms (keep-alive), " << latency(fresh)
            << " ms (new connections); requests " << keepalive.requests << " + " << fresh.requests
            << "\n";
  EXPECT_LT(latency(keepalive), 1000);
  EXPECT_LT(latency(fresh), 1000);
  EXPECT_EQ(keepalive.errors.load(), 0) << keepalive.first_error;
  EXPECT_EQ(fresh.errors.load(), 0) << fresh.first_error;
  EXPECT_FALSE(keepalive.flapped.load());
  EXPECT_FALSE(fresh.flapped.load());
  // The keep-alive client never needed a new connection: the swap kept it.
  EXPECT_EQ(keepalive.connections.load(), 1);
  EXPECT_GT(keepalive.requests.load(), 10);
  // Same proxy process.
  EXPECT_EQ(ChildrenOf(controller_), std::vector<pid_t>{proxy});

  // The status follows the edit: the route's new generation is observed and the
  // Gateway is Programmed again once the proxy ACKed the new snapshot.
  EXPECT_TRUE(Eventually(5s, [&] {
    auto st = ReadStatus(status_file);
    auto route = Condition(RouteConditions(st, "HTTPRoute/e2e/foo"), "Accepted");
    return route.first == "True/Accepted" && route.second == 2 &&
           Condition(GatewayConditions(st, "Gateway/e2e/gw"), "Programmed").first ==
               "True/Programmed";
  })) << ReadFile(status_file);

  // A clean stop takes the proxy down with the controller.
  std::optional<int> exit_status = StopController();
  ASSERT_TRUE(exit_status.has_value()) << "controller did not stop on SIGTERM";
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0);
  EXPECT_TRUE(Eventually(5s, [&] { return !Alive(proxy); }));
}

}  // namespace
}  // namespace gatehouse::e2e

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--controller=", 0) == 0) gatehouse::e2e::g_controller_binary = arg.substr(13);
    if (arg.rfind("--proxy=", 0) == 0) gatehouse::e2e::g_proxy_binary = arg.substr(8);
  }
  if (gatehouse::e2e::g_controller_binary.empty() || gatehouse::e2e::g_proxy_binary.empty()) {
    std::cerr << "usage: e2e_test --controller=PATH --proxy=PATH\n";
    return 2;
  }
  // Relative runfiles paths must survive the controller's own cwd-independent use.
  gatehouse::e2e::g_controller_binary =
      std::filesystem::absolute(gatehouse::e2e::g_controller_binary).string();
  gatehouse::e2e::g_proxy_binary =
      std::filesystem::absolute(gatehouse::e2e::g_proxy_binary).string();
  return RUN_ALL_TESTS();
}
