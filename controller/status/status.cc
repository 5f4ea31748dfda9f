#include "controller/status/status.h"

#include <algorithm>
#include <set>

#include <boost/json/object.hpp>

#include "controller/status/conditions.h"

namespace gatehouse::status {

namespace json = boost::json;

namespace {

std::string_view Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const json::array* ArrayField(const json::object* o, std::string_view key) {
  if (o == nullptr) return nullptr;
  const json::value* v = o->if_contains(key);
  return v ? v->if_array() : nullptr;
}

// The element of `list` whose `key` field equals `value`.
const json::object* FindByField(const json::array* list, std::string_view key,
                                std::string_view value) {
  if (list == nullptr) return nullptr;
  for (const json::value& v : *list) {
    const json::object* o = v.if_object();
    if (o != nullptr && Str(*o, key) == value) return o;
  }
  return nullptr;
}

StatusUpdate Update(const resources::ObjectBase& obj, json::object status) {
  StatusUpdate u;
  u.api_version = obj.api_version;
  u.kind = obj.kind;
  u.ns = obj.meta.ns;
  u.name = obj.meta.name;
  u.resource_version = obj.meta.resource_version;
  u.status = std::move(status);
  return u;
}

json::array Kinds(const std::vector<resources::RouteGroupKind>& kinds) {
  json::array out;
  for (const auto& k : kinds) out.push_back(json::object{{"group", k.group}, {"kind", k.kind}});
  return out;
}

// Programmed of a Gateway: accepted, an address, and the proxy on the current version.
Condition GatewayProgrammed(const graph::Gateway& gw, const GatewayProgramming* p) {
  if (!gw.accepted) return False(type::kProgrammed, reason::kInvalid, "Gateway is not accepted");
  if (p == nullptr || p->version.empty()) {
    return False(type::kProgrammed, reason::kPending, "No configuration computed yet");
  }
  if (!p->address_error.empty())
    return False(type::kProgrammed, reason::kAddressNotUsable, p->address_error);
  if (p->addresses.empty()) {
    return False(type::kProgrammed, reason::kAddressNotAssigned, "No address is assigned yet");
  }
  if (p->nacked_version == p->version) {
    return False(type::kProgrammed, reason::kInvalid,
                 "The proxy rejected configuration " + p->version + ": " + p->nack_error);
  }
  if (p->acked_version != p->version) {
    return False(type::kProgrammed, reason::kPending,
                 "Waiting for the proxy to apply configuration " + p->version);
  }
  return True(type::kProgrammed, reason::kProgrammed,
              "Configuration " + p->version + " is applied");
}

Condition ListenerProgrammed(const graph::Listener& l, const Condition& gateway_programmed) {
  if (l.conflicted) return False(type::kProgrammed, l.conflict_reason, "Listener is conflicted");
  if (!l.accepted) return False(type::kProgrammed, reason::kInvalid, "Listener is not accepted");
  if (!l.certificates_ok) {
    return False(type::kProgrammed, reason::kInvalid, "Listener has no usable certificate");
  }
  if (!gateway_programmed.IsTrue()) {
    return False(
        type::kProgrammed,
        gateway_programmed.reason == reason::kInvalid ? reason::kInvalid : reason::kPending,
        gateway_programmed.message);
  }
  return True(type::kProgrammed, reason::kProgrammed, "");
}

json::array ListenerStatuses(const std::deque<graph::Listener>& listeners,
                             const json::array* previous, const Condition& gateway_programmed,
                             int64_t generation, std::string_view now) {
  json::array out;
  for (const graph::Listener& l : listeners) {
    std::vector<Condition> conds = l.Conditions();
    conds.insert(conds.begin() + 1, ListenerProgrammed(l, gateway_programmed));
    const json::object* prev = FindByField(previous, "name", l.Name());
    json::object s;
    s["name"] = l.Name();
    s["supportedKinds"] = Kinds(l.StatusKinds());
    s["attachedRoutes"] = l.attached_routes;
    s["conditions"] = MergeConditions(conds, ConditionsOf(prev), generation, now);
    out.push_back(std::move(s));
  }
  return out;
}

void GatewayClassStatus(const graph::GatewayClass& c, const StatusOptions& opt,
                        std::vector<StatusUpdate>& out) {
  json::object s;
  s["conditions"] =
      MergeConditions(c.conditions, ConditionsOf(c.res->Status()), c.res->meta.generation, opt.now);
  json::array features;
  for (std::string_view f : opt.supported_features) features.push_back(json::object{{"name", f}});
  s["supportedFeatures"] = std::move(features);
  out.push_back(Update(*c.res, std::move(s)));
}

void GatewayStatus(const graph::Gateway& gw, const StatusOptions& opt,
                   std::vector<StatusUpdate>& out) {
  auto it = opt.programming.find(gw.Key());
  const GatewayProgramming* p = it == opt.programming.end() ? nullptr : &it->second;
  Condition programmed = GatewayProgrammed(gw, p);
  std::vector<Condition> conds = gw.conditions;
  conds.insert(conds.begin() + 1, programmed);
  const json::object* prev = gw.res->Status();
  int64_t gen = gw.res->meta.generation;
  json::object s;
  json::array addresses;
  if (p != nullptr) {
    for (const auto& [t, v] : p->addresses)
      addresses.push_back(json::object{{"type", t}, {"value", v}});
  }
  s["addresses"] = std::move(addresses);
  s["conditions"] = MergeConditions(conds, ConditionsOf(prev), gen, opt.now,
                                    {type::kInsecureFrontendValidationMode});
  s["listeners"] =
      ListenerStatuses(gw.listeners, ArrayField(prev, "listeners"), programmed, gen, opt.now);
  int attached = 0;
  for (const graph::ListenerSet* ls : gw.listener_sets) attached += ls->accepted ? 1 : 0;
  s["attachedListenerSets"] = attached;
  out.push_back(Update(*gw.res, std::move(s)));
}

void ListenerSetStatus(const graph::ListenerSet& ls, const StatusOptions& opt,
                       std::vector<StatusUpdate>& out) {
  auto it = opt.programming.find(ls.gateway->Key());
  Condition gw_programmed =
      GatewayProgrammed(*ls.gateway, it == opt.programming.end() ? nullptr : &it->second);
  const Condition& accepted = ls.conditions.front();
  Condition programmed;
  if (!accepted.IsTrue()) {
    std::string_view r = accepted.reason == reason::kParentNotAccepted
                             ? "ParentNotProgrammed"
                             : std::string_view(accepted.reason);
    programmed = False(type::kProgrammed, r, accepted.message);
  } else if (!gw_programmed.IsTrue()) {
    programmed = False(type::kProgrammed, reason::kPending, gw_programmed.message);
  } else {
    programmed = True(type::kProgrammed, reason::kProgrammed, "");
  }
  const json::object* prev = ls.res->Status();
  int64_t gen = ls.res->meta.generation;
  json::object s;
  s["conditions"] = MergeConditions({accepted, programmed}, ConditionsOf(prev), gen, opt.now);
  s["listeners"] =
      ListenerStatuses(ls.listeners, ArrayField(prev, "listeners"), gw_programmed, gen, opt.now);
  out.push_back(Update(*ls.res, std::move(s)));
}

json::object ParentRefJson(const resources::ParentRef& ref) {
  json::object o;
  o["group"] = ref.group;
  o["kind"] = ref.kind;
  if (ref.ns) o["namespace"] = *ref.ns;
  o["name"] = ref.name;
  if (ref.section_name) o["sectionName"] = *ref.section_name;
  if (ref.port) o["port"] = *ref.port;
  return o;
}

// Whether a status parentRef names the same parent as `ref` (defaults applied).
bool SameParent(const json::object& status_ref, const resources::ParentRef& ref,
                const std::string& route_ns) {
  auto field = [&](std::string_view k, std::string_view fallback) {
    std::string_view v = Str(status_ref, k);
    return v.empty() ? fallback : v;
  };
  const json::value* port = status_ref.if_contains("port");
  std::optional<int64_t> p;
  if (port && port->is_number()) p = port->to_number<int64_t>();
  return field("group", resources::kGatewayGroup) == ref.group &&
         field("kind", "Gateway") == ref.kind &&
         field("namespace", route_ns) == ref.ns.value_or(route_ns) &&
         Str(status_ref, "name") == ref.name &&
         field("sectionName", "") == ref.section_name.value_or("") &&
         p == (ref.port ? std::optional<int64_t>(*ref.port) : std::nullopt);
}

// Parents entries written by other controllers, unchanged and in their order.
json::array ForeignEntries(const json::array* previous, std::string_view controller) {
  json::array out;
  if (previous == nullptr) return out;
  for (const json::value& v : *previous) {
    const json::object* o = v.if_object();
    if (o != nullptr && Str(*o, "controllerName") != controller) out.push_back(v);
  }
  return out;
}

bool HasOwnEntries(const json::array* previous, std::string_view controller) {
  if (previous == nullptr) return false;
  return std::any_of(previous->begin(), previous->end(), [&](const json::value& v) {
    const json::object* o = v.if_object();
    return o != nullptr && Str(*o, "controllerName") == controller;
  });
}

void RouteStatus(const graph::Route& r, const StatusOptions& opt, std::vector<StatusUpdate>& out) {
  const json::array* previous = ArrayField(r.res->Status(), "parents");
  json::array parents = ForeignEntries(previous, opt.controller_name);
  for (const graph::RouteParent& p : r.parents) {
    std::vector<Condition> conds = {p.accepted, r.resolved_refs};
    if (r.partially_invalid) conds.push_back(*r.partially_invalid);
    const json::array* prev_conds = nullptr;
    if (previous != nullptr) {
      for (const json::value& v : *previous) {
        const json::object* o = v.if_object();
        if (o == nullptr || Str(*o, "controllerName") != opt.controller_name) continue;
        const json::value* pr = o->if_contains("parentRef");
        if (pr && pr->is_object() && SameParent(pr->get_object(), *p.ref, r.res->meta.ns)) {
          prev_conds = ConditionsOf(o);
        }
      }
    }
    json::object e;
    e["parentRef"] = ParentRefJson(*p.ref);
    e["controllerName"] = opt.controller_name;
    e["conditions"] = MergeConditions(conds, prev_conds, r.res->meta.generation, opt.now,
                                      {type::kPartiallyInvalid});
    parents.push_back(std::move(e));
  }
  out.push_back(Update(*r.res, json::object{{"parents", std::move(parents)}}));
}

// Routes that no longer name a parent of ours lose the entries we wrote before.
template <typename T>
void StaleRouteStatus(const std::vector<T>& list, const std::set<const resources::Route*>& in_graph,
                      const StatusOptions& opt, std::vector<StatusUpdate>& out) {
  for (const T& r : list) {
    if (in_graph.count(&r)) continue;
    const json::array* previous = ArrayField(r.Status(), "parents");
    if (!HasOwnEntries(previous, opt.controller_name)) continue;
    out.push_back(
        Update(r, json::object{{"parents", ForeignEntries(previous, opt.controller_name)}}));
  }
}

void PolicyStatus(const graph::BackendTLSPolicy& p, const StatusOptions& opt,
                  std::vector<StatusUpdate>& out) {
  const json::array* previous = ArrayField(p.res->Status(), "ancestors");
  json::array ancestors = ForeignEntries(previous, opt.controller_name);
  for (const auto& a : p.ancestors) {
    const auto& meta = a.gateway->res->meta;
    const json::array* prev_conds = nullptr;
    if (previous != nullptr) {
      for (const json::value& v : *previous) {
        const json::object* o = v.if_object();
        if (o == nullptr || Str(*o, "controllerName") != opt.controller_name) continue;
        const json::value* ar = o->if_contains("ancestorRef");
        if (ar && ar->is_object() && Str(ar->get_object(), "name") == meta.name &&
            Str(ar->get_object(), "namespace") == meta.ns) {
          prev_conds = ConditionsOf(o);
        }
      }
    }
    json::object ref{{"group", resources::kGatewayGroup},
                     {"kind", "Gateway"},
                     {"namespace", meta.ns},
                     {"name", meta.name}};
    if (a.section_name) ref["sectionName"] = *a.section_name;
    json::object e;
    e["ancestorRef"] = std::move(ref);
    e["controllerName"] = opt.controller_name;
    e["conditions"] = MergeConditions(p.conditions, prev_conds, p.res->meta.generation, opt.now);
    ancestors.push_back(std::move(e));
  }
  out.push_back(Update(*p.res, json::object{{"ancestors", std::move(ancestors)}}));
}

}  // namespace

std::vector<StatusUpdate> BuildStatus(const resources::Resources& in, const graph::Graph& g,
                                      const StatusOptions& opt) {
  std::vector<StatusUpdate> out;
  for (const auto& c : g.gateway_classes) GatewayClassStatus(c, opt, out);
  for (const auto& gw : g.gateways) GatewayStatus(gw, opt, out);
  for (const auto& ls : g.listener_sets) ListenerSetStatus(ls, opt, out);
  std::set<const resources::Route*> in_graph;
  for (const auto& r : g.routes) {
    RouteStatus(r, opt, out);
    in_graph.insert(r.res);
  }
  StaleRouteStatus(in.http_routes, in_graph, opt, out);
  StaleRouteStatus(in.grpc_routes, in_graph, opt, out);
  StaleRouteStatus(in.tls_routes, in_graph, opt, out);
  StaleRouteStatus(in.tcp_routes, in_graph, opt, out);
  StaleRouteStatus(in.udp_routes, in_graph, opt, out);
  std::set<const resources::BackendTLSPolicy*> policies;
  for (const auto& p : g.backend_tls_policies) {
    PolicyStatus(p, opt, out);
    policies.insert(p.res);
  }
  for (const auto& p : in.backend_tls_policies) {
    if (policies.count(&p)) continue;
    const json::array* previous = ArrayField(p.Status(), "ancestors");
    if (!HasOwnEntries(previous, opt.controller_name)) continue;
    out.push_back(
        Update(p, json::object{{"ancestors", ForeignEntries(previous, opt.controller_name)}}));
  }
  return out;
}

}  // namespace gatehouse::status
