// Internal: the compiled form of a Listener behind RouteTable (flat vectors, precomputed
// lowercase names, RE2 compiled once, hash maps for host lookup). Not a public header.
#ifndef GATEHOUSE_PROXY_ROUTER_TABLE_H_
#define GATEHOUSE_PROXY_ROUTER_TABLE_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gatehouse/config/v1/config.pb.h"
#include "proxy/router/router.h"
#include "re2/re2.h"

namespace gatehouse::router {

// Concatenation over std::string_view (Debian's Abseil is built with its own string_view,
// so absl::StrCat does not take std::string_view).
inline std::string Cat(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (auto p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (auto p : parts) out.append(p);
  return out;
}

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Exact value or RE2 full match.
struct ValueMatcher {
  std::string value;
  std::unique_ptr<RE2> regex;  // set for REGULAR_EXPRESSION

  bool Matches(std::string_view v) const { return regex ? RE2::FullMatch(v, *regex) : v == value; }
};

struct HeaderMatcher {
  std::string lower_name;
  ValueMatcher value;
};

struct QueryMatcher {
  std::string name;
  ValueMatcher value;
};

struct CompiledRoute {
  const config::v1::Route* config = nullptr;
  config::v1::PathMatch::Type path_type = config::v1::PathMatch::PREFIX;
  // EXACT: the normalized value. PREFIX: normalized, trailing '/' trimmed, so "" matches
  // every path.
  std::string path;
  std::unique_ptr<RE2> path_regex;
  std::string method;  // empty = any
  std::vector<HeaderMatcher> headers;
  std::vector<QueryMatcher> query_params;
};

// Hostname -> index lookup in precedence order: exact, wildcards by suffix length, "".
struct HostIndex {
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> exact;
  // Key: the wildcard's suffix including the dot (".foo.com" for "*.foo.com").
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> wildcard;
  int64_t catch_all = -1;

  // Calls `f(index)` for each entry matching lowercase `host`, most specific first, until
  // f returns true. Returns whether it did.
  template <typename F>
  bool Visit(std::string_view host, F&& f) const {
    if (!exact.empty()) {
      auto it = exact.find(host);
      if (it != exact.end() && f(it->second)) return true;
    }
    if (!wildcard.empty()) {
      // Longest suffix first: each '.' after the first character starts a candidate.
      for (size_t p = host.find('.', 1); p != std::string_view::npos; p = host.find('.', p + 1)) {
        auto it = wildcard.find(host.substr(p));
        if (it != wildcard.end() && f(it->second)) return true;
      }
    }
    return catch_all >= 0 && f(static_cast<uint32_t>(catch_all));
  }
};

// For large groups: candidate routes by the first path segment ("svc" for "/svc/x"), so a
// request only tests routes that can match it. Exact and PathPrefix routes with a
// non-empty first segment are indexed under it (segment-aware prefixes match only
// requests with the same first segment); regex and "/" prefixes are always candidates.
// Both lists hold route ids in precedence order and Select merges them, so the first
// match is the same as with a linear scan.
struct SegmentIndex {
  std::unordered_map<std::string, std::vector<uint32_t>, StringHash, std::equal_to<>> by_segment;
  std::vector<uint32_t> always;
};

// Groups smaller than this are scanned linearly (faster than a hash lookup).
inline constexpr uint32_t kIndexMinRoutes = 16;

struct RouteGroup {
  uint32_t begin = 0;  // range in Data::routes
  uint32_t end = 0;
  std::unique_ptr<SegmentIndex> index;  // set when end - begin >= kIndexMinRoutes
};

// The first segment of a normalized path: "/a/b" -> "a", "/" -> "".
inline std::string_view FirstSegment(std::string_view path) {
  std::string_view rest = path.substr(1);
  return rest.substr(0, rest.find('/'));
}

struct CompiledVirtualHost {
  const config::v1::VirtualHost* config = nullptr;
  HostIndex group_index;
  std::vector<RouteGroup> groups;
};

struct RouteTable::Data {
  config::v1::Listener listener;
  std::vector<CompiledRoute> routes;
  std::vector<CompiledVirtualHost> virtual_hosts;
  HostIndex virtual_host_index;
};

// Lowercases `host` (port and trailing dot already stripped) into `buf` (capacity
// kMaxHost). Returns false when it does not fit.
inline constexpr size_t kMaxHost = 256;
bool LowercaseHost(std::string_view host, char* buf, std::string_view* out);

}  // namespace gatehouse::router

#endif  // GATEHOUSE_PROXY_ROUTER_TABLE_H_
