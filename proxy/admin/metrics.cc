#include "proxy/admin/metrics.h"

#include <chrono>
#include <cstdio>

namespace gatehouse::proxy::metrics {
namespace {

void Header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void Sample(std::string& out, const char* name, const std::string& labels, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", value);
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += buf;
  out += '\n';
}

// Label values are escaped per the exposition format (backslash, quote, newline).
std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

Registry::Registry(int workers) {
  for (int i = 0; i < workers; ++i) workers_.push_back(std::make_unique<WorkerStats>());
}

void Registry::SnapshotApplied(const std::string& version) {
  std::lock_guard<std::mutex> lock(mu_);
  version_ = version;
  ++applied_;
  last_applied_unix_ =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void Registry::SnapshotRejected() {
  std::lock_guard<std::mutex> lock(mu_);
  ++rejected_;
}

void Registry::ControllerConnected(bool connected) {
  std::lock_guard<std::mutex> lock(mu_);
  controller_connected_ = connected;
}

std::string Registry::RenderPrometheus() const {
  std::string out;
  out.reserve(4096);
  auto sum = [&](auto field) {
    double total = 0;
    for (const auto& w : workers_) total += static_cast<double>(field(*w));
    return total;
  };

  Header(out, "gatehouse_proxy_http_responses_total", "counter",
         "Downstream HTTP responses by status class (none = closed without a response).");
  static const char* kClasses[] = {"none", "1xx", "2xx", "3xx", "4xx", "5xx"};
  for (int c = 0; c < 6; ++c) {
    Sample(out, "gatehouse_proxy_http_responses_total", std::string("code=\"") + kClasses[c] + "\"",
           sum([c](const WorkerStats& w) { return w.responses[c].Get(); }));
  }
  Header(out, "gatehouse_proxy_downstream_connections_total", "counter",
         "Accepted downstream connections.");
  Sample(out, "gatehouse_proxy_downstream_connections_total", "",
         sum([](const WorkerStats& w) { return w.downstream_connections_total.Get(); }));
  Header(out, "gatehouse_proxy_downstream_connections_active", "gauge",
         "Open downstream connections.");
  Sample(out, "gatehouse_proxy_downstream_connections_active", "",
         sum([](const WorkerStats& w) { return w.downstream_connections_active.Get(); }));
  Header(out, "gatehouse_proxy_tls_handshakes_total", "counter",
         "Completed downstream TLS handshakes.");
  Sample(out, "gatehouse_proxy_tls_handshakes_total", "",
         sum([](const WorkerStats& w) { return w.tls_handshakes.Get(); }));
  Header(out, "gatehouse_proxy_tls_handshake_failures_total", "counter",
         "Downstream TLS handshakes that failed or were refused (unknown SNI).");
  Sample(out, "gatehouse_proxy_tls_handshake_failures_total", "",
         sum([](const WorkerStats& w) { return w.tls_handshake_failures.Get(); }));
  Header(out, "gatehouse_proxy_upstream_connects_total", "counter",
         "New upstream connections (result=ok|error).");
  Sample(out, "gatehouse_proxy_upstream_connects_total", "result=\"ok\"",
         sum([](const WorkerStats& w) { return w.upstream_connects.Get(); }));
  Sample(out, "gatehouse_proxy_upstream_connects_total", "result=\"error\"",
         sum([](const WorkerStats& w) { return w.upstream_connect_failures.Get(); }));
  Header(out, "gatehouse_proxy_upstream_reuses_total", "counter",
         "Upstream requests sent on a pooled keep-alive connection.");
  Sample(out, "gatehouse_proxy_upstream_reuses_total", "",
         sum([](const WorkerStats& w) { return w.upstream_reuses.Get(); }));
  Header(out, "gatehouse_proxy_upstream_connections_idle", "gauge",
         "Idle upstream connections held in the pools.");
  Sample(out, "gatehouse_proxy_upstream_connections_idle", "",
         sum([](const WorkerStats& w) { return w.upstream_connections_idle.Get(); }));
  Header(out, "gatehouse_proxy_l4_sessions_total", "counter",
         "TCP, TLS passthrough and UDP sessions.");
  Sample(out, "gatehouse_proxy_l4_sessions_total", "",
         sum([](const WorkerStats& w) { return w.l4_sessions_total.Get(); }));

  std::lock_guard<std::mutex> lock(mu_);
  Header(out, "gatehouse_proxy_snapshots_applied_total", "counter", "Snapshots applied (ACKed).");
  Sample(out, "gatehouse_proxy_snapshots_applied_total", "", static_cast<double>(applied_));
  Header(out, "gatehouse_proxy_snapshots_rejected_total", "counter",
         "Snapshots rejected (NACKed).");
  Sample(out, "gatehouse_proxy_snapshots_rejected_total", "", static_cast<double>(rejected_));
  Header(out, "gatehouse_proxy_snapshot_info", "gauge", "The snapshot version being served.");
  Sample(out, "gatehouse_proxy_snapshot_info", "version=\"" + Escape(version_) + "\"",
         version_.empty() ? 0 : 1);
  Header(out, "gatehouse_proxy_snapshot_applied_timestamp_seconds", "gauge",
         "Unix time the current snapshot was applied.");
  Sample(out, "gatehouse_proxy_snapshot_applied_timestamp_seconds", "", last_applied_unix_);
  Header(out, "gatehouse_proxy_controller_connected", "gauge",
         "1 while the config stream to the controller is up.");
  Sample(out, "gatehouse_proxy_controller_connected", "", controller_connected_ ? 1 : 0);
  return out;
}

}  // namespace gatehouse::proxy::metrics
