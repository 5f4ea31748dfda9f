// The gRPC ConfigStream server (callback API): one bidirectional stream per
// proxy, identified by its first message's Node, fed from the Registry with at
// most one write in flight per stream (newer snapshots replace queued ones).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "controller/stream/registry.h"

namespace gatehouse::stream {

struct ServerOptions {
  // host:port; port 0 picks a free one (see Server::port()).
  std::string listen = "127.0.0.1:18000";
  // Keepalive pings so a vanished proxy's stream is closed and its ACK state
  // stops counting as connected.
  int keepalive_time_ms = 10000;
  int keepalive_timeout_ms = 5000;
};

class Server {
 public:
  Server(ServerOptions options, Registry* registry);
  ~Server();

  absl::Status Start();
  // The port actually bound (after Start).
  int port() const { return port_; }
  // Ends every stream (proxies reconnect later) and stops serving.
  void Stop();

  // Streams currently open (for tests and /debug).
  int OpenStreams() const { return open_streams_.load(); }

 private:
  class Service;
  class Reactor;

  ServerOptions options_;
  Registry* registry_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<int> open_streams_{0};
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  bool stopped_ = false;
};

}  // namespace gatehouse::stream
