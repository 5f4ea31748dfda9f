// GatewayClasses, Gateways and ListenerSets: which are ours, which are accepted,
// and the Gateway-level conditions that summarize their listeners.
#include <arpa/inet.h>

#include <algorithm>

#include "controller/graph/build_context.h"

namespace gatehouse::graph::internal {

namespace st = status;

void BuildGatewayClasses(Context& ctx) {
  for (const auto& gc : ctx.in.gateway_classes) {
    if (gc.controller_name != ctx.options.controller_name) continue;
    GatewayClass& c = ctx.g.gateway_classes.emplace_back();
    c.res = &gc;
    if (gc.parameters_ref) {
      c.conditions.push_back(st::False(st::type::kAccepted, st::reason::kInvalidParameters,
                                       "Gatehouse does not support GatewayClass parameters"));
    } else {
      c.accepted = true;
      c.conditions.push_back(st::True(st::type::kAccepted, st::reason::kAccepted,
                                      "GatewayClass is accepted by Gatehouse"));
    }
  }
}

void BuildGateways(Context& ctx) {
  std::unordered_map<std::string, const GatewayClass*> classes;
  for (const GatewayClass& c : ctx.g.gateway_classes) classes.emplace(c.res->meta.name, &c);
  for (const auto& res : ctx.in.gateways) {
    auto cls = classes.find(res.gateway_class_name);
    if (cls == classes.end()) continue;
    Gateway& gw = ctx.g.gateways.emplace_back();
    gw.res = &res;
    gw.gateway_class = cls->second;
    ctx.gateways.emplace(res.Key(), &gw);
    for (const auto& spec : res.listeners) {
      Listener& l = gw.listeners.emplace_back();
      l.spec = &spec;
      l.gateway = &gw;
      ValidateListener(ctx, l, "Gateway", res.meta.ns);
    }
  }
}

namespace {

bool NamespaceSelected(Context& ctx, std::string_view from,
                       const std::optional<resources::LabelSelector>& selector,
                       const std::string& owner_ns, const std::string& ns) {
  if (from == "All") return true;
  if (from == "Same") return ns == owner_ns;
  if (from == "Selector") return selector && selector->Matches(ctx.NamespaceLabels(ns));
  return false;
}

bool Older(const ListenerSet* a, const ListenerSet* b) {
  const auto& ma = a->res->meta;
  const auto& mb = b->res->meta;
  if (ma.creation_timestamp != mb.creation_timestamp) {
    return ma.creation_timestamp < mb.creation_timestamp;
  }
  if (ma.ns != mb.ns) return ma.ns < mb.ns;
  return ma.name < mb.name;
}

}  // namespace

void BuildListenerSets(Context& ctx) {
  for (const auto& res : ctx.in.listener_sets) {
    const resources::ParentRef& p = res.parent;
    if (p.group != resources::kGatewayGroup || p.kind != "Gateway") continue;
    auto gw = ctx.gateways.find(p.ns.value_or(res.meta.ns) + "/" + p.name);
    if (gw == ctx.gateways.end()) continue;
    ListenerSet& ls = ctx.g.listener_sets.emplace_back();
    ls.res = &res;
    ls.gateway = gw->second;
    ctx.listener_sets.emplace(res.Key(), &ls);
    const auto& allowed = gw->second->res->allowed_listeners;
    ls.allowed = NamespaceSelected(ctx, allowed.from, allowed.selector, gw->second->res->meta.ns,
                                   res.meta.ns);
    if (!ls.allowed) continue;
    for (const auto& spec : res.listeners) {
      Listener& l = ls.listeners.emplace_back();
      l.spec = &spec;
      l.gateway = gw->second;
      l.listener_set = &ls;
      ValidateListener(ctx, l, "ListenerSet", res.meta.ns);
    }
    gw->second->listener_sets.push_back(&ls);
  }
  for (Gateway& gw : ctx.g.gateways) {
    std::sort(gw.listener_sets.begin(), gw.listener_sets.end(), Older);
  }
}

namespace {

// spec.addresses: IPAddress values must be IP addresses (an empty value asks for
// any address); other types are not supported.
std::optional<Condition> CheckAddresses(Gateway& gw) {
  for (const auto& a : gw.res->addresses) {
    if (a.type != "IPAddress") {
      return st::False(st::type::kAccepted, st::reason::kUnsupportedAddress,
                       "Address type " + a.type + " is not supported");
    }
    if (a.value.empty()) continue;
    unsigned char buf[16];
    if (inet_pton(AF_INET, a.value.c_str(), buf) != 1 &&
        inet_pton(AF_INET6, a.value.c_str(), buf) != 1) {
      return st::False(st::type::kAccepted, st::reason::kUnsupportedAddress,
                       "Address " + a.value + " is not an IP address");
    }
    gw.static_addresses.push_back(a.value);
  }
  return std::nullopt;
}

std::string Names(const std::vector<const Listener*>& ls) {
  std::string out;
  for (const Listener* l : ls) {
    if (!out.empty()) out += ", ";
    out += l->Name();
  }
  return out;
}

Condition GatewayAccepted(Gateway& gw) {
  if (!gw.gateway_class->accepted) {
    return st::False(st::type::kAccepted, st::reason::kPending,
                     "GatewayClass " + gw.gateway_class->res->meta.name + " is not accepted");
  }
  if (gw.res->infrastructure_parameters_ref) {
    return st::False(st::type::kAccepted, st::reason::kInvalidParameters,
                     "Gatehouse does not support spec.infrastructure.parametersRef");
  }
  if (auto bad = CheckAddresses(gw)) return *bad;
  std::vector<const Listener*> invalid;
  size_t usable = 0;
  for (const Listener& l : gw.listeners) {
    if (l.Usable()) {
      ++usable;
    } else {
      invalid.push_back(&l);
    }
  }
  if (invalid.empty())
    return st::True(st::type::kAccepted, st::reason::kAccepted, "Gateway is accepted");
  if (usable == 0) {
    return st::False(st::type::kAccepted, st::reason::kListenersNotValid,
                     "No listener is valid: " + Names(invalid));
  }
  return st::True(st::type::kAccepted, st::reason::kListenersNotValid,
                  "Invalid or conflicted listeners are not served: " + Names(invalid));
}

Condition GatewayResolvedRefs(Context& ctx, Gateway& gw) {
  const resources::Gateway& res = *gw.res;
  if (const auto& ref = res.backend_client_certificate_ref) {
    std::string ns = ref->ns.value_or(res.meta.ns);
    std::string key = ns + "/" + ref->name;
    if (!(ref->group.empty() || ref->group == "core") || ref->kind != "Secret") {
      return st::False(st::type::kResolvedRefs, st::reason::kInvalidClientCertificateRef,
                       "clientCertificateRef " + ref->group + "/" + ref->kind + " " + key +
                           " is not a core Secret");
    }
    if (!ctx.grants.Allowed({resources::kGatewayGroup, "Gateway", res.meta.ns},
                            {"", "Secret", ns, ref->name})) {
      return st::False(
          st::type::kResolvedRefs, st::reason::kRefNotPermitted,
          "clientCertificateRef to Secret " + key + " is not permitted by any ReferenceGrant");
    }
    if (std::string why = ctx.UseTLSSecret(key); !why.empty()) {
      return st::False(st::type::kResolvedRefs, st::reason::kInvalidClientCertificateRef, why);
    }
    gw.backend_client_certificate = key;
  }
  std::vector<const Listener*> unresolved;
  for (const Listener& l : gw.listeners) {
    if (!l.resolved) unresolved.push_back(&l);
  }
  if (!unresolved.empty()) {
    return st::False(st::type::kResolvedRefs, st::reason::kListenersNotResolved,
                     "Listeners with unresolved references: " + Names(unresolved));
  }
  return st::True(st::type::kResolvedRefs, st::reason::kResolvedRefs, "");
}

void FinishListenerSet(ListenerSet& ls) {
  if (!ls.allowed) {
    ls.conditions.push_back(
        st::False(st::type::kAccepted, st::reason::kNotAllowed,
                  "Gateway " + ls.gateway->Key() + " does not allow this ListenerSet"));
    return;
  }
  if (!ls.gateway->accepted) {
    ls.conditions.push_back(st::False(st::type::kAccepted, st::reason::kParentNotAccepted,
                                      "Gateway " + ls.gateway->Key() + " is not accepted"));
    return;
  }
  std::vector<const Listener*> invalid;
  for (const Listener& l : ls.listeners) {
    if (!l.Usable() || !l.resolved) invalid.push_back(&l);
  }
  if (invalid.size() == ls.listeners.size()) {
    ls.conditions.push_back(st::False(st::type::kAccepted, st::reason::kListenersNotValid,
                                      "No listener is valid: " + Names(invalid)));
    return;
  }
  ls.accepted = true;
  ls.conditions.push_back(
      invalid.empty()
          ? st::True(st::type::kAccepted, st::reason::kAccepted, "ListenerSet is accepted")
          : st::True(st::type::kAccepted, st::reason::kListenersNotValid,
                     "Invalid or conflicted listeners are not served: " + Names(invalid)));
}

}  // namespace

void FinishGateways(Context& ctx) {
  for (Gateway& gw : ctx.g.gateways) {
    Condition accepted = GatewayAccepted(gw);
    gw.accepted = accepted.IsTrue();
    gw.conditions.push_back(std::move(accepted));
    gw.conditions.push_back(GatewayResolvedRefs(ctx, gw));
    bool insecure = false;
    for (const Listener* l : gw.AllListeners())
      insecure = insecure || l->frontend.insecure_fallback;
    if (insecure) {
      gw.conditions.push_back(st::True(st::type::kInsecureFrontendValidationMode,
                                       st::reason::kConfigurationChanged,
                                       "Client certificate validation allows insecure fallback"));
    }
  }
  for (ListenerSet& ls : ctx.g.listener_sets) FinishListenerSet(ls);
}

}  // namespace gatehouse::graph::internal
