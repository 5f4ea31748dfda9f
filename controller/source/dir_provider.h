// The directory-of-manifests source: every *.yaml/*.yml/*.json file in one
// directory, re-read when it changes (inotify, or polling when inotify is not
// available), with the desired status written back to one YAML file.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "controller/source/provider.h"

namespace gatehouse::source {

struct DirOptions {
  std::string dir;
  // Where WriteStatus puts the status of every object (YAML); empty: nowhere.
  std::string status_file;
  // Quiet time after the last file event before the directory is re-read.
  std::chrono::milliseconds debounce{50};
  // Upper bound on the wait for a file that is being written to be closed.
  std::chrono::milliseconds max_settle{500};
  // Rescan period when polling (no inotify, or force_polling).
  std::chrono::milliseconds poll_interval{100};
  bool force_polling = false;
  // Full rescan period even with inotify (catches events a watch cannot see).
  std::chrono::milliseconds resync_interval{2000};
};

// Identity of an object: (API group, kind, namespace, name).
using ObjectKey = std::tuple<std::string, std::string, std::string, std::string>;
ObjectKey KeyOf(const boost::json::object& obj);

class DirProvider : public Provider {
 public:
  explicit DirProvider(DirOptions options);
  ~DirProvider() override;

  // Loads the directory once (synchronously), calls on_change, then watches.
  void Start(std::function<void()> on_change) override;
  std::vector<ObjectPtr> Objects() const override;
  void WriteStatus(const std::vector<status::StatusUpdate>& updates) override;
  void Stop() override;

  // Per-file parse errors of the latest scan ("" entries are omitted).
  std::map<std::string, std::string> FileErrors() const;

  // Re-reads the directory now; true when the object set changed. Start() runs
  // this from its own thread; tests call it directly.
  bool Rescan();

 private:
  struct FileState {
    int64_t size = -1;
    int64_t mtime_ns = -1;
    uint64_t inode = 0;
    std::string content;
    // Last objects that parsed; kept when a later version of the file does not.
    std::vector<boost::json::object> objects;
    std::string error;
    uint64_t version = 0;  // bumped when `content` changes
  };
  struct Tracked {
    std::string
        spec_json;  // spec (or whole object minus metadata/status) to detect generation bumps
    std::string content_json;
    int64_t generation = 1;
    std::string resource_version;
    std::string creation_timestamp;
    // Where the object came from at the last rebuild, and what it became.
    std::string file;
    uint64_t file_version = 0;
    const boost::json::object* raw = nullptr;
    ObjectPtr finished;
  };

  void WatchLoop();
  // Rebuilds objects_ from files_; true when the set changed. Needs scan_mu_ and mu_.
  bool RebuildLocked();
  ObjectPtr Finish(boost::json::object obj, const ObjectKey& key);
  void LoadStatusFile();

  const DirOptions options_;
  std::function<void()> on_change_;

  // Serialises rescans; guards files_. Taken before mu_ when both are held.
  mutable std::mutex scan_mu_;
  std::map<std::string, FileState> files_;  // by file name
  mutable std::mutex mu_;
  std::map<ObjectKey, Tracked> tracked_;
  std::map<ObjectKey, boost::json::value> statuses_;  // last written
  std::vector<ObjectPtr> objects_;
  std::vector<ObjectKey> object_keys_;     // parallel to objects_
  std::map<ObjectKey, size_t> key_index_;  // object_keys_[i] -> i
  // What the status file holds, when known.
  std::optional<std::string> last_status_text_;
  uint64_t resource_version_counter_ = 0;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  int wake_fd_ = -1;
  int inotify_fd_ =
      -1;  // owned by the watch loop once it runs  // eventfd that wakes the watch loop on Stop()
  std::thread thread_;
};

}  // namespace gatehouse::source
