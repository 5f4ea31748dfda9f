#include "proxy/config/file_source.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "proxy/admin/log.h"

namespace gatehouse::proxy::config {

absl::StatusOr<::gatehouse::config::v1::Snapshot> ParseSnapshotJson(const std::string& json) {
  ::gatehouse::config::v1::Snapshot snapshot;
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonStringToMessage(json, &snapshot, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot JSON: ", status.ToString()));
  }
  return snapshot;
}

FileSource::FileSource(std::string path, ApplyFn apply, RejectFn on_parse_error,
                       std::chrono::milliseconds poll)
    : path_(std::move(path)),
      apply_(std::move(apply)),
      on_parse_error_(std::move(on_parse_error)),
      poll_(poll) {}

FileSource::~FileSource() { Stop(); }

absl::Status FileSource::Start() {
  absl::Status status = Check(/*force=*/true);
  thread_ = std::thread([this] { Run(); });
  return status;
}

void FileSource::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void FileSource::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, poll_, [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    (void)Check(/*force=*/false);
    lock.lock();
  }
}

absl::Status FileSource::Check(bool force) {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) {
    if (force) return absl::NotFoundError(absl::StrCat("snapshot file ", path_, ": not found"));
    return absl::OkStatus();
  }
  std::string stamp =
      absl::StrCat(st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, "/", st.st_size, "/", st.st_ino);
  if (!force && stamp == last_stamp_) return absl::OkStatus();
  std::ifstream in(path_, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string content = buf.str();
  last_stamp_ = stamp;
  // Editors and `cp` can expose a half-written file; an identical re-read is a no-op
  // and a partial one fails to parse and is retried on the next change.
  if (!force && content == last_content_) return absl::OkStatus();
  last_content_ = content;
  auto snapshot = ParseSnapshotJson(content);
  if (!snapshot.ok()) {
    log::Error("snapshot rejected", {{"version", ""}, {"error", snapshot.status().ToString()}});
    if (on_parse_error_) on_parse_error_();
    return snapshot.status();
  }
  return apply_(*snapshot);
}

}  // namespace gatehouse::proxy::config
