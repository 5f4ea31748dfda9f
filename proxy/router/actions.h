// Route actions and filters as pure functions over snapshot messages and simple request
// data: weighted backend choice, redirect Location, URL rewrite, header modifiers, CORS,
// mirror sampling and retry decisions. The sessions call them; nothing here does I/O or
// reads a clock, and every random choice takes the random number from the caller.
#ifndef GATEHOUSE_PROXY_ROUTER_ACTIONS_H_
#define GATEHOUSE_PROXY_ROUTER_ACTIONS_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "gatehouse/config/v1/config.pb.h"
#include "proxy/router/headers.h"

namespace gatehouse::router {

// ---- Weighted backend choice ----------------------------------------------------------

// Picks a backend with probability weight / sum(weights), using `random` (uniform over
// all 64-bit values). Backends with weight 0 are never chosen. Returns nullptr when no
// backend has a positive weight (no backends, or all weights 0): answer 500. A returned
// backend with an empty `cluster` is an invalid backendRef: answer 500 as well (see
// BackendIsInvalid).
const config::v1::WeightedBackend* ChooseBackend(const config::v1::ForwardAction& action,
                                                 uint64_t random);
// Same over any repeated WeightedBackend list (TLS / L4 routes).
const config::v1::WeightedBackend* ChooseBackend(
    const google::protobuf::RepeatedPtrField<config::v1::WeightedBackend>& backends,
    uint64_t random);

// True when the pick means "answer 500" (nullptr or an invalid backendRef).
inline bool BackendIsInvalid(const config::v1::WeightedBackend* backend) {
  return backend == nullptr || backend->cluster().empty();
}

// ---- Redirect ---------------------------------------------------------------------------

struct RedirectInput {
  // Scheme of the downstream connection: "http" or "https".
  std::string_view scheme;
  // Request host without port (Selection::host).
  std::string_view host;
  // Port of the listener that received the request.
  uint32_t listener_port = 0;
  // Normalized request path (Selection::path) and the raw query (Selection::query).
  std::string_view path;
  std::string_view query;
  bool has_query = false;
};

struct Redirect {
  uint32_t status = 302;
  // Absolute URL: scheme://host[:port]path[?query].
  std::string location;
};

// Builds the redirect response per HTTPRequestRedirectFilter:
//   scheme:   RedirectAction.scheme, else the request's;
//   host:     RedirectAction.hostname, else the request host (never its port);
//   port:     RedirectAction.port when set; else the listener port when the scheme is
//             unchanged; else the new scheme's default. 80 is omitted for http and 443 for
//             https;
//   path:     ReplaceFullPath, ReplacePrefixMatch (ReplacePathPrefix rules), else kept;
//   query:    kept verbatim;
//   status:   RedirectAction.status_code, 302 when 0.
Redirect BuildRedirect(const config::v1::RedirectAction& action, const RedirectInput& input);

// ---- URL rewrite ------------------------------------------------------------------------

// Applies a PathModifier to `path` (full replacement, or ReplacePathPrefix with
// modifier.matched_prefix, "" meaning "/"). Returns `path` unchanged when no modifier is set.
std::string ModifyPath(const config::v1::PathModifier& modifier, std::string_view path);

struct UrlRewriteResult {
  // New upstream Host / :authority; empty = keep the request's.
  std::string host;
  // New request target (path + "?" + query when the request had one); empty = forward the
  // original target unchanged.
  std::string target;
};

// URLRewrite filter: hostname and/or path. `path` is the normalized path
// (Selection::path); the query is carried over verbatim.
UrlRewriteResult ApplyUrlRewrite(const config::v1::UrlRewrite& rewrite, std::string_view path,
                                 std::string_view query, bool has_query);

// ---- Header modifiers -------------------------------------------------------------------

// RequestHeaderModifier / ResponseHeaderModifier. Order: set, then add, then remove (so a
// name both set and removed ends up removed). Set replaces every existing value; add
// appends to existing values so the recipient sees "old,new"; names compare
// case-insensitively.
void ApplyHeaderModifier(const config::v1::HeaderModifier& modifier, HeaderMap& headers);

// ---- CORS -------------------------------------------------------------------------------

// A preflight is an OPTIONS request with Origin and Access-Control-Request-Method.
bool IsCorsPreflight(std::string_view method, const HeaderSource& request_headers);

// True when `origin` (the Origin request header) is allowed by the filter: exact match,
// "*", or a pattern whose host starts with "*" (greedy to the left over any number of
// labels, e.g. "https://*.bar.com" matches "https://a.b.bar.com"). Scheme and port must
// match; a missing port means the scheme's default.
bool CorsOriginAllowed(const config::v1::Cors& cors, std::string_view origin);

// Answers a preflight: writes the Access-Control-* headers into `response` when the Origin
// is allowed (none otherwise) and returns the status to answer with (always 204; the
// proxy never forwards a preflight).
uint32_t CorsPreflight(const config::v1::Cors& cors, const HeaderSource& request_headers,
                       HeaderMap& response);

// Actual (non-preflight) cross-origin request: adds Access-Control-Allow-Origin (echoing
// `origin`), -Allow-Credentials and -Expose-Headers to the upstream's response when the
// origin is allowed. `origin` is the request's Origin header (empty = not CORS: no-op).
void AddCorsResponseHeaders(const config::v1::Cors& cors, std::string_view origin,
                            HeaderMap& response);

// ---- Request mirror ---------------------------------------------------------------------

// Whether this request is mirrored: numerator/denominator (0/0 = always), decided with
// `random` (uniform over all 64-bit values).
bool ShouldMirror(const config::v1::RequestMirror& mirror, uint64_t random);

// ---- Retries ----------------------------------------------------------------------------

// How one upstream attempt ended.
struct AttemptOutcome {
  // The upstream connection failed, was refused or reset before a response header arrived.
  bool connection_error = false;
  // Response status when !connection_error.
  uint32_t status = 0;
};

// Whether to retry after an attempt. `retries_done` counts retries already made (0 after
// the first attempt); at most policy.attempts retries are made. Retries on a listed status
// code, or on a connection error when policy.connection_error is set.
bool ShouldRetry(const config::v1::RetryPolicy& policy, uint32_t retries_done,
                 const AttemptOutcome& outcome);

// Delay before retry number `retries_done + 1`: backoff_ms * 2^retries_done, capped at
// 32 * backoff_ms, then jittered uniformly into [delay/2, delay] with `random`. 0 when
// backoff_ms is 0.
uint32_t RetryBackoffMs(const config::v1::RetryPolicy& policy, uint32_t retries_done,
                        uint64_t random);

}  // namespace gatehouse::router

#endif  // GATEHOUSE_PROXY_ROUTER_ACTIONS_H_
