#include "proxy/config/tables.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include <boost/asio/ip/address.hpp>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace gatehouse::proxy::config {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ValidSniPattern(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  if (name.substr(0, 2) == "*.") name.remove_prefix(2);
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return false;
  }
  return !name.empty();
}

// Everything a snapshot refers to by name.
class Index {
 public:
  explicit Index(const pb::Snapshot& s) {
    for (const auto& secret : s.secrets()) secrets_.emplace(secret.name(), &secret);
  }
  const pb::Secret* Secret(const std::string& name) const {
    auto it = secrets_.find(name);
    return it == secrets_.end() ? nullptr : it->second;
  }

 private:
  std::unordered_map<std::string, const pb::Secret*> secrets_;
};

absl::Status CheckCluster(const Tables& t, const std::string& cluster, const std::string& where) {
  if (cluster.empty()) return absl::OkStatus();  // invalid backendRef: 500 at request time
  if (t.FindCluster(cluster) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": unknown cluster \"", cluster, "\""));
  }
  return absl::OkStatus();
}

absl::Status CheckFilters(const Tables& t,
                          const google::protobuf::RepeatedPtrField<pb::HttpFilter>& filters,
                          const std::string& where) {
  for (const auto& f : filters) {
    if (f.has_request_mirror()) {
      if (f.request_mirror().cluster().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": request mirror without cluster"));
      }
      if (absl::Status s = CheckCluster(t, f.request_mirror().cluster(), where); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

absl::Status CheckBackends(const Tables& t,
                           const google::protobuf::RepeatedPtrField<pb::WeightedBackend>& backends,
                           const std::string& where) {
  for (const auto& b : backends) {
    if (absl::Status s = CheckCluster(t, b.cluster(), where); !s.ok()) return s;
    if (absl::Status s = CheckFilters(t, b.filters(), where); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<const pb::Secret*>> ResolveSecrets(
    const Index& index, const google::protobuf::RepeatedPtrField<std::string>& names,
    const std::string& where) {
  std::vector<const pb::Secret*> out;
  for (const auto& name : names) {
    const pb::Secret* s = index.Secret(name);
    if (s == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown secret \"", name, "\""));
    }
    out.push_back(s);
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": no certificate"));
  return out;
}

absl::Status BuildClusters(const Index& index, const BuildOptions& options, Tables& t) {
  for (const auto& c : t.snapshot->clusters()) {
    if (c.name().empty()) return absl::InvalidArgumentError("cluster without a name");
    ClusterTable table;
    table.proto = &c;
    table.cursors = std::make_unique<RoundRobinCursor[]>(std::max(1, options.workers));
    for (const auto& e : c.endpoints()) {
      boost::system::error_code ec;
      auto ip = boost::asio::ip::make_address(e.address(), ec);
      if (ec || e.port() == 0 || e.port() > 65535) {
        return absl::InvalidArgumentError(
            absl::StrCat("cluster ", c.name(), ": invalid endpoint ", e.address(), ":", e.port()));
      }
      if (!e.ready()) continue;
      EndpointRef ref;
      ref.proto = &e;
      ref.address = boost::asio::ip::tcp::endpoint(ip, static_cast<uint16_t>(e.port()));
      // TLS connections were verified against one cluster's policy of one snapshot;
      // plaintext ones are shared by every cluster with the same endpoint and protocol.
      ref.pool_key = c.has_tls() ? absl::StrCat(c.name(), "|", t.snapshot->version(), "|tls|") : "";
      absl::StrAppend(&ref.pool_key, pb::Cluster::UpstreamProtocol_Name(c.protocol()), "|",
                      ip.is_v6() ? absl::StrCat("[", e.address(), "]") : e.address(), ":",
                      e.port());
      table.ready.push_back(std::move(ref));
    }
    if (c.has_tls()) {
      const pb::Secret* ca = nullptr;
      const pb::Secret* client = nullptr;
      if (!c.tls().ca_secret().empty()) {
        ca = index.Secret(c.tls().ca_secret());
        if (ca == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat("cluster ", c.name(), ": unknown secret \"", c.tls().ca_secret(), "\""));
        }
      }
      if (!c.tls().client_certificate_secret().empty()) {
        client = index.Secret(c.tls().client_certificate_secret());
        if (client == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat("cluster ", c.name(), ": unknown secret \"",
                           c.tls().client_certificate_secret(), "\""));
        }
      }
      auto ctx = MakeUpstreamTlsContext(c.tls(), ca, client);
      if (!ctx.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("cluster ", c.name(), ": ", ctx.status().message()));
      }
      table.tls = *std::move(ctx);
    }
    if (!t.clusters.emplace(c.name(), std::move(table)).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate cluster \"", c.name(), "\""));
    }
  }
  return absl::OkStatus();
}

absl::Status BuildHttpsTls(const Index& index, const pb::Listener& l, ListenerTable& out) {
  if (l.server_tls().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("listener ", l.name(), ": HTTPS without certificates"));
  }
  for (const auto& st : l.server_tls()) {
    std::string where = absl::StrCat("listener ", l.name());
    TlsEntry entry;
    for (const auto& n : st.server_names()) {
      if (!ValidSniPattern(n)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": invalid server name \"", n, "\""));
      }
      entry.server_names.push_back(Lower(n));
    }
    auto certs = ResolveSecrets(index, st.certificate_secrets(), where);
    if (!certs.ok()) return certs.status();
    const pb::Secret* ca = nullptr;
    if (st.has_client_validation() && !st.client_validation().ca_secret().empty()) {
      ca = index.Secret(st.client_validation().ca_secret());
      if (ca == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": unknown secret \"", st.client_validation().ca_secret(), "\""));
      }
    }
    auto ctx = MakeServerTlsContext(*certs, {st.alpn().begin(), st.alpn().end()}, ca,
                                    st.client_validation().allow_insecure_fallback());
    if (!ctx.ok())
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", ctx.status().message()));
    entry.context = *std::move(ctx);
    entry.virtual_host = st.virtual_host();
    out.tls.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

absl::Status BuildTlsRoutes(const Index& index, const Tables& t, const pb::Listener& l,
                            ListenerTable& out) {
  for (const auto& r : l.tls_routes()) {
    std::string where = absl::StrCat("listener ", l.name(), " tls route ", r.name());
    TlsRouteEntry entry;
    entry.route = &r;
    for (const auto& h : r.hostnames()) {
      if (!ValidSniPattern(h)) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": invalid hostname \"", h, "\""));
      }
      entry.hostnames.push_back(Lower(h));
    }
    if (absl::Status s = CheckBackends(t, r.backends(), where); !s.ok()) return s;
    if (r.mode() == pb::TlsRoute::TERMINATE) {
      auto certs = ResolveSecrets(index, r.certificate_secrets(), where);
      if (!certs.ok()) return certs.status();
      auto ctx = MakeServerTlsContext(*certs, {}, nullptr, false);
      if (!ctx.ok())
        return absl::InvalidArgumentError(absl::StrCat(where, ": ", ctx.status().message()));
      entry.context = *std::move(ctx);
    } else if (r.mode() != pb::TlsRoute::PASSTHROUGH) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown mode"));
    }
    out.tls_routes.push_back(std::move(entry));
  }
  return absl::OkStatus();
}

absl::Status CheckRoutes(const Tables& t, const pb::Listener& l) {
  for (const auto& vh : l.virtual_hosts()) {
    for (const auto& group : vh.hosts()) {
      for (const auto& route : group.routes()) {
        std::string where = absl::StrCat("listener ", l.name(), " route ", route.name());
        if (absl::Status s = CheckFilters(t, route.filters(), where); !s.ok()) return s;
        if (route.has_forward()) {
          if (absl::Status s = CheckBackends(t, route.forward().backends(), where); !s.ok())
            return s;
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string ListenerKey::ToString() const {
  std::string addr = address.empty() ? "*" : address;
  if (addr.find(':') != std::string::npos) addr = absl::StrCat("[", addr, "]");
  return absl::StrCat(pb::Protocol_Name(protocol), "/", addr, ":", port);
}

ListenerKey KeyOf(const pb::Listener& listener) {
  return ListenerKey{listener.address(), listener.port(), listener.protocol()};
}

int HostnameMatchRank(std::string_view pattern, std::string_view host) {
  if (pattern.empty()) return 0;
  if (pattern.substr(0, 2) == "*.") {
    std::string_view suffix = pattern.substr(1);  // ".foo.com"
    if (host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix) {
      return static_cast<int>(suffix.size());
    }
    return -1;
  }
  return pattern == host ? std::numeric_limits<int>::max() : -1;
}

const TlsEntry* ListenerTable::SelectTls(std::string_view sni) const {
  const TlsEntry* best = nullptr;
  int best_rank = -1;
  for (const auto& e : tls) {
    if (e.server_names.empty()) {
      if (best_rank < 0) {
        best = &e;
        best_rank = 0;
      }
      continue;
    }
    if (sni.empty()) continue;
    for (const auto& n : e.server_names) {
      int rank = HostnameMatchRank(n, sni);
      if (rank > best_rank) {
        best = &e;
        best_rank = rank;
      }
    }
  }
  return best;
}

const TlsRouteEntry* ListenerTable::SelectTlsRoute(std::string_view sni) const {
  const TlsRouteEntry* best = nullptr;
  int best_rank = -1;
  for (const auto& e : tls_routes) {
    if (e.hostnames.empty()) {
      if (best_rank < 0) {
        best = &e;
        best_rank = 0;
      }
      continue;
    }
    for (const auto& n : e.hostnames) {
      int rank = sni.empty() ? -1 : HostnameMatchRank(n, sni);
      if (rank > best_rank) {
        best = &e;
        best_rank = rank;
      }
    }
  }
  return best;
}

const EndpointRef* ClusterTable::NextEndpoint(int worker) const {
  if (ready.empty()) return nullptr;
  // Only this worker writes its cursor: a plain load+store, no locked instruction.
  auto& cursor = cursors[worker].next;
  uint32_t n = cursor.load(std::memory_order_relaxed);
  cursor.store(n + 1, std::memory_order_relaxed);
  return &ready[n % ready.size()];
}

const ListenerTable* Tables::FindListener(const ListenerKey& key) const {
  for (const auto& l : listeners) {
    if (l.key == key) return &l;
  }
  return nullptr;
}

const ClusterTable* Tables::FindCluster(std::string_view name) const {
  auto it = clusters.find(name);
  return it == clusters.end() ? nullptr : &it->second;
}

absl::StatusOr<std::shared_ptr<const Tables>> BuildTables(pb::Snapshot snapshot,
                                                          const BuildOptions& options) {
  auto t = std::make_shared<Tables>();
  t->snapshot = std::make_shared<const pb::Snapshot>(std::move(snapshot));
  const pb::Snapshot& s = *t->snapshot;
  if (s.version().empty()) return absl::InvalidArgumentError("snapshot without a version");
  Index index(s);
  {
    std::set<std::string> names;
    for (const auto& secret : s.secrets()) {
      if (!names.insert(secret.name()).second) {
        return absl::InvalidArgumentError(absl::StrCat("duplicate secret \"", secret.name(), "\""));
      }
    }
  }
  if (absl::Status st = BuildClusters(index, options, *t); !st.ok()) return st;

  std::set<std::string> names;
  for (const auto& l : s.listeners()) {
    std::string where = absl::StrCat("listener ", l.name());
    if (!names.insert(l.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("duplicate listener name \"", l.name(), "\""));
    }
    if (l.port() == 0 || l.port() > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": invalid port ", l.port()));
    }
    if (!l.address().empty()) {
      boost::system::error_code ec;
      boost::asio::ip::make_address(l.address(), ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": invalid address \"", l.address(), "\""));
      }
    }
    ListenerTable table;
    table.proto = &l;
    table.key = KeyOf(l);
    if (t->FindListener(table.key) != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": duplicate socket ", table.key.ToString()));
    }
    // A TCP-based and a UDP listener may share a port; two TCP-based ones may not.
    for (const auto& other : t->listeners) {
      bool udp = l.protocol() == pb::UDP, other_udp = other.key.protocol == pb::UDP;
      bool same_addr =
          other.key.address == l.address() || other.key.address.empty() || l.address().empty();
      if (other.key.port == l.port() && udp == other_udp && same_addr) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": port ", l.port(), " already used by listener ", other.proto->name()));
      }
    }
    switch (l.protocol()) {
      case pb::HTTP:
      case pb::HTTPS: {
        auto routes = router::RouteTable::Compile(l);
        if (!routes.ok()) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": ", routes.status().message()));
        }
        table.routes = *std::move(routes);
        if (absl::Status st = CheckRoutes(*t, l); !st.ok()) return st;
        if (l.protocol() == pb::HTTPS) {
          if (absl::Status st = BuildHttpsTls(index, l, table); !st.ok()) return st;
        }
        break;
      }
      case pb::TLS:
        if (absl::Status st = BuildTlsRoutes(index, *t, l, table); !st.ok()) return st;
        break;
      case pb::TCP:
      case pb::UDP:
        for (const auto& r : l.l4_routes()) {
          if (absl::Status st =
                  CheckBackends(*t, r.backends(), absl::StrCat(where, " route ", r.name()));
              !st.ok()) {
            return st;
          }
        }
        break;
      default:
        return absl::InvalidArgumentError(absl::StrCat(where, ": unknown protocol ", l.protocol()));
    }
    t->listeners.push_back(std::move(table));
  }
  return std::shared_ptr<const Tables>(std::move(t));
}

}  // namespace gatehouse::proxy::config
