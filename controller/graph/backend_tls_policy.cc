// BackendTLSPolicy: which policy applies to which Service port (the oldest wins a
// conflict; a sectionName beats a whole-Service policy), its CA bundle, and the
// Gateways it is reported against (those whose routes use the Service).
#include <algorithm>
#include <set>

#include "controller/graph/build_context.h"

namespace gatehouse::graph::internal {

namespace st = status;

namespace {

bool Older(const resources::BackendTLSPolicy* a, const resources::BackendTLSPolicy* b) {
  if (a->meta.creation_timestamp != b->meta.creation_timestamp) {
    return a->meta.creation_timestamp < b->meta.creation_timestamp;
  }
  return a->meta.name < b->meta.name;
}

// Gateways (ours, accepted routes) that send traffic to each Service, by key.
std::map<std::string, std::set<const Gateway*>> GatewaysByService(const Graph& g) {
  std::map<std::string, std::set<const Gateway*>> out;
  for (const Route& r : g.routes) {
    if (!r.Accepted()) continue;
    for (const RouteParent& p : r.parents) {
      if (!p.accepted.IsTrue()) continue;
      auto use = [&](const std::string& cluster) {
        auto it = g.clusters.find(cluster);
        if (it != g.clusters.end()) out[it->second.service->Key()].insert(p.gateway);
      };
      for (const RouteRule& rule : r.rules) {
        for (const Backend& b : rule.backends) use(b.cluster);
        for (const auto& [i, c] : rule.rule_mirrors) use(c);
        for (const auto& m : rule.backend_mirrors) {
          for (const auto& [i, c] : m) use(c);
        }
      }
    }
  }
  return out;
}

// Backends whose Service port has an invalid BackendTLSPolicy get no traffic:
// HTTP and gRPC backendRefs (and mirrors) lose their cluster, so requests that
// pick them get 500; TLSRoutes behind termination are refused by translate. The
// route says so in ResolvedRefs.
void RefuseBackendsWithoutTLS(Graph& g) {
  for (Route& r : g.routes) {
    bool http = r.kind == RouteKind::kHTTP || r.kind == RouteKind::kGRPC;
    bool terminated = false;
    if (r.kind == RouteKind::kTLS) {
      for (const RouteParent& p : r.parents) {
        for (const Listener* l : p.listeners) terminated = terminated || !l->passthrough;
      }
    }
    if (!http && !terminated) continue;
    std::optional<Condition> failure;
    auto check = [&](std::string& cluster) {
      auto it = cluster.empty() ? g.clusters.end() : g.clusters.find(cluster);
      if (it == g.clusters.end() || it->second.tls_error.empty()) return;
      if (!failure) {
        failure =
            st::False(st::type::kResolvedRefs, st::reason::kInvalidBackendTLS,
                      "Service " + it->second.service->Key() + " port " +
                          std::to_string(it->second.port->port) + ": " + it->second.tls_error);
      }
      if (http) cluster.clear();
    };
    for (RouteRule& rule : r.rules) {
      for (Backend& b : rule.backends) check(b.cluster);
      for (auto& [i, c] : rule.rule_mirrors) check(c);
      for (auto& m : rule.backend_mirrors) {
        for (auto& [i, c] : m) check(c);
      }
    }
    if (failure && r.resolved_refs.IsTrue()) r.resolved_refs = *failure;
  }
}

}  // namespace

void BuildBackendTLSPolicies(Context& ctx) {
  auto users = GatewaysByService(ctx.g);
  std::vector<const resources::BackendTLSPolicy*> order;
  for (const auto& p : ctx.in.backend_tls_policies) order.push_back(&p);
  std::sort(order.begin(), order.end(), Older);
  // (service key, sectionName or "") -> the winning accepted policy, and the
  // oldest invalid one.
  using Target = std::pair<std::string, std::string>;
  std::map<Target, BackendTLSPolicy*> claimed;
  std::map<Target, BackendTLSPolicy*> invalid;
  std::map<const BackendTLSPolicy*, UpstreamTLS> settings;
  for (const resources::BackendTLSPolicy* res : order) {
    std::set<const Gateway*> ancestors;
    std::vector<Target> targets;
    for (const auto& t : res->target_refs) {
      if (!(t.group.empty() || t.group == "core") || t.kind != "Service") continue;
      std::string key = res->meta.ns + "/" + t.name;
      auto it = users.find(key);
      if (it != users.end()) ancestors.insert(it->second.begin(), it->second.end());
      targets.emplace_back(key, t.section_name.value_or(""));
    }
    if (ancestors.empty()) continue;  // not used by any Gateway of ours
    BackendTLSPolicy& p = ctx.g.backend_tls_policies.emplace_back();
    p.res = res;
    for (const Gateway* gw : ancestors) p.ancestors.push_back({gw, std::nullopt});
    std::sort(p.ancestors.begin(), p.ancestors.end(),
              [](const auto& a, const auto& b) { return a.gateway->Key() < b.gateway->Key(); });
    // CA certificates: the policy stays accepted while one of its references
    // resolves (only the valid ones are used); ResolvedRefs names the first bad one.
    UpstreamTLS tls;
    tls.sni = res->hostname;
    tls.policy = res->Key();
    std::optional<Condition> unresolved;
    for (const auto& ref : res->ca_certificate_refs) {
      std::string key = res->meta.ns + "/" + ref.name;
      if (!(ref.group.empty() || ref.group == "core") || ref.kind != "ConfigMap") {
        if (!unresolved) {
          unresolved = st::False(st::type::kResolvedRefs, st::reason::kInvalidKind,
                                 "caCertificateRef " + ref.group + "/" + ref.kind + " " + key +
                                     " is not a core ConfigMap");
        }
        continue;
      }
      std::string bundle;
      if (std::string why = ctx.UseCABundle(key, &bundle); !why.empty()) {
        if (!unresolved)
          unresolved =
              st::False(st::type::kResolvedRefs, st::reason::kInvalidCACertificateRef, why);
        continue;
      }
      if (tls.ca_bundle.empty()) tls.ca_bundle = bundle;
    }
    std::optional<Condition> rejected;
    if (res->well_known_ca_certificates && *res->well_known_ca_certificates != "System") {
      rejected = st::False(
          st::type::kAccepted, st::reason::kInvalid,
          "wellKnownCACertificates " + *res->well_known_ca_certificates + " is not supported");
    } else if (res->well_known_ca_certificates) {
      tls.system_trust = true;
    }
    if (!rejected && tls.ca_bundle.empty() && !tls.system_trust) {
      rejected = st::False(st::type::kAccepted, st::reason::kNoValidCACertificate,
                           "No valid CA certificate to validate the backend");
    }
    for (const auto& san : res->subject_alt_names)
      tls.subject_alt_names.emplace_back(san.type, san.value);
    p.conditions.push_back(
        unresolved.value_or(st::True(st::type::kResolvedRefs, st::reason::kResolvedRefs, "")));
    if (rejected) {
      p.conditions.insert(p.conditions.begin(), *rejected);
      for (const auto& target : targets) invalid.try_emplace(target, &p);
      continue;
    }
    // Conflicts: an older policy already owns one of these targets.
    bool conflicted = false;
    for (const auto& target : targets) {
      if (claimed.count(target)) conflicted = true;
    }
    if (conflicted) {
      p.conditions.insert(p.conditions.begin(),
                          st::False(st::type::kAccepted, st::reason::kConflicted,
                                    "An older BackendTLSPolicy targets the same Service"));
      continue;
    }
    for (const auto& target : targets) claimed[target] = &p;
    p.accepted = true;
    p.conditions.insert(p.conditions.begin(),
                        st::True(st::type::kAccepted, st::reason::kAccepted, ""));
    settings[&p] = std::move(tls);
  }
  // Each cluster gets the policy of its port: one naming the port beats one for
  // the whole Service, an accepted one beats an invalid one. Raw clusters get it
  // too; translate uses it only behind TLS termination.
  for (auto& [name, cluster] : ctx.g.clusters) {
    std::string svc = cluster.service->Key();
    for (const std::string& section : {cluster.port->name, std::string()}) {
      if (auto it = claimed.find({svc, section}); it != claimed.end()) {
        cluster.tls = settings[it->second];
        break;
      }
      if (auto it = invalid.find({svc, section}); it != invalid.end()) {
        const BackendTLSPolicy& p = *it->second;
        cluster.tls_error = "BackendTLSPolicy " + p.res->Key() + " is not accepted (" +
                            p.conditions[0].reason + ")";
        if (!p.conditions[1].IsTrue()) cluster.tls_error += ": " + p.conditions[1].message;
        break;
      }
      if (section.empty()) break;
    }
  }
  RefuseBackendsWithoutTLS(ctx.g);
}

}  // namespace gatehouse::graph::internal
