// What every route kind shares: attaching to parents (sectionName, port,
// allowedRoutes, hostnames), resolving backendRefs to clusters, and the L4 kinds
// (TLSRoute, TCPRoute, UDPRoute) whose rules are only backends.
#include <algorithm>

#include "controller/graph/build_context.h"
#include "controller/graph/hostname.h"

namespace gatehouse::graph::internal {

namespace st = status;

void BuildHTTPRouteRules(Context& ctx, Route& route);  // httproute.cc
void BuildGRPCRouteRules(Context& ctx, Route& route);  // httproute.cc

namespace {

bool KindAllowed(const Listener& l, std::string_view kind) {
  return std::any_of(l.supported_kinds.begin(), l.supported_kinds.end(),
                     [&](const resources::RouteGroupKind& k) { return k.kind == kind; });
}

bool NamespaceAllowed(Context& ctx, const Listener& l, const std::string& route_ns) {
  const auto& ar = l.spec->allowed_routes;
  const std::string& owner_ns =
      l.listener_set ? l.listener_set->res->meta.ns : l.gateway->res->meta.ns;
  if (ar.from == "All") return true;
  if (ar.from == "Same") return route_ns == owner_ns;
  if (ar.from == "Selector")
    return ar.selector && ar.selector->Matches(ctx.NamespaceLabels(route_ns));
  return false;
}

bool SameRef(const resources::ParentRef& a, const resources::ParentRef& b,
             const std::string& route_ns) {
  return a.kind == b.kind && a.name == b.name &&
         a.ns.value_or(route_ns) == b.ns.value_or(route_ns) && a.section_name == b.section_name &&
         a.port == b.port;
}

UpstreamProtocol ProtocolOf(const resources::ServicePort& port, bool raw) {
  if (raw) return UpstreamProtocol::kRaw;
  std::string_view ap = port.app_protocol ? std::string_view(*port.app_protocol) : "";
  if (ap == "kubernetes.io/h2c") return UpstreamProtocol::kH2C;
  if (ap == "kubernetes.io/ws" || ap == "kubernetes.io/wss") return UpstreamProtocol::kWebSocket;
  return UpstreamProtocol::kHTTP1;
}

// Ready and not-ready endpoints of a Service port, from the EndpointSlices that
// name the Service (including manually managed ones).
std::vector<Endpoint> EndpointsOf(Context& ctx, const resources::Service& svc,
                                  const resources::ServicePort& port) {
  std::vector<Endpoint> out;
  for (const resources::EndpointSlice* slice : ctx.SlicesOf(svc.Key())) {
    if (slice->address_type == "FQDN") continue;
    std::optional<int32_t> target;
    for (const auto& p : slice->ports) {
      if (p.name == port.name && p.protocol == port.protocol) target = p.port;
    }
    if (!target && slice->ports.empty() && port.target_port_number)
      target = port.target_port_number;
    if (!target) continue;
    for (const auto& ep : slice->endpoints) {
      for (const std::string& addr : ep.addresses) {
        out.push_back(Endpoint{addr, static_cast<uint32_t>(*target), ep.ready});
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Endpoint& a, const Endpoint& b) {
    return std::tie(a.address, a.port, a.ready) < std::tie(b.address, b.port, b.ready);
  });
  // One entry per address:port; ready if any slice says so.
  std::vector<Endpoint> unique;
  for (const Endpoint& e : out) {
    if (!unique.empty() && unique.back().address == e.address && unique.back().port == e.port) {
      unique.back().ready = unique.back().ready || e.ready;
    } else {
      unique.push_back(e);
    }
  }
  return unique;
}

std::string EnsureCluster(Context& ctx, const resources::Service& svc,
                          const resources::ServicePort& port, bool raw) {
  std::string name = svc.Key() + ":" + std::to_string(port.port) + (raw ? "/raw" : "");
  auto [it, inserted] = ctx.g.clusters.try_emplace(name);
  if (inserted) {
    Cluster& c = it->second;
    c.name = name;
    c.service = &svc;
    c.port = &port;
    c.protocol = ProtocolOf(port, raw);
    c.endpoints = EndpointsOf(ctx, svc, port);
  }
  return name;
}

}  // namespace

Backend ResolveBackend(Context& ctx, std::string_view route_kind, const std::string& route_ns,
                       const resources::ObjectRef& ref, int32_t weight, bool raw,
                       std::optional<Condition>* failure) {
  Backend b;
  b.weight = weight;
  auto fail = [&](std::string_view reason, std::string message) {
    if (!failure->has_value())
      *failure = st::False(st::type::kResolvedRefs, reason, std::move(message));
    return b;
  };
  std::string ns = ref.ns.value_or(route_ns);
  std::string key = ns + "/" + ref.name;
  if (!(ref.group.empty() || ref.group == "core") || ref.kind != "Service") {
    return fail(st::reason::kInvalidKind,
                "backendRef " + ref.group + "/" + ref.kind + " " + key + " is not a core Service");
  }
  if (!ctx.grants.Allowed({resources::kGatewayGroup, route_kind, route_ns},
                          {"", "Service", ns, ref.name})) {
    return fail(st::reason::kRefNotPermitted,
                "backendRef to Service " + key + " is not permitted by any ReferenceGrant");
  }
  const resources::Service* svc = ctx.FindService(key);
  if (svc == nullptr)
    return fail(st::reason::kBackendNotFound, "Service " + key + " does not exist");
  if (!ref.port)
    return fail(st::reason::kBackendNotFound, "backendRef to Service " + key + " has no port");
  auto port = std::find_if(svc->ports.begin(), svc->ports.end(),
                           [&](const resources::ServicePort& p) { return p.port == *ref.port; });
  if (port == svc->ports.end()) {
    return fail(st::reason::kBackendNotFound,
                "Service " + key + " has no port " + std::to_string(*ref.port));
  }
  b.cluster = EnsureCluster(ctx, *svc, *port, raw);
  return b;
}

void AttachRoute(Context& ctx, Route& route) {
  const resources::Route& res = *route.res;
  std::string_view kind = RouteKindName(route.kind);
  bool uses_hostnames = route.kind == RouteKind::kHTTP || route.kind == RouteKind::kGRPC ||
                        route.kind == RouteKind::kTLS;
  for (const auto& ref : res.parent_refs) {
    if (ref.group != resources::kGatewayGroup) continue;
    std::string key = ref.ns.value_or(res.meta.ns) + "/" + ref.name;
    RouteParent p;
    p.ref = &ref;
    std::deque<Listener>* listeners = nullptr;
    if (ref.kind == "Gateway") {
      auto it = ctx.gateways.find(key);
      if (it == ctx.gateways.end()) continue;
      p.gateway = it->second;
      listeners = &p.gateway->listeners;
    } else if (ref.kind == "ListenerSet") {
      auto it = ctx.listener_sets.find(key);
      if (it == ctx.listener_sets.end()) continue;
      p.listener_set = it->second;
      p.gateway = p.listener_set->gateway;
      listeners = &p.listener_set->listeners;
    } else {
      continue;
    }
    if (std::any_of(route.parents.begin(), route.parents.end(),
                    [&](const RouteParent& q) { return SameRef(*q.ref, ref, res.meta.ns); })) {
      continue;
    }
    bool any_candidate = false, any_allowed = false;
    for (Listener& l : *listeners) {
      if (ref.section_name && *ref.section_name != l.Name()) continue;
      if (ref.port && *ref.port != l.Port()) continue;
      any_candidate = true;
      if (!KindAllowed(l, kind) || !NamespaceAllowed(ctx, l, res.meta.ns)) continue;
      any_allowed = true;
      std::vector<std::string> hostnames = uses_hostnames
                                               ? EffectiveHostnames(l.hostname, res.hostnames)
                                               : std::vector<std::string>{""};
      if (hostnames.empty()) continue;
      p.listeners.push_back(&l);
      p.hostnames.push_back(std::move(hostnames));
    }
    std::string parent_name = std::string(ref.kind) + " " + key;
    if (!any_candidate) {
      p.accepted =
          st::False(st::type::kAccepted, st::reason::kNoMatchingParent,
                    parent_name + " has no listener matching the parentRef's " +
                        (ref.section_name ? "sectionName" : "") +
                        (ref.section_name && ref.port ? " and " : "") + (ref.port ? "port" : "") +
                        (!ref.section_name && !ref.port ? "listeners" : ""));
    } else if (!any_allowed) {
      p.accepted = st::False(st::type::kAccepted, st::reason::kNotAllowedByListeners,
                             "No listener of " + parent_name + " allows this " + std::string(kind) +
                                 " (kind or namespace)");
    } else if (p.listeners.empty()) {
      p.accepted = st::False(st::type::kAccepted, st::reason::kNoMatchingListenerHostname,
                             "No hostname of the route matches a listener of " + parent_name);
    } else {
      p.accepted = st::True(st::type::kAccepted, st::reason::kAccepted, "Route is accepted");
    }
    route.parents.push_back(std::move(p));
  }
}

namespace {

// Counts the route on every listener it attaches to, once per listener, when the
// route is accepted; otherwise the parents that matched report why it is not.
void FinishAttachment(Route& route) {
  for (RouteParent& p : route.parents) {
    if (!p.accepted.IsTrue()) {
      p.listeners.clear();
      p.hostnames.clear();
      continue;
    }
    if (route.rejected) {
      p.accepted = *route.rejected;
      p.listeners.clear();
      p.hostnames.clear();
      continue;
    }
    for (size_t i = 0; i < p.listeners.size(); ++i) {
      Listener& l = *p.listeners[i];
      auto existing = std::find_if(l.routes.begin(), l.routes.end(),
                                   [&](const Attachment& a) { return a.route == &route; });
      if (existing == l.routes.end()) {
        ++l.attached_routes;
        l.routes.push_back(Attachment{&route, p.hostnames[i]});
      } else {
        for (const std::string& h : p.hostnames[i]) {
          if (std::find(existing->hostnames.begin(), existing->hostnames.end(), h) ==
              existing->hostnames.end()) {
            existing->hostnames.push_back(h);
          }
        }
      }
    }
  }
}

void BuildL4RouteRules(Context& ctx, Route& route) {
  std::optional<Condition> failure;
  for (size_t i = 0; i < route.l4->rules.size(); ++i) {
    RouteRule& rule = route.rules.emplace_back();
    rule.index = i;
    for (const auto& br : route.l4->rules[i].backend_refs) {
      Backend b = ResolveBackend(ctx, RouteKindName(route.kind), route.res->meta.ns, br.ref,
                                 br.weight, /*raw=*/true, &failure);
      b.ref = &br;
      rule.backends.push_back(std::move(b));
    }
  }
  route.resolved_refs =
      failure.value_or(st::True(st::type::kResolvedRefs, st::reason::kResolvedRefs, ""));
}

template <typename T>
void AddRoutes(Context& ctx, const std::vector<T>& list, RouteKind kind,
               void (*build_rules)(Context&, Route&)) {
  for (const T& res : list) {
    Route& route = ctx.g.routes.emplace_back();
    route.kind = kind;
    route.res = &res;
    if constexpr (std::is_same_v<T, resources::HTTPRoute>) route.http = &res;
    if constexpr (std::is_same_v<T, resources::GRPCRoute>) route.grpc = &res;
    if constexpr (std::is_same_v<T, resources::L4Route>) route.l4 = &res;
    AttachRoute(ctx, route);
    if (route.parents.empty()) {
      ctx.g.routes.pop_back();
      continue;
    }
    build_rules(ctx, route);
    for (const std::string& h : res.hostnames) {
      if (!IsValidHostname(h) && !route.rejected) {
        route.rejected = st::False(st::type::kAccepted, st::reason::kUnsupportedValue,
                                   "Hostname " + h + " is not a valid DNS name");
      }
    }
    FinishAttachment(route);
  }
}

}  // namespace

void BuildRoutes(Context& ctx) {
  AddRoutes(ctx, ctx.in.http_routes, RouteKind::kHTTP, &BuildHTTPRouteRules);
  AddRoutes(ctx, ctx.in.grpc_routes, RouteKind::kGRPC, &BuildGRPCRouteRules);
  AddRoutes(ctx, ctx.in.tls_routes, RouteKind::kTLS, &BuildL4RouteRules);
  AddRoutes(ctx, ctx.in.tcp_routes, RouteKind::kTCP, &BuildL4RouteRules);
  AddRoutes(ctx, ctx.in.udp_routes, RouteKind::kUDP, &BuildL4RouteRules);
}

}  // namespace gatehouse::graph::internal
