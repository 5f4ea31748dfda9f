// The proxy's immutable view of one snapshot: the protobuf plus everything derived from
// it once (compiled route tables, TLS contexts, cluster lookups). Built and validated on
// the config thread, then published whole; workers only ever read it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "absl/status/statusor.h"
#include "gatehouse/config/v1/config.pb.h"
#include "proxy/config/tls_context.h"
#include "proxy/router/router.h"

namespace gatehouse::proxy::config {

namespace pb = ::gatehouse::config::v1;

// What identifies a socket across snapshots: same key => the socket stays open.
struct ListenerKey {
  std::string address;  // "" = all addresses
  uint32_t port = 0;
  pb::Protocol protocol = pb::PROTOCOL_UNSPECIFIED;

  bool operator==(const ListenerKey&) const = default;
  std::string ToString() const;
};
ListenerKey KeyOf(const pb::Listener& listener);

// One certificate choice of an HTTPS listener (a ServerTls entry).
struct TlsEntry {
  std::vector<std::string> server_names;  // lowercase; empty = default entry
  std::shared_ptr<ServerTlsContext> context;
  std::string virtual_host;
};

// One SNI route of a TLS listener.
struct TlsRouteEntry {
  const pb::TlsRoute* route = nullptr;
  std::vector<std::string> hostnames;         // lowercase; empty = any
  std::shared_ptr<ServerTlsContext> context;  // TERMINATE only
};

struct ListenerTable {
  const pb::Listener* proto = nullptr;
  ListenerKey key;
  std::shared_ptr<const router::RouteTable> routes;  // HTTP and HTTPS
  std::vector<TlsEntry> tls;                         // HTTPS
  std::vector<TlsRouteEntry> tls_routes;             // TLS

  // HTTPS: the certificate entry for an SNI name: exact > longest wildcard > default.
  // nullptr when nothing matches (the connection is then closed without an alert).
  const TlsEntry* SelectTls(std::string_view sni) const;
  // TLS: the route for an SNI name, same precedence; nullptr when none.
  const TlsRouteEntry* SelectTlsRoute(std::string_view sni) const;
};

// Per-worker round-robin cursor, padded so workers never share a cache line.
struct alignas(64) RoundRobinCursor {
  std::atomic<uint32_t> next{0};
};

// A ready endpoint with what the pools need precomputed, so the request path neither
// parses addresses nor builds strings.
struct EndpointRef {
  const pb::Endpoint* proto = nullptr;
  boost::asio::ip::tcp::endpoint address;
  std::string pool_key;  // "cluster-protocol|ip:port", unique per pool bucket
};

struct ClusterTable {
  const pb::Cluster* proto = nullptr;
  std::vector<EndpointRef> ready;                  // endpoints in rotation
  std::shared_ptr<boost::asio::ssl::context> tls;  // set when the cluster has UpstreamTls
  std::unique_ptr<RoundRobinCursor[]> cursors;     // one per worker

  // Round-robin over ready endpoints, per worker; nullptr when none is ready.
  const EndpointRef* NextEndpoint(int worker) const;
};

struct Tables {
  std::shared_ptr<const pb::Snapshot> snapshot;
  std::vector<ListenerTable> listeners;
  std::unordered_map<std::string_view, ClusterTable> clusters;  // keys view into snapshot

  const std::string& version() const { return snapshot->version(); }
  const ListenerTable* FindListener(const ListenerKey& key) const;
  const ClusterTable* FindCluster(std::string_view name) const;
};

struct BuildOptions {
  int workers = 1;
};

// Validates `snapshot` and derives its tables: every cluster and secret reference
// resolves, ports and addresses are valid, listener keys are unique, routes compile,
// certificates and keys parse and match. The error names what is wrong; the caller
// NACKs with it and keeps serving the previous tables.
absl::StatusOr<std::shared_ptr<const Tables>> BuildTables(pb::Snapshot snapshot,
                                                          const BuildOptions& options);

// Holds the tables being served. Publish from the config thread; Load from anywhere.
class TablesStore {
 public:
  std::shared_ptr<const Tables> Load() const { return current_.load(std::memory_order_acquire); }
  void Publish(std::shared_ptr<const Tables> tables) {
    current_.store(std::move(tables), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const Tables>> current_;
};

// Hostname matching shared by SNI selection: "foo.com" exact, "*.foo.com" any name with
// at least one more label, "" anything. Returns a rank (higher = more specific), or -1.
int HostnameMatchRank(std::string_view pattern, std::string_view host);

}  // namespace gatehouse::proxy::config
