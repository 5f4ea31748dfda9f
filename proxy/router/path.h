// Request-target parsing and path normalization for routing, plus the segment-aware
// prefix rules shared by PathPrefix matching, ReplacePrefixMatch redirects and rewrites.
// Pure functions; the only allocation is in `scratch` when a path must be rewritten.
#ifndef GATEHOUSE_PROXY_ROUTER_PATH_H_
#define GATEHOUSE_PROXY_ROUTER_PATH_H_

#include <string>
#include <string_view>

namespace gatehouse::router {

// A request target split into its parts. Views into the original target.
struct TargetParts {
  // Set for absolute-form targets ("http://host:port/p?q"): the authority, which then
  // takes precedence over the Host header (RFC 9112 3.2.2). Empty otherwise.
  std::string_view authority;
  // Raw path bytes, starting with '/' (or empty when the target is invalid).
  std::string_view path;
  // Raw query bytes, without the '?'.
  std::string_view query;
  // True when the target had a '?' (even with an empty query), so it can be kept verbatim.
  bool has_query = false;
};

// Splits an origin-form ("/p?q") or absolute-form ("http://h/p?q") target. Returns false
// (with `*error` set to a static message) for asterisk-form, authority-form, fragments and
// anything else a router cannot route.
bool SplitTarget(std::string_view target, TargetParts* parts, std::string_view* error);

// Result of NormalizePath. `path` views either the input (nothing to change) or `scratch`.
struct NormalizedPath {
  bool ok = false;
  std::string_view path;
  // Static description when !ok (the caller answers 400).
  std::string_view error;
};

// Normalizes a raw path (starting with '/', no query) the way matching expects:
//   - percent-encoded unreserved characters (ALPHA DIGIT - . _ ~) are decoded; every
//     other escape is kept, with its hex digits uppercased (so "%2f" stays an escaped
//     "/" and never becomes a segment separator);
//   - "." and ".." segments are resolved (RFC 3986 5.2.4; ".." never climbs above "/");
//   - runs of '/' collapse to one.
// Errors: not starting with '/', a '%' not followed by two hex digits, control
// characters, space, '#' or DEL.
NormalizedPath NormalizePath(std::string_view raw_path, std::string& scratch);

// PathPrefix semantics: `prefix` matches `path` element-wise. "/v2" matches "/v2",
// "/v2/" and "/v2/x", not "/v2example". A trailing '/' in the prefix is ignored, so
// "/v2/" behaves like "/v2"; "/" matches everything.
bool PathPrefixMatches(std::string_view prefix, std::string_view path);

// ReplacePrefixMatch: replaces the leading `prefix` (which must match per
// PathPrefixMatches; else `path` is returned unchanged) with `replacement`, keeping the
// rest. Never produces "//" at the junction and never returns an empty path:
//   ("/prefix/one", "/prefix", "/one")   -> "/one/one"
//   ("/prefix/one", "/prefix", "/")      -> "/one"
//   ("/prefix",     "/prefix", "/")      -> "/"
//   ("/prefix/",    "/prefix", "/one")   -> "/one/"
//   ("/prefix/one", "/prefix", "")       -> "/one"
std::string ReplacePathPrefix(std::string_view path, std::string_view prefix,
                              std::string_view replacement);

}  // namespace gatehouse::router

#endif  // GATEHOUSE_PROXY_ROUTER_PATH_H_
