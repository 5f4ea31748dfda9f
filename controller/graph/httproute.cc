// HTTPRoute and GRPCRoute rules: which matches, filters and settings Gatehouse can
// serve (an unsupported rule is dropped and reported), and their backendRefs and
// mirror targets resolved to clusters.
#include <re2/re2.h>

#include <algorithm>

#include "controller/graph/build_context.h"
#include "controller/graph/duration.h"
#include "controller/graph/hostname.h"
#include "controller/graph/values.h"

namespace gatehouse::graph::internal {

namespace st = status;

namespace {

// The first reason a rule cannot be served.
struct Problem {
  std::string_view reason;
  std::string message;
};

void Note(std::optional<Problem>* p, std::string_view reason, std::string message) {
  if (!p->has_value()) *p = Problem{reason, std::move(message)};
}

bool CompilesAsRE2(const std::string& pattern) {
  RE2 re(pattern, RE2::Quiet);
  return re.ok();
}

void CheckStringMatches(const std::vector<resources::StringMatch>& ms, std::string_view what,
                        std::optional<Problem>* problem) {
  for (const auto& m : ms) {
    bool header = what == "Header";
    if (header ? !IsHeaderName(m.name) : m.name.empty()) {
      Note(problem, st::reason::kUnsupportedValue,
           std::string(what) + " name \"" + m.name + "\" is not valid");
    }
    if (!IsHeaderValue(m.value)) {
      Note(problem, st::reason::kUnsupportedValue,
           std::string(what) + " " + m.name + " has an invalid value");
    }
    if (m.type == "Exact") continue;
    if (m.type != "RegularExpression") {
      Note(problem, st::reason::kUnsupportedValue,
           std::string(what) + " match type " + m.type + " is not supported");
    } else if (!CompilesAsRE2(m.value)) {
      Note(problem, st::reason::kUnsupportedValue,
           std::string(what) + " regular expression " + m.value + " is not valid RE2");
    }
  }
}

bool AllPrefixMatches(const resources::HTTPRouteRule& rule) {
  return std::all_of(
      rule.matches.begin(), rule.matches.end(),
      [](const resources::HTTPRouteMatch& m) { return m.path.type == "PathPrefix"; });
}

void CheckPathModifier(const std::optional<resources::HTTPPathModifier>& pm,
                       const resources::HTTPRouteRule* rule, std::optional<Problem>* problem) {
  if (!pm) return;
  auto check_value = [&](const std::optional<std::string>& v) {
    if (v && !v->empty() && !IsPathValue(*v)) {
      Note(problem, st::reason::kUnsupportedValue, "Path " + *v + " is not a valid path");
    }
  };
  check_value(pm->replace_full_path);
  check_value(pm->replace_prefix_match);
  if (pm->type == "ReplaceFullPath") {
    if (!pm->replace_full_path)
      Note(problem, st::reason::kUnsupportedValue, "ReplaceFullPath without a value");
  } else if (pm->type == "ReplacePrefixMatch") {
    if (!pm->replace_prefix_match) {
      Note(problem, st::reason::kUnsupportedValue, "ReplacePrefixMatch without a value");
    } else if (rule != nullptr && !AllPrefixMatches(*rule)) {
      Note(problem, st::reason::kUnsupportedValue, "ReplacePrefixMatch needs PathPrefix matches");
    }
  } else {
    Note(problem, st::reason::kUnsupportedValue,
         "Path modifier type " + pm->type + " is not supported");
  }
}

void CheckHeaderFilter(const resources::HTTPHeaderFilter& f, std::optional<Problem>* problem) {
  for (const auto* list : {&f.set, &f.add}) {
    for (const auto& [name, value] : *list) {
      if (!IsHeaderName(name) || !IsHeaderValue(value)) {
        Note(problem, st::reason::kUnsupportedValue, "Header " + name + " is not a valid header");
      }
    }
  }
  for (const auto& name : f.remove) {
    if (!IsHeaderName(name))
      Note(problem, st::reason::kUnsupportedValue, "Header name " + name + " is not valid");
  }
}

// Redirect and rewrite hostnames are precise: no wildcard.
void CheckPreciseHostname(const std::optional<std::string>& h, std::optional<Problem>* problem) {
  if (h && (!IsValidHostname(*h) || h->rfind("*.", 0) == 0)) {
    Note(problem, st::reason::kUnsupportedValue, "Hostname " + *h + " is not a valid DNS name");
  }
}

enum class FilterSite { kHTTPRule, kHTTPBackend, kGRPCRule, kGRPCBackend };

// Checks one filter's type and settings; resolves a mirror into `*mirror`.
void CheckFilter(Context& ctx, Route& route, const resources::RouteFilter& f, FilterSite site,
                 const resources::HTTPRouteRule* http_rule, std::optional<Problem>* problem,
                 std::optional<Condition>* unresolved, std::string* mirror) {
  bool grpc = site == FilterSite::kGRPCRule || site == FilterSite::kGRPCBackend;
  bool backend = site == FilterSite::kHTTPBackend || site == FilterSite::kGRPCBackend;
  auto missing = [&] {
    Note(problem, st::reason::kUnsupportedValue, "Filter " + f.type + " has no settings");
  };
  if (f.type == "RequestHeaderModifier") {
    if (!f.request_header_modifier) return missing();
    CheckHeaderFilter(*f.request_header_modifier, problem);
  } else if (f.type == "ResponseHeaderModifier") {
    if (!f.response_header_modifier) return missing();
    CheckHeaderFilter(*f.response_header_modifier, problem);
  } else if (f.type == "RequestMirror") {
    if (!f.request_mirror) return missing();
    const auto& m = *f.request_mirror;
    if (m.percent && (*m.percent < 0 || *m.percent > 100)) {
      Note(problem, st::reason::kUnsupportedValue, "RequestMirror percent must be 0..100");
    }
    if (m.fraction && (m.fraction->second <= 0 || m.fraction->first < 0 ||
                       m.fraction->first > m.fraction->second)) {
      Note(problem, st::reason::kUnsupportedValue,
           "RequestMirror fraction is not a valid fraction");
    }
    *mirror = ResolveBackend(ctx, RouteKindName(route.kind), route.res->meta.ns, m.backend_ref, 1,
                             /*raw=*/false, unresolved)
                  .cluster;
  } else if (!grpc && f.type == "RequestRedirect" && !backend) {
    if (!f.request_redirect) return missing();
    const auto& r = *f.request_redirect;
    if (r.scheme && *r.scheme != "http" && *r.scheme != "https") {
      Note(problem, st::reason::kUnsupportedValue,
           "Redirect scheme " + *r.scheme + " is not supported");
    }
    static constexpr int32_t kCodes[] = {301, 302, 303, 307, 308};
    if (std::find(std::begin(kCodes), std::end(kCodes), r.status_code) == std::end(kCodes)) {
      Note(problem, st::reason::kUnsupportedValue,
           "Redirect status code " + std::to_string(r.status_code) + " is not supported");
    }
    CheckPathModifier(r.path, http_rule, problem);
    CheckPreciseHostname(r.hostname, problem);
    if (r.port && (*r.port < 1 || *r.port > 65535)) {
      Note(problem, st::reason::kUnsupportedValue,
           "Redirect port " + std::to_string(*r.port) + " is out of range");
    }
  } else if (!grpc && f.type == "URLRewrite") {
    if (!f.url_rewrite) return missing();
    CheckPathModifier(f.url_rewrite->path, http_rule, problem);
    CheckPreciseHostname(f.url_rewrite->hostname, problem);
  } else if (!grpc && f.type == "CORS" && !backend) {
    if (!f.cors) return missing();
    for (const auto* list : {&f.cors->allow_headers, &f.cors->expose_headers}) {
      for (const auto& h : *list) {
        if (h != "*" && !IsHeaderName(h)) {
          Note(problem, st::reason::kUnsupportedValue,
               "CORS header " + h + " is not a valid header name");
        }
      }
    }
  } else {
    Note(problem, st::reason::kUnsupportedValue,
         "Filter type " + f.type + (backend ? " on a backendRef" : "") + " is not supported");
  }
}

void CheckFilterCombination(const std::vector<resources::RouteFilter>& filters, bool has_backends,
                            std::optional<Problem>* problem) {
  std::map<std::string, int> count;
  for (const auto& f : filters) ++count[f.type];
  if (count["RequestRedirect"] > 0 && count["URLRewrite"] > 0) {
    Note(problem, st::reason::kIncompatibleFilters,
         "RequestRedirect and URLRewrite cannot be combined");
  }
  if (count["RequestRedirect"] > 0 && has_backends) {
    Note(problem, st::reason::kIncompatibleFilters,
         "RequestRedirect cannot be combined with backendRefs");
  }
  for (const char* once : {"RequestRedirect", "URLRewrite", "RequestHeaderModifier",
                           "ResponseHeaderModifier", "CORS"}) {
    if (count[once] > 1) {
      Note(problem, st::reason::kIncompatibleFilters, std::string(once) + " may appear only once");
    }
  }
}

std::optional<uint32_t> Millis(const std::optional<std::string>& d, std::string_view what,
                               std::optional<Problem>* problem) {
  if (!d) return 0;
  auto ms = ParseDuration(*d);
  if (!ms || *ms > UINT32_MAX) {
    Note(problem, st::reason::kUnsupportedValue,
         std::string(what) + " " + *d + " is not a valid duration");
    return std::nullopt;
  }
  return static_cast<uint32_t>(*ms);
}

// Records the outcome of every rule on the route: dropped rules, and the route
// rejected when none is left.
void Summarize(Route& route, const std::vector<std::optional<Problem>>& problems,
               std::optional<Condition> unresolved) {
  route.resolved_refs =
      unresolved.value_or(st::True(st::type::kResolvedRefs, st::reason::kResolvedRefs, ""));
  size_t invalid = 0;
  const Problem* first = nullptr;
  for (size_t i = 0; i < problems.size(); ++i) {
    if (!problems[i]) continue;
    route.rules[i].valid = false;
    if (first == nullptr) first = &*problems[i];
    ++invalid;
  }
  if (first == nullptr) return;
  std::string message = first->message;
  if (invalid == problems.size()) {
    route.rejected =
        st::False(st::type::kAccepted, first->reason, "No rule can be served: " + message);
  } else {
    route.partially_invalid = st::True(st::type::kPartiallyInvalid, first->reason,
                                       std::to_string(invalid) + " rule(s) dropped: " + message);
  }
}

template <typename Rule>
void ResolveRuleBackends(Context& ctx, Route& route, const Rule& rule, RouteRule& rr,
                         FilterSite site, std::optional<Problem>* problem,
                         std::optional<Condition>* unresolved) {
  for (const auto& br : rule.backend_refs) {
    Backend b =
        ResolveBackend(ctx, RouteKindName(route.kind), route.res->meta.ns, br.ref, br.weight,
                       /*raw=*/false, unresolved);
    b.ref = &br;
    std::map<size_t, std::string> mirrors;
    for (size_t fi = 0; fi < br.filters.size(); ++fi) {
      std::string mirror;
      CheckFilter(ctx, route, br.filters[fi], site, nullptr, problem, unresolved, &mirror);
      if (br.filters[fi].type == "RequestMirror") mirrors[fi] = mirror;
    }
    rr.backends.push_back(std::move(b));
    rr.backend_mirrors.push_back(std::move(mirrors));
  }
}

}  // namespace

void BuildHTTPRouteRules(Context& ctx, Route& route) {
  std::optional<Condition> unresolved;
  std::vector<std::optional<Problem>> problems;
  for (size_t i = 0; i < route.http->rules.size(); ++i) {
    const resources::HTTPRouteRule& rule = route.http->rules[i];
    RouteRule& rr = route.rules.emplace_back();
    rr.index = i;
    std::optional<Problem>& problem = problems.emplace_back();
    for (const auto& m : rule.matches) {
      const auto& p = m.path;
      if (p.type == "Exact" || p.type == "PathPrefix") {
        if (!IsPathValue(p.value)) {
          Note(&problem, st::reason::kUnsupportedValue, "Path " + p.value + " is not a valid path");
        }
      } else if (p.type == "RegularExpression") {
        if (!CompilesAsRE2(p.value)) {
          Note(&problem, st::reason::kUnsupportedValue,
               "Path regular expression " + p.value + " is not valid RE2");
        }
      } else {
        Note(&problem, st::reason::kUnsupportedValue,
             "Path match type " + p.type + " is not supported");
      }
      CheckStringMatches(m.headers, "Header", &problem);
      CheckStringMatches(m.query_params, "Query parameter", &problem);
      if (m.method && !IsHTTPMethod(*m.method)) {
        Note(&problem, st::reason::kUnsupportedValue, "Method " + *m.method + " is not supported");
      }
    }
    for (size_t fi = 0; fi < rule.filters.size(); ++fi) {
      std::string mirror;
      CheckFilter(ctx, route, rule.filters[fi], FilterSite::kHTTPRule, &rule, &problem, &unresolved,
                  &mirror);
      if (rule.filters[fi].type == "RequestMirror") rr.rule_mirrors[fi] = mirror;
    }
    CheckFilterCombination(rule.filters, !rule.backend_refs.empty(), &problem);
    auto request = Millis(rule.request_timeout, "Request timeout", &problem);
    auto backend = Millis(rule.backend_request_timeout, "Backend request timeout", &problem);
    if (request && backend) {
      rr.request_timeout_ms = *request;
      rr.backend_request_timeout_ms = *backend;
      if (*request > 0 && *backend > *request) {
        Note(&problem, st::reason::kUnsupportedValue,
             "backendRequest timeout exceeds request timeout");
      }
    }
    if (rule.retry) {
      if (auto backoff = Millis(rule.retry->backoff, "Retry backoff", &problem))
        rr.retry_backoff_ms = *backoff;
      for (int32_t code : rule.retry->codes) {
        if (code < 400 || code > 599) {
          Note(&problem, st::reason::kUnsupportedValue,
               "Retry code " + std::to_string(code) + " is not 4xx/5xx");
        }
      }
    }
    if (rule.session_persistence) {
      Note(&problem, st::reason::kUnsupportedValue, "sessionPersistence is not supported");
    }
    ResolveRuleBackends(ctx, route, rule, rr, FilterSite::kHTTPBackend, &problem, &unresolved);
  }
  Summarize(route, problems, unresolved);
}

void BuildGRPCRouteRules(Context& ctx, Route& route) {
  std::optional<Condition> unresolved;
  std::vector<std::optional<Problem>> problems;
  for (size_t i = 0; i < route.grpc->rules.size(); ++i) {
    const resources::GRPCRouteRule& rule = route.grpc->rules[i];
    RouteRule& rr = route.rules.emplace_back();
    rr.index = i;
    std::optional<Problem>& problem = problems.emplace_back();
    for (const auto& m : rule.matches) {
      if (m.method) {
        const auto& mm = *m.method;
        if (mm.type == "Exact") {
          if (!mm.service && !mm.method) {
            Note(&problem, st::reason::kUnsupportedValue,
                 "Method match needs a service or a method");
          }
        } else if (mm.type == "RegularExpression") {
          for (const auto& part : {mm.service, mm.method}) {
            if (part && !CompilesAsRE2(*part)) {
              Note(&problem, st::reason::kUnsupportedValue,
                   "Method regular expression " + *part + " is not valid RE2");
            }
          }
        } else {
          Note(&problem, st::reason::kUnsupportedValue,
               "Method match type " + mm.type + " is not supported");
        }
      }
      CheckStringMatches(m.headers, "Header", &problem);
    }
    for (size_t fi = 0; fi < rule.filters.size(); ++fi) {
      std::string mirror;
      CheckFilter(ctx, route, rule.filters[fi], FilterSite::kGRPCRule, nullptr, &problem,
                  &unresolved, &mirror);
      if (rule.filters[fi].type == "RequestMirror") rr.rule_mirrors[fi] = mirror;
    }
    CheckFilterCombination(rule.filters, false, &problem);
    if (rule.session_persistence) {
      Note(&problem, st::reason::kUnsupportedValue, "sessionPersistence is not supported");
    }
    ResolveRuleBackends(ctx, route, rule, rr, FilterSite::kGRPCBackend, &problem, &unresolved);
  }
  Summarize(route, problems, unresolved);
}

}  // namespace gatehouse::graph::internal
