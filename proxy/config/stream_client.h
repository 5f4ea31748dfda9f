// The proxy's side of the controller's ConfigStream: one bidirectional gRPC stream on
// its own thread, receiving full snapshots and ACKing or NACKing each by version. When
// the controller is away it reconnects with exponential backoff and jitter while the
// workers keep serving the last good snapshot.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "gatehouse/config/v1/config.pb.h"

namespace grpc {
class ClientContext;
}

namespace gatehouse::proxy::config {

struct StreamClientOptions {
  std::string controller;  // HOST:PORT
  std::string gateway_namespace;
  std::string gateway_name;
  std::string proxy_id;
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
};

class StreamClient {
 public:
  // Applies one snapshot; OK => ACK, error => NACK with the message. Called on the
  // client's thread, one snapshot at a time.
  using ApplyFn = std::function<absl::Status(const ::gatehouse::config::v1::Snapshot&)>;
  // The version currently served ("" when none), sent on the first message of a stream.
  using VersionFn = std::function<std::string()>;
  // Told when the stream goes up or down (for metrics and logs).
  using ConnectedFn = std::function<void(bool)>;

  StreamClient(StreamClientOptions options, ApplyFn apply, VersionFn version,
               ConnectedFn connected = nullptr);
  ~StreamClient();

  void Start();
  // Cancels the stream and joins the thread.
  void Stop();

 private:
  void Run();
  // One stream until it ends. Returns true when at least one snapshot arrived.
  bool RunStream();
  void SleepBackoff(std::chrono::milliseconds delay);

  StreamClientOptions options_;
  ApplyFn apply_;
  VersionFn version_;
  ConnectedFn connected_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  grpc::ClientContext* active_ = nullptr;  // guarded by mu_
};

}  // namespace gatehouse::proxy::config
