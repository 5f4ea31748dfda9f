// RouteTable::Compile: validates a config Listener and builds the flat lookup tables.
#include <algorithm>
#include <cctype>
#include <tuple>
#include <utility>

#include "proxy/router/path.h"
#include "proxy/router/table.h"

namespace gatehouse::router {
namespace {

using config::v1::HostRoutes;
using config::v1::Listener;
using config::v1::PathMatch;
using config::v1::Route;
using config::v1::VirtualHost;

bool IsTokenChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

bool IsHeaderName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return IsTokenChar(static_cast<unsigned char>(c));
  });
}

bool IsHeaderValue(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

// "" | "*.label.label" | "label.label"; lowercase RFC 1123 labels, at most 253 chars.
bool IsHostnamePattern(std::string_view h) {
  if (h.empty()) return true;
  if (h.size() > 253) return false;
  if (h.substr(0, 2) == "*.") h.remove_prefix(2);
  if (h.empty()) return false;
  size_t start = 0;
  while (start <= h.size()) {
    size_t end = h.find('.', start);
    if (end == std::string_view::npos) end = h.size();
    std::string_view label = h.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    }
    start = end + 1;
  }
  return true;
}

absl::Status Invalid(std::string_view where, std::string_view what) {
  return absl::InvalidArgumentError(Cat({where, ": ", what}));
}

absl::StatusOr<std::unique_ptr<RE2>> CompileRegex(std::string_view where,
                                                  const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(pattern, options);
  if (!re->ok()) {
    return Invalid(where, Cat({"invalid regular expression \"", pattern, "\": ", re->error()}));
  }
  return re;
}

absl::Status CheckPathValue(std::string_view where, std::string_view kind, std::string_view value) {
  if (value.empty() || value[0] != '/') {
    return Invalid(where, Cat({kind, " \"", value, "\" does not start with '/'"}));
  }
  std::string scratch;
  NormalizedPath n = NormalizePath(value, scratch);
  if (!n.ok) return Invalid(where, Cat({kind, " \"", value, "\": ", n.error}));
  return absl::OkStatus();
}

absl::Status CheckPathModifier(std::string_view where, const config::v1::PathModifier& m) {
  switch (m.modifier_case()) {
    case config::v1::PathModifier::kReplaceFullPath:
      if (m.replace_full_path().empty()) return absl::OkStatus();  // means "/"
      return CheckPathValue(where, "replace_full_path", m.replace_full_path());
    case config::v1::PathModifier::kReplacePrefixMatch:
      if (!m.replace_prefix_match().empty()) {
        if (auto s = CheckPathValue(where, "replace_prefix_match", m.replace_prefix_match());
            !s.ok()) {
          return s;
        }
      }
      // Empty means "/": the API allows ReplacePrefixMatch only with a PathPrefix match, but
      // a source without CRD validation may still send one; rewriting from "/" is harmless,
      // NACKing the whole snapshot for it is not.
      if (m.matched_prefix().empty()) return absl::OkStatus();
      return CheckPathValue(where, "matched_prefix", m.matched_prefix());
    case config::v1::PathModifier::MODIFIER_NOT_SET:
      return absl::OkStatus();
  }
  return Invalid(where, "unknown path modifier");
}

absl::Status CheckHeaderModifier(std::string_view where, const config::v1::HeaderModifier& m) {
  for (const auto* list : {&m.set(), &m.add()}) {
    for (const auto& h : *list) {
      if (!IsHeaderName(h.name())) {
        return Invalid(where, Cat({"invalid header name \"", h.name(), "\""}));
      }
      if (!IsHeaderValue(h.value())) {
        return Invalid(where, Cat({"invalid value for header \"", h.name(), "\""}));
      }
    }
  }
  for (const auto& name : m.remove()) {
    if (!IsHeaderName(name)) {
      return Invalid(where, Cat({"invalid header name \"", name, "\""}));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFilter(std::string_view where, const config::v1::HttpFilter& f) {
  switch (f.filter_case()) {
    case config::v1::HttpFilter::kRequestHeaderModifier:
      return CheckHeaderModifier(where, f.request_header_modifier());
    case config::v1::HttpFilter::kResponseHeaderModifier:
      return CheckHeaderModifier(where, f.response_header_modifier());
    case config::v1::HttpFilter::kUrlRewrite:
      if (!f.url_rewrite().hostname().empty() && !IsHostnamePattern(f.url_rewrite().hostname())) {
        return Invalid(where,
                       Cat({"invalid rewrite hostname \"", f.url_rewrite().hostname(), "\""}));
      }
      return CheckPathModifier(where, f.url_rewrite().path());
    case config::v1::HttpFilter::kRequestMirror: {
      const auto& m = f.request_mirror();
      if (m.cluster().empty()) return Invalid(where, "request mirror without a cluster");
      if (m.numerator() > m.denominator() && !(m.denominator() == 0 && m.numerator() == 0)) {
        return Invalid(where, Cat({"request mirror fraction ", std::to_string(m.numerator()), "/",
                                   std::to_string(m.denominator()), " is above 1"}));
      }
      return absl::OkStatus();
    }
    case config::v1::HttpFilter::kCors:
      for (const auto& h : f.cors().allow_headers()) {
        if (h != "*" && !IsHeaderName(h)) {
          return Invalid(where, Cat({"invalid CORS allow header \"", h, "\""}));
        }
      }
      for (const auto& h : f.cors().expose_headers()) {
        if (h != "*" && !IsHeaderName(h)) {
          return Invalid(where, Cat({"invalid CORS expose header \"", h, "\""}));
        }
      }
      return absl::OkStatus();
    case config::v1::HttpFilter::FILTER_NOT_SET:
      return Invalid(where, "filter without a type");
  }
  return Invalid(where, "unknown filter type");
}

absl::Status CheckAction(std::string_view where, const Route& route) {
  switch (route.action_case()) {
    case Route::kForward:
      for (const auto& b : route.forward().backends()) {
        for (const auto& f : b.filters()) {
          if (auto s = CheckFilter(where, f); !s.ok()) return s;
        }
      }
      return absl::OkStatus();
    case Route::kRedirect: {
      const auto& r = route.redirect();
      if (!r.scheme().empty() && r.scheme() != "http" && r.scheme() != "https") {
        return Invalid(where, Cat({"redirect scheme \"", r.scheme(), "\" is not http/https"}));
      }
      if (!r.hostname().empty() && !IsHostnamePattern(r.hostname())) {
        return Invalid(where, Cat({"invalid redirect hostname \"", r.hostname(), "\""}));
      }
      if (r.port() > 65535)
        return Invalid(where, Cat({"redirect port ", std::to_string(r.port())}));
      switch (r.status_code()) {
        case 0:
        case 301:
        case 302:
        case 303:
        case 307:
        case 308:
          break;
        default:
          return Invalid(where, Cat({"redirect status code ", std::to_string(r.status_code()),
                                     " is not 301, 302, 303, 307 or 308"}));
      }
      return CheckPathModifier(where, r.path());
    }
    case Route::kDirectResponse:
      if (route.direct_response().status() < 100 || route.direct_response().status() > 599) {
        return Invalid(where, Cat({"direct response status ",
                                   std::to_string(route.direct_response().status())}));
      }
      return absl::OkStatus();
    case Route::ACTION_NOT_SET:
      return Invalid(where, "route has no action");
  }
  return Invalid(where, "unknown route action");
}

absl::StatusOr<ValueMatcher> CompileValue(std::string_view where, bool regex,
                                          const std::string& value) {
  ValueMatcher m;
  if (regex) {
    auto re = CompileRegex(where, value);
    if (!re.ok()) return re.status();
    m.regex = std::move(*re);
  } else {
    m.value = value;
  }
  return m;
}

absl::StatusOr<CompiledRoute> CompileRoute(std::string_view where, const Route& route) {
  CompiledRoute out;
  out.config = &route;
  const auto& match = route.match();
  const auto& path = match.path();
  if (!PathMatch::Type_IsValid(path.type())) {
    return Invalid(where, Cat({"unknown path match type ", std::to_string(path.type())}));
  }
  out.path_type = path.type();
  switch (path.type()) {
    case PathMatch::PREFIX:
    case PathMatch::EXACT: {
      std::string value = path.value();
      if (value.empty() && path.type() == PathMatch::PREFIX) value = "/";
      if (auto s = CheckPathValue(where, "path", value); !s.ok()) return s;
      std::string scratch;
      out.path = std::string(NormalizePath(value, scratch).path);
      if (path.type() == PathMatch::PREFIX) {
        while (!out.path.empty() && out.path.back() == '/') out.path.pop_back();
      }
      break;
    }
    default: {
      auto re = CompileRegex(where, path.value());
      if (!re.ok()) return re.status();
      out.path_regex = std::move(*re);
      break;
    }
  }
  if (!match.method().empty() && !IsHeaderName(match.method())) {
    return Invalid(where, Cat({"invalid method \"", match.method(), "\""}));
  }
  out.method = match.method();
  for (const auto& h : match.headers()) {
    if (!config::v1::HeaderMatch::Type_IsValid(h.type())) {
      return Invalid(where, Cat({"unknown header match type ", std::to_string(h.type())}));
    }
    if (!IsHeaderName(h.name())) {
      return Invalid(where, Cat({"invalid header match name \"", h.name(), "\""}));
    }
    HeaderMatcher hm;
    hm.lower_name = h.name();
    for (char& c : hm.lower_name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // The spec considers only the first of several matches on the same header name.
    bool duplicate =
        std::any_of(out.headers.begin(), out.headers.end(),
                    [&](const HeaderMatcher& o) { return o.lower_name == hm.lower_name; });
    auto value =
        CompileValue(where, h.type() == config::v1::HeaderMatch::REGULAR_EXPRESSION, h.value());
    if (!value.ok()) return value.status();
    if (duplicate) continue;
    hm.value = std::move(*value);
    out.headers.push_back(std::move(hm));
  }
  for (const auto& q : match.query_params()) {
    if (!config::v1::QueryParamMatch::Type_IsValid(q.type())) {
      return Invalid(where, Cat({"unknown query param match type ", std::to_string(q.type())}));
    }
    if (q.name().empty()) return Invalid(where, "empty query param match name");
    QueryMatcher qm;
    qm.name = q.name();
    bool duplicate = std::any_of(out.query_params.begin(), out.query_params.end(),
                                 [&](const QueryMatcher& o) { return o.name == qm.name; });
    auto value =
        CompileValue(where, q.type() == config::v1::QueryParamMatch::REGULAR_EXPRESSION, q.value());
    if (!value.ok()) return value.status();
    if (duplicate) continue;
    qm.value = std::move(*value);
    out.query_params.push_back(std::move(qm));
  }
  if (auto s = CheckAction(where, route); !s.ok()) return s;
  for (const auto& f : route.filters()) {
    if (auto s = CheckFilter(where, f); !s.ok()) return s;
  }
  return out;
}

// Adds `hostname` -> `index` to `index_map`; false if the hostname is already there.
bool AddHost(HostIndex& index_map, const std::string& hostname, uint32_t index) {
  if (hostname.empty()) {
    if (index_map.catch_all >= 0) return false;
    index_map.catch_all = index;
    return true;
  }
  if (hostname[0] == '*') return index_map.wildcard.emplace(hostname.substr(1), index).second;
  return index_map.exact.emplace(hostname, index).second;
}

// Precedence key of a non-regex route; smaller sorts first. The route's own
// hostname comes first: exact, then wildcards (longest first), then none.
auto OrderKey(const Route& r) {
  const std::string& own = r.route_hostname();
  int host_rank = own.empty() ? 2 : own[0] == '*' ? 1 : 0;
  long host_len = -static_cast<long>(own.size());
  const auto& m = r.match();
  int type = m.path().type() == PathMatch::EXACT ? 0 : 1;
  // The spec counts the characters of the value as written (the controller does too), so
  // "/a/" and "/ab" tie; they never match the same path, so either order is right.
  // An empty prefix means "/" (the API default).
  size_t len = std::max<size_t>(m.path().value().size(), 1);
  long prefix_len = type == 1 ? -static_cast<long>(len) : 0;
  return std::make_tuple(host_rank, host_len, type, prefix_len, m.method().empty() ? 1 : 0,
                         -m.headers_size(), -m.query_params_size());
}

std::unique_ptr<SegmentIndex> BuildIndex(const std::vector<CompiledRoute>& routes,
                                         const RouteGroup& group) {
  auto index = std::make_unique<SegmentIndex>();
  for (uint32_t id = group.begin; id < group.end; ++id) {
    const CompiledRoute& r = routes[id];
    // r.path is normalized (EXACT) or normalized without trailing '/' (PREFIX: "" = "/").
    bool indexable =
        r.path_type == PathMatch::EXACT || (r.path_type == PathMatch::PREFIX && !r.path.empty());
    if (indexable) {
      index->by_segment[std::string(FirstSegment(r.path))].push_back(id);
    } else {
      index->always.push_back(id);
    }
  }
  return index;
}

}  // namespace

absl::Status CheckRouteOrder(const HostRoutes& group) {
  const Route* prev = nullptr;
  for (const auto& r : group.routes()) {
    if (r.match().path().type() == PathMatch::REGULAR_EXPRESSION) continue;
    if (prev != nullptr && OrderKey(r) < OrderKey(*prev)) {
      return absl::InvalidArgumentError(Cat({"host \"", group.hostname(), "\": route \"", r.name(),
                                             "\" must come before route \"", prev->name(),
                                             "\" (routes are not sorted by precedence)"}));
    }
    prev = &r;
  }
  return absl::OkStatus();
}

RouteTable::RouteTable(std::unique_ptr<Data> data) : data_(std::move(data)) {}
RouteTable::~RouteTable() = default;

absl::StatusOr<std::shared_ptr<const RouteTable>> RouteTable::Compile(const Listener& listener) {
  auto data = std::make_unique<Data>();
  data->listener = listener;
  const Listener& l = data->listener;  // compiled pointers point into this copy
  data->virtual_hosts.reserve(l.virtual_hosts_size());
  for (const VirtualHost& vh : l.virtual_hosts()) {
    std::string vh_where = Cat({"listener \"", l.name(), "\": virtual host \"", vh.name(), "\""});
    if (!IsHostnamePattern(vh.hostname())) {
      return Invalid(vh_where, Cat({"invalid hostname \"", vh.hostname(), "\""}));
    }
    auto vh_id = static_cast<uint32_t>(data->virtual_hosts.size());
    if (!AddHost(data->virtual_host_index, vh.hostname(), vh_id)) {
      return Invalid(vh_where, Cat({"hostname \"", vh.hostname(),
                                    "\" is already served by another virtual host"}));
    }
    CompiledVirtualHost& cvh = data->virtual_hosts.emplace_back();
    cvh.config = &vh;
    for (const HostRoutes& group : vh.hosts()) {
      std::string g_where = Cat({vh_where, ": host \"", group.hostname(), "\""});
      if (!IsHostnamePattern(group.hostname())) {
        return Invalid(g_where, "invalid hostname");
      }
      if (!AddHost(cvh.group_index, group.hostname(), static_cast<uint32_t>(cvh.groups.size()))) {
        return Invalid(g_where, "duplicate host group (routes for one hostname must be one group)");
      }
#ifndef NDEBUG
      if (auto s = CheckRouteOrder(group); !s.ok())
        return Invalid(vh_where, std::string(s.message()));
#endif
      RouteGroup rg;
      rg.begin = static_cast<uint32_t>(data->routes.size());
      for (const Route& route : group.routes()) {
        auto compiled = CompileRoute(Cat({g_where, ": route \"", route.name(), "\""}), route);
        if (!compiled.ok()) return compiled.status();
        data->routes.push_back(std::move(*compiled));
      }
      rg.end = static_cast<uint32_t>(data->routes.size());
      if (rg.end - rg.begin >= kIndexMinRoutes) rg.index = BuildIndex(data->routes, rg);
      cvh.groups.push_back(std::move(rg));
    }
  }
  return std::shared_ptr<const RouteTable>(new RouteTable(std::move(data)));
}

}  // namespace gatehouse::router
