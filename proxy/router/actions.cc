// Route actions and filters (see actions.h).
#include "proxy/router/actions.h"

#include <algorithm>

#include <string>
#include "proxy/router/path.h"

namespace gatehouse::router {
namespace {

// Uniform pick in [0, n) from a uniform 64-bit random number (multiply-shift, so every
// bit of `random` counts and there is no modulo bias worth speaking of).
uint64_t Scale(uint64_t random, uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(random) * n) >> 64);
}

uint32_t DefaultPort(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && EqualsNoCase(s.substr(s.size() - suffix.size()), suffix);
}

// "scheme://host[:port]" split into parts; port defaults by scheme. False if malformed.
struct Origin {
  std::string_view scheme;
  std::string_view host;
  uint32_t port = 0;
};

bool ParseOrigin(std::string_view s, Origin* o) {
  size_t sep = s.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  o->scheme = s.substr(0, sep);
  std::string_view authority = s.substr(sep + 3);
  if (authority.empty() || authority.find('/') != std::string_view::npos) return false;
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    std::string_view port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5) return false;
    uint32_t p = 0;
    for (char c : port) {
      if (c < '0' || c > '9') return false;
      p = p * 10 + static_cast<uint32_t>(c - '0');
    }
    o->port = p;
    authority = authority.substr(0, colon);
  } else {
    o->port = EqualsNoCase(o->scheme, "https") ? 443 : EqualsNoCase(o->scheme, "http") ? 80 : 0;
  }
  o->host = authority;
  return !o->host.empty();
}

bool OriginMatches(std::string_view pattern, const Origin& origin) {
  if (pattern == "*") return true;
  Origin p;
  if (!ParseOrigin(pattern, &p)) return false;
  if (!EqualsNoCase(p.scheme, origin.scheme) || p.port != origin.port) return false;
  if (p.host == "*") return true;
  if (p.host[0] == '*') {
    std::string_view suffix = p.host.substr(1);  // ".bar.com"
    return origin.host.size() > suffix.size() && EndsWithNoCase(origin.host, suffix);
  }
  return EqualsNoCase(p.host, origin.host);
}

bool IsWildcardList(const google::protobuf::RepeatedPtrField<std::string>& list) {
  return list.size() == 1 && list[0] == "*";
}

std::string JoinList(const google::protobuf::RepeatedPtrField<std::string>& list) {
  std::string out;
  for (const auto& item : list) {
    if (!out.empty()) out.append(", ");
    out.append(item);
  }
  return out;
}

// Headers shared by preflight and actual responses.
void AddCommonCorsHeaders(const config::v1::Cors& cors, std::string_view origin,
                          HeaderMap& response) {
  // Always echo the origin: valid with and without credentials, and "*" is forbidden with
  // credentials anyway.
  response.Set("access-control-allow-origin", origin);
  if (cors.allow_credentials()) response.Set("access-control-allow-credentials", "true");
  if (cors.expose_headers_size() > 0) {
    // "*" cannot be used with credentials, and the response headers are unknown here.
    if (!IsWildcardList(cors.expose_headers()) || !cors.allow_credentials()) {
      response.Set("access-control-expose-headers", JoinList(cors.expose_headers()));
    }
  }
}

}  // namespace

const config::v1::WeightedBackend* ChooseBackend(
    const google::protobuf::RepeatedPtrField<config::v1::WeightedBackend>& backends,
    uint64_t random) {
  uint64_t total = 0;
  for (const auto& b : backends) total += b.weight();
  if (total == 0) return nullptr;
  uint64_t pick = Scale(random, total);
  for (const auto& b : backends) {
    if (pick < b.weight()) return &b;
    pick -= b.weight();
  }
  return nullptr;  // unreachable: pick < total
}

const config::v1::WeightedBackend* ChooseBackend(const config::v1::ForwardAction& action,
                                                 uint64_t random) {
  return ChooseBackend(action.backends(), random);
}

std::string ModifyPath(const config::v1::PathModifier& modifier, std::string_view path) {
  switch (modifier.modifier_case()) {
    case config::v1::PathModifier::kReplaceFullPath:
      return modifier.replace_full_path().empty() ? std::string("/") : modifier.replace_full_path();
    case config::v1::PathModifier::kReplacePrefixMatch: {
      // Match against the prefix in the same normal form the route matched with.
      std::string scratch;
      std::string_view matched =
          modifier.matched_prefix().empty() ? std::string_view("/") : modifier.matched_prefix();
      NormalizedPath prefix = NormalizePath(matched, scratch);
      if (!prefix.ok) return std::string(path);
      return ReplacePathPrefix(path, prefix.path, modifier.replace_prefix_match());
    }
    case config::v1::PathModifier::MODIFIER_NOT_SET:
      break;
  }
  return std::string(path);
}

Redirect BuildRedirect(const config::v1::RedirectAction& action, const RedirectInput& input) {
  Redirect r;
  r.status = action.status_code() == 0 ? 302 : action.status_code();
  std::string_view scheme = action.scheme().empty() ? input.scheme : action.scheme();
  std::string_view host = action.hostname().empty() ? input.host : action.hostname();
  uint32_t port = action.port();
  if (port == 0) port = scheme == input.scheme ? input.listener_port : DefaultPort(scheme);
  bool omit_port = port == 0 || port == DefaultPort(scheme);
  std::string path = ModifyPath(action.path(), input.path);
  r.location.reserve(scheme.size() + 3 + host.size() + 6 + path.size() + 1 + input.query.size());
  r.location.append(scheme).append("://").append(host);
  if (!omit_port) r.location.append(":").append(std::to_string(port));
  r.location.append(path);
  if (input.has_query) r.location.append("?").append(input.query);
  return r;
}

UrlRewriteResult ApplyUrlRewrite(const config::v1::UrlRewrite& rewrite, std::string_view path,
                                 std::string_view query, bool has_query) {
  UrlRewriteResult out;
  out.host = rewrite.hostname();
  if (rewrite.path().modifier_case() != config::v1::PathModifier::MODIFIER_NOT_SET) {
    out.target = ModifyPath(rewrite.path(), path);
    if (has_query) out.target.append("?").append(query);
  }
  return out;
}

void ApplyHeaderModifier(const config::v1::HeaderModifier& modifier, HeaderMap& headers) {
  for (const auto& h : modifier.set()) headers.Set(h.name(), h.value());
  for (const auto& h : modifier.add()) headers.Add(h.name(), h.value());
  for (const auto& name : modifier.remove()) headers.Remove(name);
}

bool IsCorsPreflight(std::string_view method, const HeaderSource& request_headers) {
  return method == "OPTIONS" && request_headers.Get("origin").has_value() &&
         request_headers.Get("access-control-request-method").has_value();
}

bool CorsOriginAllowed(const config::v1::Cors& cors, std::string_view origin) {
  Origin o;
  if (!ParseOrigin(origin, &o)) {
    // "null" and other opaque origins only pass a bare "*".
    return std::any_of(cors.allow_origins().begin(), cors.allow_origins().end(),
                       [](const std::string& p) { return p == "*"; });
  }
  return std::any_of(cors.allow_origins().begin(), cors.allow_origins().end(),
                     [&](const std::string& p) { return OriginMatches(p, o); });
}

uint32_t CorsPreflight(const config::v1::Cors& cors, const HeaderSource& request_headers,
                       HeaderMap& response) {
  constexpr uint32_t kStatus = 204;
  std::optional<std::string_view> origin = request_headers.Get("origin");
  if (!origin || origin->empty() || !CorsOriginAllowed(cors, *origin)) return kStatus;
  AddCommonCorsHeaders(cors, *origin, response);

  std::optional<std::string_view> method = request_headers.Get("access-control-request-method");
  if (cors.allow_methods_size() > 0 && method && !method->empty()) {
    // For "*", echo the requested method: required with credentials, allowed without.
    response.Set("access-control-allow-methods", IsWildcardList(cors.allow_methods())
                                                     ? std::string(*method)
                                                     : JoinList(cors.allow_methods()));
  }
  std::optional<std::string_view> headers = request_headers.Get("access-control-request-headers");
  if (cors.allow_headers_size() > 0) {
    if (!IsWildcardList(cors.allow_headers())) {
      response.Set("access-control-allow-headers", JoinList(cors.allow_headers()));
    } else if (headers && !headers->empty()) {
      response.Set("access-control-allow-headers", *headers);
    }
  }
  uint32_t max_age = cors.max_age_seconds() == 0 ? 5 : cors.max_age_seconds();
  response.Set("access-control-max-age", std::to_string(max_age));
  return kStatus;
}

void AddCorsResponseHeaders(const config::v1::Cors& cors, std::string_view origin,
                            HeaderMap& response) {
  if (origin.empty() || !CorsOriginAllowed(cors, origin)) return;
  AddCommonCorsHeaders(cors, origin, response);
  // The response depends on Origin; caches must key on it.
  response.Add("vary", "Origin");
}

bool ShouldMirror(const config::v1::RequestMirror& mirror, uint64_t random) {
  if (mirror.denominator() == 0) return mirror.numerator() == 0;
  if (mirror.numerator() >= mirror.denominator()) return true;
  return Scale(random, mirror.denominator()) < mirror.numerator();
}

bool ShouldRetry(const config::v1::RetryPolicy& policy, uint32_t retries_done,
                 const AttemptOutcome& outcome) {
  if (retries_done >= policy.attempts()) return false;
  if (outcome.connection_error) return policy.connection_error();
  return std::find(policy.codes().begin(), policy.codes().end(), outcome.status) !=
         policy.codes().end();
}

uint32_t RetryBackoffMs(const config::v1::RetryPolicy& policy, uint32_t retries_done,
                        uint64_t random) {
  uint64_t base = policy.backoff_ms();
  if (base == 0) return 0;
  uint64_t delay = base << std::min<uint32_t>(retries_done, 5);
  uint64_t low = delay / 2;
  return static_cast<uint32_t>(
      std::min<uint64_t>(low + Scale(random, delay - low + 1), UINT32_MAX));
}

}  // namespace gatehouse::router
