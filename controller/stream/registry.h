// The controller's side of the config stream, without gRPC: the current
// snapshot of every Gateway, the proxy streams subscribed to each, and what each
// proxy last ACKed or NACKed. The gRPC server (server.h) feeds it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gatehouse/config/v1/config.pb.h"

namespace gatehouse::stream {

using SnapshotPtr = std::shared_ptr<const gatehouse::config::v1::Snapshot>;

// One proxy stream. Offer() must not block and must not call back into the
// registry: it is called with the registry's lock held.
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void Offer(SnapshotPtr snapshot) = 0;
};

// What the Gateway's proxies report, aggregated over its connected proxies (or,
// while none is connected, over the ones seen before: they keep serving).
struct GatewayState {
  // The snapshot version every considered proxy ACKed ("" if they disagree or
  // none ACKed anything).
  std::string acked_version;
  // The latest version a considered proxy NACKed, when it is the current one.
  std::string nacked_version;
  std::string nack_error;
  std::string nack_proxy_id;
  // Version of the snapshot currently published for the Gateway.
  std::string current_version;
  int connected_proxies = 0;

  bool operator==(const GatewayState&) const = default;
};

class Registry {
 public:
  // Called (without locks held, from a gRPC thread) whenever the GatewayState of
  // `gateway` changed because a proxy connected, disconnected, ACKed or NACKed.
  using OnStateChange = std::function<void(const std::string& gateway)>;
  void SetOnStateChange(OnStateChange cb);

  // Makes `snapshot` current for `gateway` ("namespace/name") and offers it to
  // every subscribed stream, unless its version is already current.
  void Publish(const std::string& gateway, SnapshotPtr snapshot);
  // Forgets the Gateway's snapshot and ACK state (its streams stay open).
  void Remove(const std::string& gateway);

  // A proxy stream said who it is. `serving_version` is what the proxy already
  // serves: the current snapshot is offered only when it differs (and counts as
  // ACKed when it is the same).
  void Subscribe(const std::string& gateway, const std::string& proxy_id, Subscriber* sub,
                 const std::string& serving_version);
  void Unsubscribe(const std::string& gateway, const std::string& proxy_id, Subscriber* sub);
  // An ACK (nack=false) or NACK of `version` from one proxy.
  void RecordResponse(const std::string& gateway, const std::string& proxy_id,
                      const std::string& version, bool nack, const std::string& error);

  SnapshotPtr Current(const std::string& gateway) const;
  GatewayState State(const std::string& gateway) const;
  std::map<std::string, GatewayState> States() const;

 private:
  struct ProxyRecord {
    int streams = 0;  // open streams with this proxy id
    std::string acked_version;
    std::string nacked_version;
    std::string nack_error;
    uint64_t last_event = 0;
  };
  struct Entry {
    SnapshotPtr current;
    // Each stream with the version it was last offered (or already served).
    std::map<Subscriber*, std::string> subscribers;
    std::map<std::string, ProxyRecord> proxies;
  };

  GatewayState StateLocked(const std::string& gateway) const;
  // Runs `mutate` under the lock and notifies when the Gateway's state changed.
  void Mutate(const std::string& gateway, const std::function<void(Entry&)>& mutate);

  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
  uint64_t event_counter_ = 0;
  OnStateChange on_change_;
};

}  // namespace gatehouse::stream
