// The controller's optional admin endpoint (--admin-listen): GET /ready (200
// after the first reconcile pass) and GET /debug/snapshots (every Gateway's
// current snapshot and its proxies' ACK state, as JSON). One thread, Beast.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "absl/status/status.h"

namespace gatehouse::cmd {

class AdminServer {
 public:
  struct Handlers {
    std::function<bool()> ready;
    std::function<std::string()> snapshots_json;
  };

  AdminServer(std::string listen, Handlers handlers);
  ~AdminServer();

  absl::Status Start();
  int port() const { return port_; }
  void Stop();

 private:
  void Accept();

  std::string listen_;
  Handlers handlers_;
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace gatehouse::cmd
