// RouteTable::Select: per-request virtual host and route choice. Runs on every request, so
// it only reads the compiled tables and never allocates (beyond `scratch` growth when a
// path needs normalizing, or a local copy to decode a percent-encoded query value for a
// regex match).
#include <string>

#include "proxy/router/path.h"
#include "proxy/router/table.h"

namespace gatehouse::router {
namespace {

using config::v1::PathMatch;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `raw` into `out`; an invalid escape is kept literally.
void PercentDecode(std::string_view raw, std::string& out) {
  out.clear();
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '%' && i + 2 < raw.size() && HexValue(raw[i + 1]) >= 0 &&
        HexValue(raw[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(raw[i + 1]) * 16 + HexValue(raw[i + 2])));
      i += 2;
    } else {
      out.push_back(raw[i]);
    }
  }
}

// Compares percent-decoded `raw` with `expected` without materializing the decoding.
bool DecodedEquals(std::string_view raw, std::string_view expected) {
  size_t j = 0;
  for (size_t i = 0; i < raw.size(); ++i, ++j) {
    char c = raw[i];
    if (c == '%' && i + 2 < raw.size() && HexValue(raw[i + 1]) >= 0 && HexValue(raw[i + 2]) >= 0) {
      c = static_cast<char>(HexValue(raw[i + 1]) * 16 + HexValue(raw[i + 2]));
      i += 2;
    }
    if (j >= expected.size() || expected[j] != c) return false;
  }
  return j == expected.size();
}

// The raw value of the first query parameter named `name` (names compared after
// percent-decoding, case-sensitively). A parameter without '=' has an empty value.
bool FindQueryParam(std::string_view query, std::string_view name, std::string_view* value) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string_view key = pair.substr(0, eq);
    if (DecodedEquals(key, name)) {
      *value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      return true;
    }
  }
  return false;
}

bool QueryValueMatches(const ValueMatcher& m, std::string_view raw) {
  if (!m.regex) return DecodedEquals(raw, m.value);
  if (raw.find('%') == std::string_view::npos) return m.Matches(raw);
  std::string decoded;
  PercentDecode(raw, decoded);
  return m.Matches(decoded);
}

bool PathMatches(const CompiledRoute& r, std::string_view path) {
  switch (r.path_type) {
    case PathMatch::PREFIX:
      // r.path has no trailing '/' ("" for "/").
      return path.size() >= r.path.size() && path.compare(0, r.path.size(), r.path) == 0 &&
             (path.size() == r.path.size() || path[r.path.size()] == '/');
    case PathMatch::EXACT:
      return path == r.path;
    default:
      return RE2::FullMatch(path, *r.path_regex);
  }
}

bool RouteMatches(const CompiledRoute& r, std::string_view method, std::string_view path,
                  std::string_view query, const HeaderSource& headers) {
  if (!PathMatches(r, path)) return false;
  if (!r.method.empty() && r.method != method) return false;
  for (const HeaderMatcher& h : r.headers) {
    std::optional<std::string_view> v = headers.Get(h.lower_name);
    if (!v || !h.value.Matches(*v)) return false;
  }
  for (const QueryMatcher& q : r.query_params) {
    std::string_view v;
    if (!FindQueryParam(query, q.name, &v) || !QueryValueMatches(q.value, v)) return false;
  }
  return true;
}

}  // namespace

bool LowercaseHost(std::string_view host, char* buf, std::string_view* out) {
  if (host.size() > kMaxHost) return false;
  for (size_t i = 0; i < host.size(); ++i) {
    char c = host[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  *out = std::string_view(buf, host.size());
  return true;
}

std::string_view HostWithoutPort(std::string_view authority) {
  std::string_view host = authority;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close != std::string_view::npos) return host.substr(0, close + 1);
    return host;
  }
  size_t colon = host.rfind(':');
  if (colon != std::string_view::npos) {
    bool digits = true;
    for (char c : host.substr(colon + 1)) digits = digits && c >= '0' && c <= '9';
    if (digits) host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

int Selection::HttpStatus() const {
  switch (result) {
    case SelectResult::kRouted:
      return 0;
    case SelectResult::kBadRequest:
      return 400;
    case SelectResult::kMisdirected:
      return 421;
    default:
      return 404;
  }
}

const config::v1::VirtualHost* RouteTable::FindVirtualHost(std::string_view host) const {
  char buf[kMaxHost];
  std::string_view lower;
  if (!LowercaseHost(HostWithoutPort(host), buf, &lower)) return nullptr;
  const config::v1::VirtualHost* found = nullptr;
  data_->virtual_host_index.Visit(lower, [&](uint32_t i) {
    found = data_->virtual_hosts[i].config;
    return true;
  });
  return found;
}

Selection RouteTable::Select(const Request& request, const HeaderSource& headers,
                             std::string& scratch) const {
  Selection sel;
  TargetParts parts;
  if (!SplitTarget(request.target, &parts, &sel.error)) {
    sel.result = SelectResult::kBadRequest;
    return sel;
  }
  sel.original_path = parts.path;
  sel.query = parts.query;
  sel.has_query = parts.has_query;
  NormalizedPath normalized = NormalizePath(parts.path, scratch);
  if (!normalized.ok) {
    sel.result = SelectResult::kBadRequest;
    sel.error = normalized.error;
    return sel;
  }
  sel.path = normalized.path;

  sel.host = HostWithoutPort(parts.authority.empty() ? request.authority : parts.authority);
  char buf[kMaxHost];
  std::string_view host;
  if (!LowercaseHost(sel.host, buf, &host)) {
    sel.result = SelectResult::kBadRequest;
    sel.error = "host name too long";
    return sel;
  }

  const Data& d = *data_;
  int64_t vh_id = -1;
  d.virtual_host_index.Visit(host, [&](uint32_t i) {
    vh_id = i;
    return true;
  });
  if (vh_id >= 0) {
    sel.virtual_host_id = static_cast<uint32_t>(vh_id);
    sel.virtual_host = d.virtual_hosts[vh_id].config;
  }

  if (d.listener.detect_misdirected_requests() && !request.sni.empty()) {
    char sni_buf[kMaxHost];
    std::string_view sni;
    int64_t sni_vh_id = -1;
    if (LowercaseHost(HostWithoutPort(request.sni), sni_buf, &sni)) {
      d.virtual_host_index.Visit(sni, [&](uint32_t i) {
        sni_vh_id = i;
        return true;
      });
    }
    if (sni_vh_id != vh_id) {
      sel.result = SelectResult::kMisdirected;
      return sel;
    }
  }
  if (vh_id < 0) {
    sel.result = SelectResult::kNoVirtualHost;
    return sel;
  }

  const CompiledVirtualHost& vh = d.virtual_hosts[vh_id];
  const CompiledRoute* found = nullptr;
  uint32_t found_id = 0;
  auto try_route = [&](uint32_t r) {
    if (!RouteMatches(d.routes[r], request.method, sel.path, sel.query, headers)) return false;
    found = &d.routes[r];
    found_id = r;
    return true;
  };
  vh.group_index.Visit(host, [&](uint32_t g) {
    const RouteGroup& group = vh.groups[g];
    if (group.index == nullptr) {
      for (uint32_t r = group.begin; r < group.end; ++r) {
        if (try_route(r)) return true;
      }
      return false;
    }
    // Merge the segment's candidates with the always-candidates, in route order.
    auto it = group.index->by_segment.find(FirstSegment(sel.path));
    const uint32_t* a = nullptr;
    const uint32_t* a_end = nullptr;
    if (it != group.index->by_segment.end()) {
      a = it->second.data();
      a_end = a + it->second.size();
    }
    const uint32_t* b = group.index->always.data();
    const uint32_t* b_end = b + group.index->always.size();
    while (a != a_end || b != b_end) {
      uint32_t r = (b == b_end || (a != a_end && *a < *b)) ? *a++ : *b++;
      if (try_route(r)) return true;
    }
    return false;
  });
  if (found == nullptr) {
    sel.result = SelectResult::kNoRoute;
    return sel;
  }
  sel.result = SelectResult::kRouted;
  sel.route = found->config;
  sel.route_id = found_id;
  return sel;
}

const config::v1::Listener& RouteTable::listener() const { return data_->listener; }
uint32_t RouteTable::virtual_host_count() const {
  return static_cast<uint32_t>(data_->virtual_hosts.size());
}
uint32_t RouteTable::route_count() const { return static_cast<uint32_t>(data_->routes.size()); }
const config::v1::Route& RouteTable::route(uint32_t route_id) const {
  return *data_->routes[route_id].config;
}

}  // namespace gatehouse::router
