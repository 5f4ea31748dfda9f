// Listener validation (protocol, hostname, TLS, route kinds, frontend CA) and the
// conflict rules between listeners sharing a port.
#include <arpa/inet.h>

#include <algorithm>

#include "controller/graph/build_context.h"
#include "controller/graph/hostname.h"

namespace gatehouse::graph {

namespace st = status;

std::vector<Condition> Listener::Conditions() const {
  std::vector<Condition> out;
  if (conflicted) {
    out.push_back(
        st::False(st::type::kAccepted, conflict_reason,
                  "Listener conflicts with another listener on port " + std::to_string(Port())));
  } else {
    out.push_back(accepted_condition);
  }
  out.push_back(resolved_condition);
  out.push_back(conflicted ? st::True(st::type::kConflicted, conflict_reason,
                                      "Listener is not distinct from a listener on the same port")
                           : st::False(st::type::kConflicted, st::reason::kNoConflicts, ""));
  return out;
}

namespace internal {

namespace {

Protocol ParseProtocol(std::string_view p) {
  if (p == "HTTP") return Protocol::kHTTP;
  if (p == "HTTPS") return Protocol::kHTTPS;
  if (p == "TLS") return Protocol::kTLS;
  if (p == "TCP") return Protocol::kTCP;
  if (p == "UDP") return Protocol::kUDP;
  return Protocol::kUnsupported;
}

std::vector<std::string_view> ValidKinds(Protocol p) {
  switch (p) {
    case Protocol::kHTTP:
    case Protocol::kHTTPS:
      return {"HTTPRoute", "GRPCRoute"};
    case Protocol::kTLS:
      return {"TLSRoute"};
    case Protocol::kTCP:
      return {"TCPRoute"};
    case Protocol::kUDP:
      return {"UDPRoute"};
    case Protocol::kUnsupported:
      break;
  }
  return {};
}

// Sets `*slot` unless an earlier problem already did: the first problem is the
// one reported.
void Note(std::optional<Condition>* slot, Condition c) {
  if (!slot->has_value()) *slot = std::move(c);
}

void ResolveCertificates(Context& ctx, Listener& l, std::string_view owner_kind,
                         const std::string& owner_ns, std::optional<Condition>* unresolved) {
  const auto& refs =
      l.spec->tls ? l.spec->tls->certificate_refs : std::vector<resources::ObjectRef>{};
  bool all_ok = !refs.empty();
  if (refs.empty()) {
    Note(unresolved, st::False(st::type::kResolvedRefs, st::reason::kInvalidCertificateRef,
                               "Listener has no tls.certificateRefs"));
  }
  for (const auto& ref : refs) {
    std::string ns = ref.ns.value_or(owner_ns);
    std::string key = ns + "/" + ref.name;
    if (!(ref.group.empty() || ref.group == "core") || ref.kind != "Secret") {
      Note(unresolved, st::False(st::type::kResolvedRefs, st::reason::kInvalidCertificateRef,
                                 "certificateRef " + ref.group + "/" + ref.kind + " " + key +
                                     " is not a core Secret"));
      all_ok = false;
      continue;
    }
    if (!ctx.grants.Allowed({resources::kGatewayGroup, owner_kind, owner_ns},
                            {"", "Secret", ns, ref.name})) {
      Note(unresolved, st::False(st::type::kResolvedRefs, st::reason::kRefNotPermitted,
                                 "certificateRef to Secret " + key +
                                     " is not permitted by any ReferenceGrant"));
      all_ok = false;
      continue;
    }
    if (std::string why = ctx.UseTLSSecret(key); !why.empty()) {
      Note(unresolved, st::False(st::type::kResolvedRefs, st::reason::kInvalidCertificateRef, why));
      all_ok = false;
      continue;
    }
    l.certificates.push_back(key);
  }
  l.certificates_ok = all_ok;
}

const resources::FrontendValidation* FrontendFor(const resources::Gateway& gw, int32_t port) {
  for (const auto& [p, fv] : gw.frontend_per_port) {
    if (p == port) return fv ? &*fv : nullptr;
  }
  return gw.frontend_default_validation ? &*gw.frontend_default_validation : nullptr;
}

void ResolveFrontendValidation(Context& ctx, Listener& l, std::optional<Condition>* not_accepted,
                               std::optional<Condition>* unresolved) {
  const resources::Gateway& gw = *l.gateway->res;
  const resources::FrontendValidation* fv = FrontendFor(gw, l.Port());
  if (fv == nullptr) return;
  l.frontend.insecure_fallback = fv->mode == "AllowInsecureFallback";
  for (const auto& ref : fv->ca_certificate_refs) {
    std::string ns = ref.ns.value_or(gw.meta.ns);
    std::string key = ns + "/" + ref.name;
    if (!(ref.group.empty() || ref.group == "core") || ref.kind != "ConfigMap") {
      Note(unresolved, st::False(st::type::kResolvedRefs, st::reason::kInvalidCACertificateKind,
                                 "caCertificateRef " + ref.group + "/" + ref.kind + " " + key +
                                     " is not a core ConfigMap"));
      continue;
    }
    if (!ctx.grants.Allowed({resources::kGatewayGroup, "Gateway", gw.meta.ns},
                            {"", "ConfigMap", ns, ref.name})) {
      Note(unresolved, st::False(st::type::kResolvedRefs, st::reason::kRefNotPermitted,
                                 "caCertificateRef to ConfigMap " + key +
                                     " is not permitted by any ReferenceGrant"));
      continue;
    }
    std::string bundle;
    if (std::string why = ctx.UseCABundle(key, &bundle); !why.empty()) {
      Note(unresolved,
           st::False(st::type::kResolvedRefs, st::reason::kInvalidCACertificateRef, why));
      continue;
    }
    if (l.frontend.ca_bundle.empty()) l.frontend.ca_bundle = bundle;
  }
  if (l.frontend.ca_bundle.empty()) {
    Note(not_accepted, st::False(st::type::kAccepted, st::reason::kNoValidCACertificate,
                                 "No valid CA certificate for client certificate validation"));
  }
}

}  // namespace

void ValidateListener(Context& ctx, Listener& l, std::string_view owner_kind,
                      const std::string& owner_ns) {
  const resources::Listener& s = *l.spec;
  std::optional<Condition> not_accepted, unresolved;
  l.protocol = ParseProtocol(s.protocol);
  if (l.protocol == Protocol::kUnsupported) {
    Note(&not_accepted, st::False(st::type::kAccepted, st::reason::kUnsupportedProtocol,
                                  "Protocol " + s.protocol + " is not supported"));
  }
  bool uses_hostname = l.protocol == Protocol::kHTTP || l.protocol == Protocol::kHTTPS ||
                       l.protocol == Protocol::kTLS;
  if (uses_hostname && s.hostname) {
    l.hostname = *s.hostname;
    if (!IsValidHostname(l.hostname)) {
      Note(&not_accepted, st::False(st::type::kAccepted, st::reason::kUnsupportedValue,
                                    "Hostname " + l.hostname + " is not a valid DNS name"));
    }
  }
  if (s.port < 1 || s.port > 65535) {
    Note(&not_accepted, st::False(st::type::kAccepted, st::reason::kUnsupportedValue,
                                  "Port " + std::to_string(s.port) + " is out of range"));
  }
  bool terminates = false;
  std::string mode = s.tls ? s.tls->mode : "Terminate";
  if (l.protocol == Protocol::kHTTPS) {
    if (mode != "Terminate") {
      Note(&not_accepted, st::False(st::type::kAccepted, st::reason::kUnsupportedValue,
                                    "HTTPS listeners support only TLS mode Terminate"));
    } else {
      terminates = true;
    }
  } else if (l.protocol == Protocol::kTLS) {
    if (mode == "Passthrough") {
      l.passthrough = true;
    } else if (mode == "Terminate") {
      terminates = true;
      if (!ctx.Claimed("TLSRouteModeTerminate")) {
        Note(&not_accepted, st::False(st::type::kAccepted, st::reason::kUnsupportedValue,
                                      "TLS mode Terminate is not supported on TLS listeners"));
      }
    } else {
      Note(&not_accepted, st::False(st::type::kAccepted, st::reason::kUnsupportedValue,
                                    "TLS mode " + mode + " is not supported"));
    }
  }
  if (terminates) {
    ResolveCertificates(ctx, l, owner_kind, owner_ns, &unresolved);
    ResolveFrontendValidation(ctx, l, &not_accepted, &unresolved);
  }
  // Route kinds: the valid ones the listener asks for, or all valid ones.
  std::vector<std::string_view> valid = ValidKinds(l.protocol);
  if (s.allowed_routes.kinds.empty()) {
    for (std::string_view k : valid)
      l.supported_kinds.push_back({std::string(resources::kGatewayGroup), std::string(k)});
  } else {
    for (const auto& k : s.allowed_routes.kinds) {
      bool ok = k.group == resources::kGatewayGroup &&
                std::find(valid.begin(), valid.end(), k.kind) != valid.end();
      if (ok) {
        l.supported_kinds.push_back(k);
      } else {
        Note(&unresolved, st::False(st::type::kResolvedRefs, st::reason::kInvalidRouteKinds,
                                    "Route kind " + k.group + "/" + k.kind +
                                        " is not supported on a " + s.protocol + " listener"));
      }
    }
  }
  l.accepted = !not_accepted.has_value();
  l.resolved = !unresolved.has_value();
  l.accepted_condition =
      not_accepted.value_or(st::True(st::type::kAccepted, st::reason::kAccepted));
  l.resolved_condition =
      unresolved.value_or(st::True(st::type::kResolvedRefs, st::reason::kResolvedRefs));
}

namespace {

enum class Family { kHTTP, kHTTPS, kTLSPassthrough, kTLSTerminate, kTCP, kUDP, kNone };

Family FamilyOf(const Listener& l) {
  switch (l.protocol) {
    case Protocol::kHTTP:
      return Family::kHTTP;
    case Protocol::kHTTPS:
      return Family::kHTTPS;
    case Protocol::kTLS:
      return l.passthrough ? Family::kTLSPassthrough : Family::kTLSTerminate;
    case Protocol::kTCP:
      return Family::kTCP;
    case Protocol::kUDP:
      return Family::kUDP;
    case Protocol::kUnsupported:
      break;
  }
  return Family::kNone;
}

// The conflict between two listeners, or "" when they can share the port. HTTPS
// and TLS are distinct protocols but Gatehouse cannot serve both on one port.
std::string_view Conflict(const Context& ctx, const Listener& a, const Listener& b) {
  if (a.Port() != b.Port()) return "";
  Family fa = FamilyOf(a), fb = FamilyOf(b);
  if ((fa == Family::kUDP) != (fb == Family::kUDP)) return "";
  if (fa != fb) {
    bool mixed_tls = (fa == Family::kTLSPassthrough || fa == Family::kTLSTerminate) &&
                     (fb == Family::kTLSPassthrough || fb == Family::kTLSTerminate) &&
                     ctx.Claimed("TLSRouteModeMixed");
    if (!mixed_tls) return status::reason::kProtocolConflict;
  }
  if (fa == Family::kTCP || fa == Family::kUDP) return status::reason::kProtocolConflict;
  return a.hostname == b.hostname ? status::reason::kHostnameConflict : "";
}

void MarkConflicted(Listener& l, std::string_view reason) {
  // A protocol conflict says more than a hostname conflict, so it wins.
  if (!l.conflicted || reason == status::reason::kProtocolConflict) {
    l.conflict_reason = std::string(reason);
  }
  l.conflicted = true;
}

}  // namespace

void ResolveListenerConflicts(Context& ctx) {
  for (Gateway& gw : ctx.g.gateways) {
    // Within the Gateway no listener wins: every indistinct one is conflicted.
    std::vector<Listener*> own;
    for (Listener& l : gw.listeners) {
      if (l.accepted) own.push_back(&l);
    }
    for (size_t i = 0; i < own.size(); ++i) {
      for (size_t j = i + 1; j < own.size(); ++j) {
        std::string_view reason = Conflict(ctx, *own[i], *own[j]);
        if (!reason.empty()) {
          MarkConflicted(*own[i], reason);
          MarkConflicted(*own[j], reason);
        }
      }
    }
    // ListenerSet listeners yield to every listener that takes precedence.
    std::vector<const Listener*> winners;
    for (Listener* l : own) {
      if (!l->conflicted) winners.push_back(l);
    }
    for (ListenerSet* ls : gw.listener_sets) {
      for (Listener& l : ls->listeners) {
        if (!l.accepted) continue;
        for (const Listener* w : winners) {
          std::string_view reason = Conflict(ctx, *w, l);
          if (!reason.empty()) {
            MarkConflicted(l, reason);
            if (reason == status::reason::kProtocolConflict) break;
          }
        }
        if (!l.conflicted) winners.push_back(&l);
      }
    }
  }
}

}  // namespace internal
}  // namespace gatehouse::graph
