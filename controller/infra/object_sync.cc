#include "controller/infra/object_sync.h"

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "controller/kube/json_util.h"
#include "controller/source/log.h"

namespace gatehouse::infra {
namespace {

namespace json = boost::json;
using kube::MetaField;
using kube::StringField;

}  // namespace

ObjectSync::ObjectSync(kube::ObjectClient* client, ObjectSyncOptions options)
    : client_(client), options_(options) {
  thread_ = std::thread([this] { Run(); });
}

ObjectSync::~ObjectSync() { Stop(); }

void ObjectSync::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ObjectSync::Set(const std::string& key, std::vector<json::object> objects) {
  {
    std::lock_guard lock(mu_);
    Entry& e = entries_[key];
    if (!e.removed && e.desired == objects) return;
    e.backoff = std::chrono::milliseconds(0);
    e.not_before = {};
    e.desired = std::move(objects);
    e.removed = false;
    e.dirty = true;
  }
  cv_.notify_all();
}

void ObjectSync::Remove(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.removed) return;
    it->second.desired.clear();
    it->second.removed = true;
    it->second.dirty = true;
    it->second.backoff = std::chrono::milliseconds(0);
    it->second.not_before = {};
  }
  cv_.notify_all();
}

bool ObjectSync::Settled() const {
  std::lock_guard lock(mu_);
  if (busy_) return false;
  return std::none_of(entries_.begin(), entries_.end(),
                      [](const auto& kv) { return kv.second.dirty; });
}

std::map<std::string, std::string> ObjectSync::Errors() const {
  std::lock_guard lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [key, e] : entries_) out[key] = e.error;
  return out;
}

std::pair<std::set<ObjectSync::Ref>, std::string> ObjectSync::SyncOne(
    const std::vector<json::object>& desired, const std::set<Ref>& applied) {
  std::set<Ref> now;
  std::string error;
  for (const json::object& obj : desired) {
    Ref ref{std::string(StringField(obj, "apiVersion")), std::string(StringField(obj, "kind")),
            std::string(MetaField(obj, "namespace")), std::string(MetaField(obj, "name"))};
    auto st = client_->Apply(obj);
    if (st.ok()) {
      now.insert(ref);
    } else {
      // Still ours: a failed update does not make the object someone else's.
      if (applied.count(ref)) now.insert(ref);
      if (error.empty()) error = std::string(st.status().message());
    }
  }
  for (const Ref& ref : applied) {
    if (now.count(ref)) continue;
    const auto& [api_version, kind, ns, name] = ref;
    const kube::KindInfo* k = kube::ManagedKind(api_version, kind);
    if (k == nullptr) continue;
    absl::Status st = client_->Delete(*k, ns, name);
    if (!st.ok()) {
      now.insert(ref);  // try again next time
      if (error.empty()) error = std::string(st.message());
    }
  }
  return {std::move(now), std::move(error)};
}

void ObjectSync::Run() {
  auto next_resync = std::chrono::steady_clock::now() + options_.resync;
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= next_resync) {
      for (auto& [key, e] : entries_) e.dirty = true;
      next_resync = now + options_.resync;
    }
    // The first dirty entry that may be tried now; else sleep until one may.
    auto wake = next_resync;
    std::string key;
    for (auto& [k, e] : entries_) {
      if (!e.dirty) continue;
      if (e.not_before <= now) {
        key = k;
        break;
      }
      wake = std::min(wake, e.not_before);
    }
    if (key.empty()) {
      cv_.wait_until(lock, wake);
      continue;
    }
    Entry& e = entries_[key];
    e.dirty = false;
    busy_ = true;
    const std::vector<json::object> desired = e.desired;
    const std::set<Ref> applied = e.applied;
    const bool removed = e.removed;
    lock.unlock();
    auto [now_applied, error] = SyncOne(desired, applied);
    lock.lock();
    busy_ = false;
    Entry& after = entries_[key];
    after.applied = std::move(now_applied);
    if (after.error != error) {
      if (error.empty()) {
        log::Info("gateway objects synced", {{"gateway", key}});
      } else {
        log::Warn("gateway objects not synced", {{"gateway", key}, {"error", error}});
      }
    }
    after.error = error;
    if (!error.empty()) {
      after.dirty = true;
      after.backoff = std::clamp(after.backoff * 2, options_.backoff_min, options_.backoff_max);
      after.not_before = std::chrono::steady_clock::now() + after.backoff;
    } else {
      after.backoff = std::chrono::milliseconds(0);
      if (removed && after.removed && after.applied.empty()) entries_.erase(key);
    }
  }
}

}  // namespace gatehouse::infra
