// One informer per watched kind: lists the collection (paginated), then watches
// from the list's resourceVersion with bookmarks, keeps a cache keyed by
// namespace/name, relists on 410 Gone or a lost connection, and retries with
// backoff. Runs as a coroutine on the provider's executor.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "absl/status/status.h"
#include "controller/kube/api_client.h"
#include "controller/kube/kinds.h"

namespace gatehouse::kube {

// Same type as source::ObjectPtr.
using ObjectPtr = std::shared_ptr<const boost::json::object>;

struct InformerOptions {
  std::chrono::seconds watch_timeout{300};
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{30000};
  int page_size = 500;
};

class Informer {
 public:
  // Both hooks run on the executor thread and must not block.
  struct Hooks {
    std::function<void()> on_change;      // the cache's content changed
    std::function<void(bool)> on_synced;  // HasSynced() flipped
  };

  Informer(KindInfo kind, std::shared_ptr<ApiClient> client, InformerOptions options, Hooks hooks);

  // List+watch forever (until the executor stops). Spawn once.
  boost::asio::awaitable<void> Run();

  const KindInfo& kind() const { return kind_; }
  // True after a complete list, until a watch breaks in a way that may have
  // lost events (410 Gone, lost connection); true again after the relist.
  bool HasSynced() const { return synced_.load(); }
  std::string ResourceVersion() const;

  void AppendObjects(std::vector<ObjectPtr>& out) const;
  ObjectPtr Get(std::string_view ns, std::string_view name) const;
  size_t Size() const;

  enum class EventResult { kApplied, kUnchanged, kBookmark, kExpired, kError, kBadLine };
  // Parses and applies one watch event line (one JSON object).
  EventResult HandleEventLine(std::string_view line);

 private:
  enum class WatchEnd { kClean, kExpired, kFailed };

  boost::asio::awaitable<absl::Status> List();
  boost::asio::awaitable<WatchEnd> Watch();
  void SetSynced(bool synced);
  std::string Key(std::string_view ns, std::string_view name) const;

  const KindInfo kind_;
  const std::shared_ptr<ApiClient> client_;
  const InformerOptions options_;
  const Hooks hooks_;

  mutable std::mutex mu_;
  std::map<std::string, ObjectPtr> items_;  // guarded by mu_
  std::string resource_version_;            // guarded by mu_
  std::atomic<bool> synced_{false};
  int watch_lines_ = 0;  // lines seen by the current watch (executor only)
  std::mt19937 rng_{std::random_device{}()};
};

// A short message from an API error body (a Status object) or the raw text.
std::string ErrorMessage(const HttpResponse& res);

// Percent-encodes a query parameter value (continue tokens are base64).
std::string QueryEscape(std::string_view s);

}  // namespace gatehouse::kube
