// The proxy's admin endpoint on its own thread, away from the workers: GET /ready
// (200 once a snapshot is served, else 503), GET /config_dump (the snapshot as JSON) and
// GET /metrics (Prometheus text).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/status/statusor.h"

namespace gatehouse::proxy::admin {

struct AdminHandlers {
  std::function<bool()> ready;
  std::function<std::string()> config_dump;  // JSON
  std::function<std::string()> metrics;      // Prometheus text
};

class AdminServer {
 public:
  explicit AdminServer(AdminHandlers handlers);
  ~AdminServer();

  // Binds ADDR:PORT (port 0 picks a free one) and serves on a new thread. Returns the
  // bound port.
  absl::StatusOr<int> Start(const std::string& address, int port);
  void Stop();

 private:
  AdminHandlers handlers_;
  boost::asio::io_context io_{1};
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::thread thread_;
};

}  // namespace gatehouse::proxy::admin
