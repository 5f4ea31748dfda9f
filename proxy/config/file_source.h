// Snapshot-file mode: serve the snapshot in a file (protobuf JSON) instead of asking a
// controller, and re-apply it whenever the file changes. Used by proxy tests and
// benchmarks, where a controller would only add noise.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gatehouse/config/v1/config.pb.h"

namespace gatehouse::proxy::config {

// Parses a snapshot from protobuf JSON (JsonStringToMessage).
absl::StatusOr<::gatehouse::config::v1::Snapshot> ParseSnapshotJson(const std::string& json);

class FileSource {
 public:
  using ApplyFn = std::function<absl::Status(const ::gatehouse::config::v1::Snapshot&)>;

  // Told when the file does not parse (it is then not applied at all).
  using RejectFn = std::function<void()>;

  FileSource(std::string path, ApplyFn apply, RejectFn on_parse_error = nullptr,
             std::chrono::milliseconds poll = std::chrono::milliseconds(50));
  ~FileSource();

  // Loads the file once synchronously (so callers can fail fast), then watches it.
  absl::Status Start();
  void Stop();

 private:
  void Run();
  // Reads and applies the file if its (mtime, size, inode) changed since the last look.
  absl::Status Check(bool force);

  std::string path_;
  ApplyFn apply_;
  RejectFn on_parse_error_;
  std::chrono::milliseconds poll_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::string last_stamp_;
  std::string last_content_;
};

}  // namespace gatehouse::proxy::config
