// The validated, attached view of the Gateway API objects Gatehouse owns: which
// GatewayClasses and Gateways are accepted, which listeners are valid, which
// routes attach where, what every backendRef resolves to, and the conditions
// that say why. Built top-down by one pure function, one file per kind.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controller/resources/resources.h"
#include "controller/status/conditions.h"

namespace gatehouse::graph {

using status::Condition;

struct Options {
  std::string controller_name = "gatehouse.dev/gateway-controller";
  // Whether Gatehouse claims a conformance feature (the registry). Only used
  // where the spec makes behaviour depend on the claim (e.g. TLS terminate).
  std::function<bool(std::string_view)> feature_claimed;
};

struct Gateway;
struct ListenerSet;
struct Route;

enum class Protocol { kUnsupported, kHTTP, kHTTPS, kTLS, kTCP, kUDP };

struct GatewayClass {
  const resources::GatewayClass* res = nullptr;
  bool accepted = false;
  std::vector<Condition> conditions;  // Accepted
};

// A route attached to a listener, with the hostnames it serves there.
struct Attachment {
  const Route* route = nullptr;
  std::vector<std::string> hostnames;  // effective: listener x route ("" = any)
};

// CA bundle used to validate client certificates on a listener.
struct FrontendValidation {
  std::string ca_bundle;  // key into Graph::ca_bundles; "" = none
  bool insecure_fallback = false;
};

struct Listener {
  const resources::Listener* spec = nullptr;
  Gateway* gateway = nullptr;           // the Gateway that serves it
  ListenerSet* listener_set = nullptr;  // set for ListenerSet listeners
  Protocol protocol = Protocol::kUnsupported;
  std::string hostname;      // "" = any
  bool passthrough = false;  // TLS mode Passthrough
  std::vector<resources::RouteGroupKind> supported_kinds;
  bool accepted = true;     // on its own (protocol, values, frontend CA)
  bool resolved = true;     // every reference resolved
  bool conflicted = false;  // indistinct from a listener that takes precedence
  // Certificates resolved (at least one, all valid) for terminating listeners.
  bool certificates_ok = true;
  Condition accepted_condition;
  Condition resolved_condition;
  std::string conflict_reason;            // ProtocolConflict or HostnameConflict
  std::vector<std::string> certificates;  // keys into Graph::secrets
  FrontendValidation frontend;
  int attached_routes = 0;
  std::vector<Attachment> routes;

  const std::string& Name() const { return spec->name; }
  int32_t Port() const { return spec->port; }
  // Valid on its own and not conflicted: counts as a listener of the Gateway.
  bool Usable() const { return accepted && !conflicted; }
  // Goes into the snapshot.
  bool Programmable() const { return Usable() && certificates_ok; }
  // status.supportedKinds: none while the listener is not accepted (the kinds
  // still decide attachment, which listener status does not affect).
  std::vector<resources::RouteGroupKind> StatusKinds() const {
    return Usable() ? supported_kinds : std::vector<resources::RouteGroupKind>{};
  }
  // "namespace/owner/section": the virtual host name in snapshots.
  std::string QualifiedName() const;
  // Accepted, ResolvedRefs and Conflicted (Programmed is added at status time).
  std::vector<Condition> Conditions() const;
};

struct Gateway {
  const resources::Gateway* res = nullptr;
  const GatewayClass* gateway_class = nullptr;
  bool accepted = false;
  std::vector<Condition> conditions;  // Accepted, ResolvedRefs, [InsecureFrontendValidationMode]
  std::deque<Listener> listeners;     // spec.listeners, in order
  std::vector<ListenerSet*> listener_sets;  // attached, in precedence order
  // spec.addresses of type IPAddress with a value (static addresses).
  std::vector<std::string> static_addresses;
  // Secret key of spec.tls.backend.clientCertificateRef when it resolved.
  std::string backend_client_certificate;

  std::string Key() const { return res->Key(); }
  // The Gateway's listeners, then those of attached ListenerSets.
  std::vector<Listener*> AllListeners();
  std::vector<const Listener*> AllListeners() const;
};

struct ListenerSet {
  const resources::ListenerSet* res = nullptr;
  Gateway* gateway = nullptr;  // the parent, when it is one of ours
  bool allowed = false;        // the parent's allowedListeners selects it
  bool accepted = false;
  std::vector<Condition> conditions;  // Accepted (Programmed is added at status time)
  std::deque<Listener> listeners;
};

enum class RouteKind { kHTTP, kGRPC, kTLS, kTCP, kUDP };

std::string_view RouteKindName(RouteKind kind);

// One parentRef of a route that names a Gateway or ListenerSet of ours.
struct RouteParent {
  const resources::ParentRef* ref = nullptr;
  Gateway* gateway = nullptr;
  ListenerSet* listener_set = nullptr;
  Condition accepted;
  // Listeners the route attaches to through this parentRef, with its effective
  // hostnames on each (only counted and served when the route is accepted).
  std::vector<Listener*> listeners;
  std::vector<std::vector<std::string>> hostnames;
};

// A resolved backendRef (or mirror target). An empty cluster means the reference
// is invalid: requests that pick it get 500.
struct Backend {
  std::string cluster;
  int32_t weight = 1;
  const resources::BackendRef* ref = nullptr;  // nullptr for mirrors
};

struct RouteRule {
  size_t index = 0;
  bool valid = true;  // invalid rules are dropped (PartiallyInvalid)
  std::vector<Backend> backends;
  // Per backendRef filters' and rule filters' mirror targets, by filter position:
  // rule_mirrors[i] is the cluster for rule filter i (when it is a RequestMirror).
  std::map<size_t, std::string> rule_mirrors;
  std::vector<std::map<size_t, std::string>> backend_mirrors;  // per backend
  // HTTPRoute timeouts and retry backoff, parsed (0 = none).
  uint32_t request_timeout_ms = 0;
  uint32_t backend_request_timeout_ms = 0;
  uint32_t retry_backoff_ms = 0;
};

struct Route {
  RouteKind kind = RouteKind::kHTTP;
  const resources::Route* res = nullptr;
  const resources::HTTPRoute* http = nullptr;
  const resources::GRPCRoute* grpc = nullptr;
  const resources::L4Route* l4 = nullptr;
  std::vector<RouteParent> parents;
  Condition resolved_refs;
  // Set when some (not all) rules are invalid and were dropped.
  std::optional<Condition> partially_invalid;
  // Set when the route as a whole cannot be accepted (every rule invalid, ...).
  std::optional<Condition> rejected;
  std::vector<RouteRule> rules;

  std::string Key() const { return res->Key(); }
  bool Accepted() const { return !rejected.has_value(); }
};

enum class UpstreamProtocol { kHTTP1, kH2C, kWebSocket, kH2, kRaw };

struct Endpoint {
  std::string address;
  uint32_t port = 0;
  bool ready = true;
};

// BackendTLSPolicy applied to a cluster.
struct UpstreamTLS {
  std::string sni;
  std::string ca_bundle;  // key into Graph::ca_bundles; "" with system trust
  bool system_trust = false;
  std::vector<std::pair<std::string, std::string>> subject_alt_names;  // type, value
  std::string policy;                                                  // "ns/name" of the policy
};

// One Service port as an upstream: "namespace/service:port".
struct Cluster {
  std::string name;
  const resources::Service* service = nullptr;
  const resources::ServicePort* port = nullptr;
  UpstreamProtocol protocol = UpstreamProtocol::kHTTP1;
  std::vector<Endpoint> endpoints;
  std::optional<UpstreamTLS> tls;
  // Set when the BackendTLSPolicy that applies to this port is invalid: the
  // backend expects TLS we cannot originate, so it must not get traffic at all
  // (never in the clear). Says which policy and why.
  std::string tls_error;
};

struct PemSecret {
  std::string cert_pem;
  std::string key_pem;
};

struct BackendTLSPolicy {
  const resources::BackendTLSPolicy* res = nullptr;
  // Ancestors (Gateways) the policy is reported against, with its conditions.
  struct Ancestor {
    const Gateway* gateway = nullptr;
    std::optional<std::string> section_name;
  };
  std::vector<Ancestor> ancestors;
  std::vector<Condition> conditions;  // Accepted, ResolvedRefs (same for every ancestor)
  bool accepted = false;
};

struct Graph {
  std::deque<GatewayClass> gateway_classes;           // ours only
  std::deque<Gateway> gateways;                       // ours only, sorted by namespace/name
  std::deque<ListenerSet> listener_sets;              // those whose parent is ours
  std::deque<Route> routes;                           // those with at least one parent of ours
  std::deque<BackendTLSPolicy> backend_tls_policies;  // those that apply to our routes
  std::map<std::string, Cluster> clusters;
  std::map<std::string, PemSecret> secrets;       // TLS certificates by "ns/name"
  std::map<std::string, std::string> ca_bundles;  // PEM by "configmap:ns/name"
};

Graph Build(const resources::Resources& in, const Options& options);

}  // namespace gatehouse::graph
