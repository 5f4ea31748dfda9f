// gatehouse-proxy: serves one Gateway's snapshot. Flags only; the work is in ProxyServer.
//
//   gatehouse-proxy --controller=HOST:PORT --gateway=NAMESPACE/NAME [--proxy-id=ID]
//       [--workers=N] [--admin=ADDR:PORT] [--snapshot-file=PATH] [--drain-timeout-ms=N]
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

#include "proxy/admin/log.h"
#include "proxy/cmd/proxy_server.h"

namespace {

using gatehouse::proxy::ProxyOptions;
namespace log = gatehouse::proxy::log;

constexpr char kUsage[] =
    "usage: gatehouse-proxy --controller=HOST:PORT --gateway=NAMESPACE/NAME [--proxy-id=ID]\n"
    "         [--workers=N] [--admin=ADDR:PORT] [--snapshot-file=PATH] [--drain-timeout-ms=N]\n";

bool ParseInt(std::string_view s, int& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// "127.0.0.1:9901" or "[::1]:9901".
bool ParseHostPort(std::string_view s, std::string& host, int& port) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = s.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  host = std::string(h);
  return !host.empty() && ParseInt(s.substr(colon + 1), port) && port >= 0 && port <= 65535;
}

bool ParseFlags(int argc, char** argv, ProxyOptions& o, std::string& error) {
  int drain_ms = -1;
  unsigned hw = std::thread::hardware_concurrency();
  o.workers = hw == 0 ? 1 : static_cast<int>(hw);
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      error = "";
      return false;
    }
    size_t eq = arg.find('=');
    if (arg.substr(0, 2) != "--" || eq == std::string_view::npos) {
      error = "unexpected argument: " + std::string(arg);
      return false;
    }
    std::string_view name = arg.substr(2, eq - 2);
    std::string_view value = arg.substr(eq + 1);
    if (name == "controller") {
      o.controller = value;
    } else if (name == "gateway") {
      size_t slash = value.find('/');
      if (slash == std::string_view::npos || slash == 0 || slash + 1 == value.size()) {
        error = "--gateway must be NAMESPACE/NAME";
        return false;
      }
      o.gateway_namespace = value.substr(0, slash);
      o.gateway_name = value.substr(slash + 1);
    } else if (name == "proxy-id") {
      o.proxy_id = value;
    } else if (name == "workers") {
      if (!ParseInt(value, o.workers) || o.workers < 1 || o.workers > 256) {
        error = "--workers must be 1..256";
        return false;
      }
    } else if (name == "admin") {
      if (!ParseHostPort(value, o.admin_address, o.admin_port)) {
        error = "--admin must be ADDR:PORT";
        return false;
      }
    } else if (name == "snapshot-file") {
      o.snapshot_file = value;
    } else if (name == "drain-timeout-ms") {
      if (!ParseInt(value, drain_ms) || drain_ms < 0) {
        error = "--drain-timeout-ms must be a non-negative integer";
        return false;
      }
    } else {
      error = "unknown flag --" + std::string(name);
      return false;
    }
  }
  if (drain_ms >= 0) o.limits.drain_timeout = std::chrono::milliseconds(drain_ms);
  if (o.snapshot_file.empty()) {
    if (o.controller.empty() || o.gateway_name.empty()) {
      error = "--controller and --gateway are required (or --snapshot-file)";
      return false;
    }
  }
  if (o.proxy_id.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof(host) - 1);
    o.proxy_id = std::string(host) + "/" + std::to_string(getpid());
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ProxyOptions options;
  std::string error;
  if (!ParseFlags(argc, argv, options, error)) {
    if (!error.empty()) std::fprintf(stderr, "gatehouse-proxy: %s\n", error.c_str());
    std::fputs(kUsage, stderr);
    return error.empty() ? 0 : 2;
  }
  // Signals are taken synchronously by this thread; every other thread inherits the mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  gatehouse::proxy::ProxyServer server(options);
  log::Info("proxy starting", {{"gateway", options.gateway_namespace + "/" + options.gateway_name},
                               {"proxy_id", options.proxy_id},
                               {"workers", options.workers},
                               {"controller", options.controller},
                               {"snapshot_file", options.snapshot_file}});
  if (auto status = server.Start(); !status.ok()) {
    log::Error("proxy failed to start", {{"error", std::string(status.message())}});
    server.Stop();
    return 1;
  }
  int sig = 0;
  sigwait(&set, &sig);
  log::Info("proxy stopping", {{"signal", sig}});
  server.Stop();
  log::Info("proxy stopped", {});
  return 0;
}
