#include "controller/stream/registry.h"

#include <utility>

namespace gatehouse::stream {
namespace {

// Disconnected proxy records kept per Gateway (a restarted proxy usually comes
// back with a new id; the old record only matters until then).
constexpr size_t kMaxIdleRecords = 8;

}  // namespace

void Registry::SetOnStateChange(OnStateChange cb) {
  std::lock_guard<std::mutex> lock(mu_);
  on_change_ = std::move(cb);
}

void Registry::Mutate(const std::string& gateway, const std::function<void(Entry&)>& mutate) {
  OnStateChange notify;
  {
    std::lock_guard<std::mutex> lock(mu_);
    GatewayState before = StateLocked(gateway);
    mutate(entries_[gateway]);
    if (StateLocked(gateway) != before) notify = on_change_;
  }
  if (notify) notify(gateway);
}

void Registry::Publish(const std::string& gateway, SnapshotPtr snapshot) {
  Mutate(gateway, [&](Entry& e) {
    if (e.current && e.current->version() == snapshot->version()) return;
    e.current = snapshot;
    for (auto& [sub, has] : e.subscribers) {
      if (has == snapshot->version()) continue;
      has = snapshot->version();
      sub->Offer(snapshot);
    }
  });
}

void Registry::Remove(const std::string& gateway) {
  Mutate(gateway, [&](Entry& e) {
    e.current.reset();
    for (auto it = e.proxies.begin(); it != e.proxies.end();) {
      if (it->second.streams == 0) {
        it = e.proxies.erase(it);
      } else {
        it->second =
            ProxyRecord{.streams = it->second.streams, .last_event = it->second.last_event};
        ++it;
      }
    }
  });
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = entries_.find(gateway); it != entries_.end() && it->second.subscribers.empty()) {
    entries_.erase(it);
  }
}

void Registry::Subscribe(const std::string& gateway, const std::string& proxy_id, Subscriber* sub,
                         const std::string& serving_version) {
  Mutate(gateway, [&](Entry& e) {
    std::string& has = e.subscribers[sub];
    has = serving_version;
    ProxyRecord& rec = e.proxies[proxy_id];
    ++rec.streams;
    rec.last_event = ++event_counter_;
    // What the proxy already serves counts as ACKed, also when the controller
    // (restarted) has not published that version yet.
    if (!serving_version.empty()) {
      rec.acked_version = serving_version;
      if (rec.nacked_version == serving_version) {
        rec.nacked_version.clear();
        rec.nack_error.clear();
      }
    }
    if (e.current && e.current->version() != serving_version) {
      has = e.current->version();
      sub->Offer(e.current);
    }
  });
}

void Registry::Unsubscribe(const std::string& gateway, const std::string& proxy_id,
                           Subscriber* sub) {
  Mutate(gateway, [&](Entry& e) {
    if (e.subscribers.erase(sub) == 0) return;
    auto it = e.proxies.find(proxy_id);
    if (it == e.proxies.end()) return;
    --it->second.streams;
    // Drop the oldest idle records beyond the cap.
    while (true) {
      size_t idle = 0;
      auto oldest = e.proxies.end();
      for (auto p = e.proxies.begin(); p != e.proxies.end(); ++p) {
        if (p->second.streams > 0) continue;
        ++idle;
        if (oldest == e.proxies.end() || p->second.last_event < oldest->second.last_event) {
          oldest = p;
        }
      }
      if (idle <= kMaxIdleRecords) break;
      e.proxies.erase(oldest);
    }
  });
}

void Registry::RecordResponse(const std::string& gateway, const std::string& proxy_id,
                              const std::string& version, bool nack, const std::string& error) {
  Mutate(gateway, [&](Entry& e) {
    ProxyRecord& rec = e.proxies[proxy_id];
    rec.last_event = ++event_counter_;
    if (nack) {
      rec.nacked_version = version;
      rec.nack_error = error;
    } else {
      rec.acked_version = version;
      if (rec.nacked_version == version) rec.nacked_version.clear();
      rec.nack_error = rec.nacked_version.empty() ? "" : rec.nack_error;
    }
  });
}

SnapshotPtr Registry::Current(const std::string& gateway) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(gateway);
  return it == entries_.end() ? nullptr : it->second.current;
}

GatewayState Registry::State(const std::string& gateway) const {
  std::lock_guard<std::mutex> lock(mu_);
  return StateLocked(gateway);
}

std::map<std::string, GatewayState> Registry::States() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, GatewayState> out;
  for (const auto& [gateway, e] : entries_) out[gateway] = StateLocked(gateway);
  return out;
}

GatewayState Registry::StateLocked(const std::string& gateway) const {
  GatewayState st;
  auto it = entries_.find(gateway);
  if (it == entries_.end()) return st;
  const Entry& e = it->second;
  if (e.current) st.current_version = e.current->version();

  // Connected proxies decide; with none connected, the last one heard from
  // (it keeps serving what it ACKed).
  std::vector<const ProxyRecord*> considered;
  const ProxyRecord* latest = nullptr;
  for (const auto& [id, rec] : e.proxies) {
    if (rec.streams > 0) {
      ++st.connected_proxies;
      considered.push_back(&rec);
    }
    if (!latest || rec.last_event > latest->last_event) latest = &rec;
  }
  if (considered.empty() && latest) considered.push_back(latest);

  for (size_t i = 0; i < considered.size(); ++i) {
    const std::string& v = considered[i]->acked_version;
    if (i == 0) {
      st.acked_version = v;
    } else if (v != st.acked_version) {
      st.acked_version.clear();
      break;
    }
  }
  uint64_t newest_nack = 0;
  for (const auto& [id, rec] : e.proxies) {
    bool counts = rec.streams > 0 || (st.connected_proxies == 0 && &rec == latest);
    if (!counts || rec.nacked_version.empty()) continue;
    if (!st.current_version.empty() && rec.nacked_version != st.current_version) continue;
    if (rec.last_event >= newest_nack) {
      newest_nack = rec.last_event;
      st.nacked_version = rec.nacked_version;
      st.nack_error = rec.nack_error;
      st.nack_proxy_id = id;
    }
  }
  return st;
}

}  // namespace gatehouse::stream
