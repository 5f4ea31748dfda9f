// The whole proxy as an object: config source (controller stream or snapshot file),
// validation and swap, workers, listeners and the admin endpoint. main() only parses
// flags and waits for a signal; tests run it in-process.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gatehouse/config/v1/config.pb.h"
#include "proxy/admin/admin_server.h"
#include "proxy/admin/metrics.h"
#include "proxy/config/file_source.h"
#include "proxy/config/stream_client.h"
#include "proxy/config/tables.h"
#include "proxy/listener/manager.h"
#include "proxy/listener/worker.h"

namespace gatehouse::proxy {

struct ProxyOptions {
  // HOST:PORT. With neither controller nor snapshot_file, snapshots come only from
  // Apply() (in-process tests).
  std::string controller;
  std::string gateway_namespace;
  std::string gateway_name;
  std::string proxy_id;
  int workers = 1;
  // Admin endpoint; disabled when admin_address is empty.
  std::string admin_address;
  int admin_port = 0;
  std::string snapshot_file;
  listener::Limits limits;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

class ProxyServer {
 public:
  explicit ProxyServer(ProxyOptions options);
  ~ProxyServer();

  // Starts workers, the admin endpoint and the config source. In snapshot-file mode a
  // missing or invalid file is an error here.
  absl::Status Start();
  // Stops taking config, drains every connection (up to the drain timeout) and stops.
  void Stop();

  // Validates and applies one snapshot (what the config sources call). OK => ACK.
  absl::Status Apply(const ::gatehouse::config::v1::Snapshot& snapshot);

  // "" until a snapshot is served.
  std::string version() const;
  int admin_port() const { return admin_port_; }
  metrics::Registry& metrics() { return metrics_; }
  const config::TablesStore& store() const { return store_; }

 private:
  ProxyOptions options_;
  metrics::Registry metrics_;
  config::TablesStore store_;
  std::vector<std::unique_ptr<listener::Worker>> workers_;
  std::unique_ptr<listener::ListenerManager> listeners_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::unique_ptr<config::StreamClient> stream_;
  std::unique_ptr<config::FileSource> file_;
  std::mutex apply_mu_;
  int admin_port_ = 0;
  bool started_ = false;
};

}  // namespace gatehouse::proxy
