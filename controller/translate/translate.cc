#include "controller/translate/translate.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <set>

#include "controller/graph/hostname.h"
#include "controller/translate/http_routes.h"

namespace gatehouse::translate {

namespace cfg = gatehouse::config::v1;

namespace {

std::string_view ProtocolName(graph::Protocol p) {
  switch (p) {
    case graph::Protocol::kHTTP:
      return "http";
    case graph::Protocol::kHTTPS:
      return "https";
    case graph::Protocol::kTLS:
      return "tls";
    case graph::Protocol::kTCP:
      return "tcp";
    case graph::Protocol::kUDP:
      return "udp";
    case graph::Protocol::kUnsupported:
      break;
  }
  return "";
}

cfg::Protocol ToProto(graph::Protocol p) {
  switch (p) {
    case graph::Protocol::kHTTP:
      return cfg::HTTP;
    case graph::Protocol::kHTTPS:
      return cfg::HTTPS;
    case graph::Protocol::kTLS:
      return cfg::TLS;
    case graph::Protocol::kTCP:
      return cfg::TCP;
    case graph::Protocol::kUDP:
      return cfg::UDP;
    case graph::Protocol::kUnsupported:
      break;
  }
  return cfg::PROTOCOL_UNSPECIFIED;
}

cfg::Cluster::UpstreamProtocol ToProto(graph::UpstreamProtocol p) {
  switch (p) {
    case graph::UpstreamProtocol::kHTTP1:
      return cfg::Cluster::HTTP1;
    case graph::UpstreamProtocol::kH2C:
      return cfg::Cluster::H2C;
    case graph::UpstreamProtocol::kWebSocket:
      return cfg::Cluster::WEBSOCKET;
    case graph::UpstreamProtocol::kH2:
      return cfg::Cluster::H2;
    case graph::UpstreamProtocol::kRaw:
      return cfg::Cluster::RAW;
  }
  return cfg::Cluster::HTTP1;
}

bool Older(const resources::Route* a, const resources::Route* b) {
  if (a->meta.creation_timestamp != b->meta.creation_timestamp) {
    return a->meta.creation_timestamp < b->meta.creation_timestamp;
  }
  if (a->meta.ns != b->meta.ns) return a->meta.ns < b->meta.ns;
  return a->meta.name < b->meta.name;
}

// Attachments of a listener, oldest route first (the spec's tie-breaker for L4).
std::vector<const graph::Attachment*> OldestFirst(const graph::Listener& l) {
  std::vector<const graph::Attachment*> out;
  for (const auto& a : l.routes) out.push_back(&a);
  std::sort(out.begin(), out.end(), [](const graph::Attachment* a, const graph::Attachment* b) {
    return Older(a->route->res, b->route->res);
  });
  return out;
}

// Specificity of a route's own hostname: (0 exact | 1 wildcard | 2 none, length);
// exact first, then longer wildcards, then none (the proxy's debug order check
// ranks Route.route_hostname the same way).
std::pair<int, size_t> HostnameRank(const std::string& h) {
  if (h.empty()) return {2, 0};
  return {h.rfind("*.", 0) == 0 ? 1 : 0, h.size()};
}

bool MoreSpecific(const std::pair<int, size_t>& a, const std::pair<int, size_t>& b) {
  return a.first < b.first || (a.first == b.first && a.second > b.second);
}

// The most specific of the route's own hostnames that yields `effective` on a
// listener ("" when the route has none).
std::string OriginalHostname(const std::string& listener,
                             const std::vector<std::string>& route_hostnames,
                             const std::string& effective) {
  std::string best;
  for (const std::string& r : route_hostnames) {
    if (graph::IntersectHostnames(listener, r) != effective) continue;
    if (MoreSpecific(HostnameRank(r), HostnameRank(best))) best = r;
  }
  return best;
}

class Builder {
 public:
  Builder(const graph::Graph& g, const graph::Gateway& gw) : g_(g), gw_(gw) {}

  cfg::Snapshot Build(const TranslateOptions& options) {
    cfg::Snapshot snap;
    snap.set_gateway(gw_.Key());
    std::vector<std::string> addresses = options.bind_addresses;
    if (addresses.empty()) addresses.push_back("");
    // (address, port, protocol) -> graph listeners merged there, in precedence order.
    std::map<std::tuple<std::string, int32_t, int>, std::vector<const graph::Listener*>> ports;
    for (const graph::Listener* l : gw_.AllListeners()) {
      if (!l->Programmable()) continue;
      if (l->listener_set != nullptr && !l->listener_set->accepted) continue;
      for (const std::string& addr : addresses) {
        ports[{addr, l->Port(), static_cast<int>(l->protocol)}].push_back(l);
      }
    }
    for (const auto& [key, listeners] : ports) {
      const auto& [addr, port, proto] = key;
      cfg::Listener* out = snap.add_listeners();
      std::string name =
          std::string(ProtocolName(listeners[0]->protocol)) + "-" + std::to_string(port);
      if (addresses.size() > 1) name += "-" + addr;
      out->set_name(name);
      out->set_address(addr);
      out->set_port(static_cast<uint32_t>(port));
      out->set_protocol(ToProto(listeners[0]->protocol));
      for (const graph::Listener* l : listeners) AddListener(*l, out);
    }
    // Clusters add the CA bundles and client certificates they use to secrets_,
    // so secrets are written last (in name order, like clusters).
    for (const std::string& name : clusters_) AddCluster(name, &snap);
    for (const std::string& name : secrets_) AddSecret(name, &snap);
    snap.set_version(ContentVersion(snap));
    return snap;
  }

 private:
  void AddListener(const graph::Listener& l, cfg::Listener* out) {
    switch (l.protocol) {
      case graph::Protocol::kHTTP:
      case graph::Protocol::kHTTPS:
        AddVirtualHost(l, out);
        if (l.protocol == graph::Protocol::kHTTPS) {
          AddServerTls(l, out);
          out->set_detect_misdirected_requests(true);
        }
        break;
      case graph::Protocol::kTLS:
        if (!l.passthrough) AddServerTls(l, out);
        AddTlsRoutes(l, out);
        break;
      case graph::Protocol::kTCP:
      case graph::Protocol::kUDP:
        for (const graph::Attachment* a : OldestFirst(l)) {
          auto* r = out->add_l4_routes();
          r->set_name(a->route->Key());
          AddBackends(*a->route, r->mutable_backends());
        }
        break;
      case graph::Protocol::kUnsupported:
        break;
    }
  }

  void AddVirtualHost(const graph::Listener& l, cfg::Listener* out) {
    auto* vh = out->add_virtual_hosts();
    vh->set_name(l.QualifiedName());
    vh->set_hostname(l.hostname);
    std::map<std::string, std::vector<SortableRoute>> by_host;
    std::vector<std::string> order;
    for (const graph::Attachment& a : l.routes) {
      std::vector<SortableRoute> routes;
      AppendRoutes(g_, *a.route, routes);
      for (const SortableRoute& s : routes) UseRoute(s.route);
      for (const std::string& h : a.hostnames) {
        std::string own = OriginalHostname(l.hostname, a.route->res->hostnames, h);
        auto [rank, length] = HostnameRank(own);
        auto& list = by_host[h];
        for (const SortableRoute& s : routes) {
          list.push_back(s);
          list.back().host_rank = rank;
          list.back().host_length = length;
          list.back().route.set_route_hostname(own);
        }
      }
    }
    for (auto& [host, routes] : by_host) {
      SortByPrecedence(routes);
      auto* hr = vh->add_hosts();
      hr->set_hostname(host);
      for (auto& s : routes) *hr->add_routes() = std::move(s.route);
    }
  }

  void AddServerTls(const graph::Listener& l, cfg::Listener* out) {
    auto* tls = out->add_server_tls();
    if (!l.hostname.empty()) tls->add_server_names(l.hostname);
    for (const std::string& s : l.certificates) {
      tls->add_certificate_secrets(s);
      secrets_.insert(s);
    }
    tls->set_virtual_host(l.QualifiedName());
    if (!l.frontend.ca_bundle.empty()) {
      tls->mutable_client_validation()->set_ca_secret(l.frontend.ca_bundle);
      tls->mutable_client_validation()->set_allow_insecure_fallback(l.frontend.insecure_fallback);
      secrets_.insert(l.frontend.ca_bundle);
    }
    if (l.protocol == graph::Protocol::kHTTPS) {
      tls->add_alpn("h2");
      tls->add_alpn("http/1.1");
    }
  }

  // TLSRoutes that share an SNI name are ordered like HTTPRoutes: by their own
  // hostname's specificity, then age (the proxy takes the first match).
  void AddTlsRoutes(const graph::Listener& l, cfg::Listener* out) {
    std::vector<const graph::Attachment*> order = OldestFirst(l);
    auto specificity = [&](const graph::Attachment* a) {
      std::pair<int, size_t> best{2, 0};
      for (const std::string& h : a->hostnames) {
        auto rank = HostnameRank(OriginalHostname(l.hostname, a->route->res->hostnames, h));
        if (MoreSpecific(rank, best)) best = rank;
      }
      return std::make_pair(best.first, -static_cast<int64_t>(best.second));
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](const graph::Attachment* a, const graph::Attachment* b) {
                       return specificity(a) < specificity(b);
                     });
    for (const graph::Attachment* a : order) {
      auto* r = out->add_tls_routes();
      r->set_name(a->route->Key());
      for (const std::string& h : a->hostnames) {
        if (!h.empty()) r->add_hostnames(h);
      }
      r->set_mode(l.passthrough ? cfg::TlsRoute::PASSTHROUGH : cfg::TlsRoute::TERMINATE);
      if (!l.passthrough) {
        for (const std::string& s : l.certificates) r->add_certificate_secrets(s);
      }
      AddBackends(*a->route, r->mutable_backends(), /*originate_tls=*/!l.passthrough);
      if (!l.passthrough) {
        for (const auto& b : r->backends()) terminated_clusters_.insert(b.cluster());
      }
    }
  }

  // L4 routes: every rule's backends in one weighted set. Behind TLS termination
  // (`originate_tls`) a backend whose BackendTLSPolicy is invalid gets no
  // traffic (an empty cluster), never a connection in the clear.
  void AddBackends(const graph::Route& route,
                   google::protobuf::RepeatedPtrField<cfg::WeightedBackend>* out,
                   bool originate_tls = false) {
    for (const graph::RouteRule& rr : route.rules) {
      for (const graph::Backend& b : rr.backends) {
        auto* wb = out->Add();
        auto c = g_.clusters.find(b.cluster);
        bool refused = originate_tls && c != g_.clusters.end() && !c->second.tls_error.empty();
        wb->set_cluster(refused ? "" : b.cluster);
        wb->set_weight(static_cast<uint32_t>(std::max(0, b.weight)));
        if (!refused && !b.cluster.empty()) clusters_.insert(b.cluster);
      }
    }
  }

  void UseRoute(const cfg::Route& r) {
    auto use_filters = [&](const auto& filters) {
      for (const auto& f : filters) {
        if (f.has_request_mirror()) clusters_.insert(f.request_mirror().cluster());
      }
    };
    use_filters(r.filters());
    if (r.has_forward()) {
      for (const auto& b : r.forward().backends()) {
        if (!b.cluster().empty()) clusters_.insert(b.cluster());
        if (r.forward().grpc()) grpc_clusters_.insert(b.cluster());
        use_filters(b.filters());
      }
    }
  }

  void AddCluster(const std::string& name, cfg::Snapshot* snap) {
    auto it = g_.clusters.find(name);
    if (it == g_.clusters.end()) return;
    const graph::Cluster& c = it->second;
    auto* out = snap->add_clusters();
    out->set_name(c.name);
    out->set_protocol(ToProto(c.protocol));
    for (const graph::Endpoint& e : c.endpoints) {
      auto* ep = out->add_endpoints();
      ep->set_address(e.address);
      ep->set_port(e.port);
      ep->set_ready(e.ready);
    }
    // A BackendTLSPolicy applies to HTTP traffic and to TLS the Gateway
    // terminated; passthrough and TCP traffic is the client's own.
    bool originate_tls =
        c.protocol != graph::UpstreamProtocol::kRaw || terminated_clusters_.count(c.name);
    if (c.tls && originate_tls) {
      auto* tls = out->mutable_tls();
      tls->set_sni(c.tls->sni);
      tls->set_ca_secret(c.tls->ca_bundle);
      tls->set_use_system_trust(c.tls->system_trust);
      if (!c.tls->ca_bundle.empty()) secrets_.insert(c.tls->ca_bundle);
      for (const auto& [type, value] : c.tls->subject_alt_names) {
        auto* san = tls->add_subject_alt_names();
        san->set_type(type == "URI" ? cfg::SubjectAltName::URI : cfg::SubjectAltName::HOSTNAME);
        san->set_value(value);
      }
      if (!gw_.backend_client_certificate.empty()) {
        tls->set_client_certificate_secret(gw_.backend_client_certificate);
        secrets_.insert(gw_.backend_client_certificate);
      }
      // gRPC and h2c backends speak HTTP/2, which over TLS is negotiated by ALPN.
      if (c.protocol == graph::UpstreamProtocol::kH2C ||
          c.protocol == graph::UpstreamProtocol::kH2 || grpc_clusters_.count(c.name)) {
        tls->add_alpn("h2");
      }
    }
  }

  void AddSecret(const std::string& name, cfg::Snapshot* snap) {
    auto s = g_.secrets.find(name);
    if (s != g_.secrets.end()) {
      auto* out = snap->add_secrets();
      out->set_name(name);
      out->set_cert_pem(s->second.cert_pem);
      out->set_key_pem(s->second.key_pem);
      return;
    }
    auto ca = g_.ca_bundles.find(name);
    if (ca != g_.ca_bundles.end()) {
      auto* out = snap->add_secrets();
      out->set_name(name);
      out->set_cert_pem(ca->second);
    }
  }

 private:
  const graph::Graph& g_;
  const graph::Gateway& gw_;
  std::set<std::string> clusters_;
  std::set<std::string> grpc_clusters_;        // used by GRPCRoutes
  std::set<std::string> terminated_clusters_;  // behind TLS termination
  std::set<std::string> secrets_;
};

}  // namespace

cfg::Snapshot Translate(const graph::Graph& g, const graph::Gateway& gw,
                        const TranslateOptions& options) {
  return Builder(g, gw).Build(options);
}

std::string ContentVersion(const cfg::Snapshot& snapshot) {
  cfg::Snapshot copy = snapshot;
  copy.clear_version();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    out.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&out);
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (int i = 0; i < 8; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return hex;
}

}  // namespace gatehouse::translate
