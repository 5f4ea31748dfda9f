// Typed Gateway API objects (gateway.networking.k8s.io, v1.7.0 shapes), as decoded
// from JSON. Defaults the API server would apply are applied by the decoder, so a
// manifest read from a directory means the same as one read from the API.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controller/resources/meta.h"

namespace gatehouse::resources {

// ---- GatewayClass ----

struct GatewayClass : ObjectBase {
  std::string controller_name;
  std::optional<ObjectRef> parameters_ref;
  std::optional<std::string> description;
};

// ---- Gateway and listeners ----

struct RouteGroupKind {
  std::string group{kGatewayGroup};
  std::string kind;
};

struct AllowedRoutes {
  std::string from = "Same";  // All, Same, Selector
  std::optional<LabelSelector> selector;
  std::vector<RouteGroupKind> kinds;  // empty: the protocol's default kinds
};

struct ListenerTLS {
  std::string mode = "Terminate";  // Terminate, Passthrough
  std::vector<ObjectRef> certificate_refs;
  std::map<std::string, std::string> options;
};

struct Listener {
  std::string name;
  std::optional<std::string> hostname;
  int32_t port = 0;
  std::string protocol;
  std::optional<ListenerTLS> tls;
  AllowedRoutes allowed_routes;
};

struct GatewayAddress {
  std::string type = "IPAddress";
  std::string value;  // may be empty: "assign one of this type"
};

struct FrontendValidation {
  std::vector<ObjectRef> ca_certificate_refs;
  std::string mode = "AllowValidOnly";  // AllowValidOnly, AllowInsecureFallback
};

struct AllowedListeners {
  std::string from = "None";  // All, Same, Selector, None
  std::optional<LabelSelector> selector;
};

struct Gateway : ObjectBase {
  std::string gateway_class_name;
  std::vector<Listener> listeners;
  std::vector<GatewayAddress> addresses;
  std::optional<ObjectRef> infrastructure_parameters_ref;
  std::map<std::string, std::string> infrastructure_labels;
  std::map<std::string, std::string> infrastructure_annotations;
  AllowedListeners allowed_listeners;
  std::optional<ObjectRef> backend_client_certificate_ref;
  std::optional<FrontendValidation> frontend_default_validation;
  std::vector<std::pair<int32_t, std::optional<FrontendValidation>>> frontend_per_port;
};

// ---- ListenerSet ----

struct ListenerSet : ObjectBase {
  ParentRef parent;  // group/kind/name/namespace of the Gateway
  std::vector<Listener> listeners;
};

// ---- Routes ----

struct HTTPHeaderFilter {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;
};

struct HTTPPathModifier {
  std::string type;  // ReplaceFullPath, ReplacePrefixMatch
  std::optional<std::string> replace_full_path;
  std::optional<std::string> replace_prefix_match;
};

struct HTTPRequestRedirect {
  std::optional<std::string> scheme;
  std::optional<std::string> hostname;
  std::optional<HTTPPathModifier> path;
  std::optional<int32_t> port;
  int32_t status_code = 302;
};

struct HTTPURLRewrite {
  std::optional<std::string> hostname;
  std::optional<HTTPPathModifier> path;
};

struct HTTPRequestMirror {
  ObjectRef backend_ref;  // group "" kind Service by default
  std::optional<int32_t> percent;
  std::optional<std::pair<int32_t, int32_t>> fraction;  // numerator, denominator
};

struct HTTPCORS {
  std::vector<std::string> allow_origins;
  std::vector<std::string> allow_methods;
  std::vector<std::string> allow_headers;
  std::vector<std::string> expose_headers;
  bool allow_credentials = false;
  int32_t max_age = 5;
};

// One filter of an HTTPRoute or GRPCRoute rule or backendRef.
struct RouteFilter {
  std::string type;
  std::optional<HTTPHeaderFilter> request_header_modifier;
  std::optional<HTTPHeaderFilter> response_header_modifier;
  std::optional<HTTPRequestRedirect> request_redirect;
  std::optional<HTTPURLRewrite> url_rewrite;
  std::optional<HTTPRequestMirror> request_mirror;
  std::optional<HTTPCORS> cors;
  std::optional<ObjectRef> extension_ref;
};

struct BackendRef {
  ObjectRef ref;  // group "" kind Service by default
  int32_t weight = 1;
  std::vector<RouteFilter> filters;
};

struct HTTPPathMatch {
  std::string type = "PathPrefix";  // Exact, PathPrefix, RegularExpression
  std::string value = "/";
};

struct StringMatch {
  std::string type = "Exact";  // Exact, RegularExpression
  std::string name;
  std::string value;
};

struct HTTPRouteMatch {
  HTTPPathMatch path;
  std::vector<StringMatch> headers;
  std::vector<StringMatch> query_params;
  std::optional<std::string> method;
};

struct HTTPRouteRetry {
  std::vector<int32_t> codes;
  std::optional<int32_t> attempts;
  std::optional<std::string> backoff;
};

struct HTTPRouteRule {
  std::optional<std::string> name;
  std::vector<HTTPRouteMatch> matches;  // empty: one match, PathPrefix "/"
  std::vector<RouteFilter> filters;
  std::vector<BackendRef> backend_refs;
  std::optional<std::string> request_timeout;
  std::optional<std::string> backend_request_timeout;
  std::optional<HTTPRouteRetry> retry;
  bool session_persistence = false;
};

struct GRPCMethodMatch {
  std::string type = "Exact";  // Exact, RegularExpression
  std::optional<std::string> service;
  std::optional<std::string> method;
};

struct GRPCRouteMatch {
  std::optional<GRPCMethodMatch> method;
  std::vector<StringMatch> headers;
};

struct GRPCRouteRule {
  std::optional<std::string> name;
  std::vector<GRPCRouteMatch> matches;
  std::vector<RouteFilter> filters;
  std::vector<BackendRef> backend_refs;
  bool session_persistence = false;
};

// TLSRoute, TCPRoute and UDPRoute rules: backends only.
struct L4RouteRule {
  std::optional<std::string> name;
  std::vector<BackendRef> backend_refs;
};

// What every route kind shares: attachment and hostnames.
struct Route : ObjectBase {
  std::vector<ParentRef> parent_refs;
  std::vector<std::string> hostnames;  // HTTPRoute, GRPCRoute, TLSRoute
};

struct HTTPRoute : Route {
  std::vector<HTTPRouteRule> rules;
};

struct GRPCRoute : Route {
  std::vector<GRPCRouteRule> rules;
};

// TLSRoute, TCPRoute, UDPRoute (kind tells which).
struct L4Route : Route {
  std::vector<L4RouteRule> rules;
};

// ---- ReferenceGrant ----

struct ReferenceGrant : ObjectBase {
  struct From {
    std::string group;
    std::string kind;
    std::string ns;
  };
  struct To {
    std::string group;
    std::string kind;
    std::optional<std::string> name;
  };
  std::vector<From> from;
  std::vector<To> to;
};

// ---- BackendTLSPolicy ----

struct BackendTLSPolicy : ObjectBase {
  struct TargetRef {
    std::string group;
    std::string kind;
    std::string name;
    std::optional<std::string> section_name;
  };
  struct SubjectAltName {
    std::string type;  // Hostname, URI
    std::string value;
  };
  std::vector<TargetRef> target_refs;
  std::vector<ObjectRef> ca_certificate_refs;             // local: group, kind, name
  std::optional<std::string> well_known_ca_certificates;  // "System"
  std::string hostname;
  std::vector<SubjectAltName> subject_alt_names;
  std::map<std::string, std::string> options;
};

}  // namespace gatehouse::resources
