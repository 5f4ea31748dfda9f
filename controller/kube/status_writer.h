// Writes desired status through the status subresource with JSON merge patches.
// Skips objects whose cached status already equals the desired one, never
// writes from a cache that is resyncing, and keeps only the latest desired
// status per object in its queue so a burst of recomputes is one write.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "controller/kube/api_client.h"
#include "controller/kube/informer.h"
#include "controller/kube/kinds.h"
#include "controller/status/update.h"

namespace gatehouse::kube {

// What the writer remembers about its last successful write to an object: the
// status it asked for and the status the server stored (which can differ when
// the server prunes or defaults fields). Seeing the same pair again means the
// write already happened.
struct LastWrite {
  boost::json::value desired;
  boost::json::value stored;
};

enum class WriteDecision {
  kWrite,
  kEqual,           // the cached status is the desired one
  kAlreadyWritten,  // we wrote this desired status and the cache shows its result
  kStale,           // computed from an older resourceVersion than the cache holds
  kGone,            // the object is not in the cache
};

WriteDecision DecideWrite(const boost::json::object* cached, const status::StatusUpdate& update,
                          const LastWrite* last);

// The merge-patch body: every top-level status field of `desired` in full (the
// status fields are lists that a merge patch replaces whole), `null` for the
// fields the current status has and `desired` lacks, and the resourceVersion
// precondition when given.
boost::json::object StatusPatch(const boost::json::value& current,
                                const boost::json::value& desired,
                                std::string_view resource_version);

class StatusWriter {
 public:
  struct Hooks {
    // The watched kind for an apiVersion's group and a kind (nullopt: not watched).
    std::function<std::optional<KindInfo>(std::string_view api_version, std::string_view kind)>
        find_kind;
    // The cached object (nullptr if absent).
    std::function<ObjectPtr(const KindInfo&, std::string_view ns, std::string_view name)> get;
    // Whether updates computed in `epoch` may be written now (leader, synced,
    // no resync since).
    std::function<bool(uint64_t epoch)> may_write;
  };
  struct Stats {
    int written = 0;
    int skipped = 0;    // equal or already written
    int stale = 0;      // stale, gone, or not allowed to write
    int conflicts = 0;  // 409: the object changed; the next recompute retries
    int failed = 0;
  };

  StatusWriter(boost::asio::any_io_executor ex, std::shared_ptr<ApiClient> client, Hooks hooks,
               std::chrono::milliseconds backoff_min, std::chrono::milliseconds backoff_max);

  // Executor thread only. Queues the updates (a newer update for the same
  // object replaces a queued one) and starts draining if idle.
  void Enqueue(std::vector<status::StatusUpdate> updates, uint64_t epoch);

  Stats stats() const;

 private:
  struct Pending {
    status::StatusUpdate update;
    uint64_t epoch;
    uint64_t seq;  // detects a newer update for the same object during retries
  };
  boost::asio::awaitable<void> Drain();
  boost::asio::awaitable<void> WriteOne(Pending p);

  boost::asio::any_io_executor ex_;
  std::shared_ptr<ApiClient> client_;
  Hooks hooks_;
  std::chrono::milliseconds backoff_min_;
  std::chrono::milliseconds backoff_max_;
  std::deque<std::string> order_;         // keys in arrival order
  std::map<std::string, Pending> queue_;  // latest update per key
  std::map<std::string, uint64_t> latest_seq_;
  std::map<std::string, LastWrite> last_;
  uint64_t seq_ = 0;
  bool draining_ = false;
  mutable std::mutex stats_mu_;
  Stats stats_;
};

}  // namespace gatehouse::kube
