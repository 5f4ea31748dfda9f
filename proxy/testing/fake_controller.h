// A stand-in controller for proxy tests: serves the ConfigStream on loopback, pushes
// the snapshots the test gives it, and records every ACK and NACK the proxy sends.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "gatehouse/config/v1/config.pb.h"
#include "gatehouse/service/v1/stream.pb.h"

namespace grpc {
class Server;
}

namespace gatehouse::proxy::testing {

struct Ack {
  std::string version;
  bool nack = false;
  std::string error;
};

class FakeController {
 public:
  FakeController();
  ~FakeController();

  // Serves on 127.0.0.1:port (0 = any free port). Returns the port.
  int Start(int port = 0);
  // Stops serving and cancels open streams (a controller crash, as the proxy sees it).
  void Stop();

  // Sends `snapshot` on the open stream (and to every later stream).
  void Push(const ::gatehouse::config::v1::Snapshot& snapshot);

  // Waits for the proxy's reply to `version`; nullopt on timeout.
  std::optional<Ack> WaitForAck(const std::string& version,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Waits until `n` streams have been opened in total.
  bool WaitForStreams(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  int streams() const;
  ::gatehouse::service::v1::Node last_node() const;
  // The version the proxy announced on the first message of the latest stream.
  std::string last_hello_version() const;

 private:
  class Service;
  friend class Service;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<::gatehouse::config::v1::Snapshot> latest_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  int streams_ = 0;
  ::gatehouse::service::v1::Node node_;
  std::string hello_version_;
  std::vector<Ack> acks_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace gatehouse::proxy::testing
