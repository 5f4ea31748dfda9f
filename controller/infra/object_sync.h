// Keeps the Kubernetes objects of each Gateway as desired: a worker thread
// applies changed sets (server-side apply), deletes what a set no longer has or
// what a removed Gateway had, retries failures with backoff and re-applies
// everything periodically so deleted objects come back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json/object.hpp>

#include "controller/kube/object_client.h"

namespace gatehouse::infra {

struct ObjectSyncOptions {
  std::chrono::milliseconds resync{60000};
  std::chrono::milliseconds backoff_min{200};
  std::chrono::milliseconds backoff_max{10000};
};

class ObjectSync {
 public:
  // `client` must outlive this.
  ObjectSync(kube::ObjectClient* client, ObjectSyncOptions options = {});
  ~ObjectSync();
  ObjectSync(const ObjectSync&) = delete;
  ObjectSync& operator=(const ObjectSync&) = delete;

  // The objects `key` should have from now on (apiVersion, kind, metadata.name
  // and namespace set). Setting the same set again costs nothing.
  void Set(const std::string& key, std::vector<boost::json::object> objects);
  // Deletes every object applied for `key`.
  void Remove(const std::string& key);
  // Ends the worker; objects stay as they are.
  void Stop();

  // True when every set is applied and every removal done (for tests).
  bool Settled() const;
  // Last error per key ("" when the last attempt succeeded).
  std::map<std::string, std::string> Errors() const;

 private:
  // (apiVersion, kind, namespace, name)
  using Ref = std::tuple<std::string, std::string, std::string, std::string>;
  struct Entry {
    std::vector<boost::json::object> desired;
    bool removed = false;
    bool dirty = true;
    std::set<Ref> applied;
    std::string error;
    std::chrono::milliseconds backoff{0};
    std::chrono::steady_clock::time_point not_before;
  };

  void Run();
  // Worker thread, without the lock: applies `desired`, deletes the rest of
  // `applied`. Returns the refs now applied and the first error.
  std::pair<std::set<Ref>, std::string> SyncOne(const std::vector<boost::json::object>& desired,
                                                const std::set<Ref>& applied);

  kube::ObjectClient* const client_;
  const ObjectSyncOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Entry> entries_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gatehouse::infra
