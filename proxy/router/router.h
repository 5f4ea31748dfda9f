// The proxy's routing engine: compiles one HTTP/HTTPS config Listener into an immutable
// table and selects, per request, the virtual host and route that serve it (Gateway API
// listener isolation, hostname/path/header/query/method precedence). Pure logic: no I/O,
// no threads, no clocks. Actions (redirects, rewrites, header filters, ...) are in
// actions.h; path helpers in path.h; header adapters in headers.h / beast_headers.h.
#ifndef GATEHOUSE_PROXY_ROUTER_ROUTER_H_
#define GATEHOUSE_PROXY_ROUTER_ROUTER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gatehouse/config/v1/config.pb.h"
#include "proxy/router/headers.h"

namespace gatehouse::router {

// What the controller must guarantee, and what Compile() checks:
//
// Virtual hosts (one per Gateway listener on the port) may come in any order; their
// hostnames must be unique within the Listener ("" at most once). The router orders them
// itself: exact hostname > longest wildcard suffix > "" (catch-all). "*.foo.com" matches
// "a.foo.com" and "a.b.foo.com", never "foo.com".
//
// HostRoutes groups inside a virtual host may come in any order; hostnames unique within
// the virtual host. The router tries every group whose hostname matches the request host,
// most specific first (exact, then wildcards by length, then ""), and inside a group takes
// the FIRST route whose match holds. Groups are never merged.
//
// Routes inside a group must already be sorted by the spec's precedence (HTTPRoute
// "matches" docs), which the router relies on and does not re-sort:
//   0. by the route's own hostname (Route.route_hostname) that put it in the group:
//      exact, then wildcards longest first, then none (hostname intersection
//      precedence: routes sharing an effective hostname);
//   1. Exact path before any PathPrefix;
//   2. PathPrefix by number of characters in the value, longest first;
//   3. a route with a method match before one without;
//   4. more header matches first;
//   5. more query param matches first;
//   6. then creation time / namespace+name / rule order (not visible here).
// RegularExpression path matches are implementation-specific in the spec (the controller
// puts them after Exact and before PathPrefix); the router accepts them anywhere and the
// order check skips them. In debug builds (!NDEBUG),
// Compile() rejects a group that violates 0-5 (see CheckRouteOrder); release builds trust
// the controller.
//
// Validation (every build) rejects: unknown enum values, bad RE2 patterns, path values
// that do not start with '/', hostnames that are not ""/"foo.com"/"*.foo.com" (lowercase
// DNS labels), empty or invalid header / query param names, redirect status codes other
// than 301/302/303/307/308, redirect ports > 65535, schemes other than http/https, path
// modifier values not starting with '/', routes without an action, filters without a type,
// RequestMirror without a cluster or with a fraction above 1, and header modifier names /
// values that cannot go on the wire. The message names the listener, virtual host, host
// group and route.

// Why Select did not pick a route.
enum class SelectResult : uint8_t {
  kRouted = 0,     // virtual_host and route are set
  kBadRequest,     // 400: the request target or host cannot be routed (see `error`)
  kNoVirtualHost,  // 404: no virtual host matches the host
  kNoRoute,        // 404: a virtual host matched, but none of its routes
  kMisdirected,    // 421: Host selects another virtual host than the TLS SNI did
};

// Per-request input. All views must stay valid for the duration of Select; the views in
// the returned Selection point into these (or into `scratch`).
struct Request {
  // Method as sent ("GET", ...); compared case-sensitively.
  std::string_view method;
  // Host header (HTTP/1.1) or :authority (HTTP/2), possibly with a port, any case, maybe a
  // trailing dot. An absolute-form target's authority overrides it.
  std::string_view authority;
  // Raw request target as received (":path" for HTTP/2): path plus optional query.
  std::string_view target;
  // HTTPS only: the TLS SNI server name of the connection; empty when plaintext or when the
  // client sent none (then no 421 check). Used only when the Listener has
  // detect_misdirected_requests.
  std::string_view sni;
};

// The result of Select. Pointers point into the RouteTable (valid while it lives); views
// point into the Request or the caller's `scratch`.
struct Selection {
  SelectResult result = SelectResult::kNoVirtualHost;
  // Set for kRouted and kNoRoute (and for kMisdirected: the Host's virtual host, if any).
  const config::v1::VirtualHost* virtual_host = nullptr;
  // Set for kRouted.
  const config::v1::Route* route = nullptr;
  // Dense ids for per-route/per-vhost counters: 0 <= id < RouteTable::route_count() /
  // virtual_host_count(). Valid when the matching pointer is set.
  uint32_t virtual_host_id = 0;
  uint32_t route_id = 0;

  // Request host: authority without port and trailing dot, original case.
  std::string_view host;
  // Normalized path (what matching used); use it for redirects and rewrites.
  std::string_view path;
  // Raw path and query exactly as received. Forward `Request::target` byte for byte unless
  // a URL rewrite applies.
  std::string_view original_path;
  std::string_view query;  // without '?'
  bool has_query = false;  // the target contained '?'
  // kBadRequest: static description of what is wrong.
  std::string_view error;

  bool routed() const { return result == SelectResult::kRouted; }
  // The status to answer with when not routed: 400, 404 or 421 (0 when routed).
  int HttpStatus() const;
};

// Compiled, immutable routing table for one Listener. Thread-safe for concurrent Select
// calls (it is never mutated after Compile). Share it as std::shared_ptr<const RouteTable>.
class RouteTable {
 public:
  // Validates and compiles `listener` (copied into the table; RE2 patterns compiled once).
  // Only virtual_hosts are compiled: a listener without any (TLS, TCP, UDP) gives an empty
  // table (every Select -> 404).
  // On error, the status (InvalidArgument) names the virtual host / route at fault; the
  // proxy NACKs the snapshot with it.
  static absl::StatusOr<std::shared_ptr<const RouteTable>> Compile(
      const config::v1::Listener& listener);

  ~RouteTable();
  RouteTable(const RouteTable&) = delete;
  RouteTable& operator=(const RouteTable&) = delete;

  // Selects the virtual host and route for one request. `headers` are the request
  // headers. `scratch` is caller-owned storage (reuse one per connection/stream to avoid
  // allocations); it is used only when the path needs normalizing, and the Selection's
  // `path` may point into it, so keep it unchanged while using the Selection.
  // Never allocates otherwise.
  Selection Select(const Request& request, const HeaderSource& headers, std::string& scratch) const;

  // The virtual host a host name selects (listener isolation rules), or nullptr. Any
  // case, port and trailing dot are ignored. Useful to pick the vhost for an SNI name.
  const config::v1::VirtualHost* FindVirtualHost(std::string_view host) const;

  // The compiled listener (a copy of the input).
  const config::v1::Listener& listener() const;
  uint32_t virtual_host_count() const;
  uint32_t route_count() const;
  // The route with a given dense id (0 <= id < route_count()).
  const config::v1::Route& route(uint32_t route_id) const;

 private:
  struct Data;
  explicit RouteTable(std::unique_ptr<Data> data);
  std::unique_ptr<Data> data_;
};

// Convenience: RouteTable::Compile.
inline absl::StatusOr<std::shared_ptr<const RouteTable>> Compile(
    const config::v1::Listener& listener) {
  return RouteTable::Compile(listener);
}

// Checks that the routes of one group follow precedence rules 0-5 above. Compile() calls
// it only in debug builds; exposed so tests (and tools) can run it in any build.
absl::Status CheckRouteOrder(const config::v1::HostRoutes& group);

// Strips the port (and IPv6 brackets stay), a trailing dot, from an authority:
// "Foo.com:8080" -> "Foo.com", "foo.com." -> "foo.com", "[::1]:80" -> "[::1]".
std::string_view HostWithoutPort(std::string_view authority);

}  // namespace gatehouse::router

#endif  // GATEHOUSE_PROXY_ROUTER_ROUTER_H_
