#include "controller/translate/http_routes.h"

#include <re2/re2.h>

#include <algorithm>

namespace gatehouse::translate {

namespace cfg = gatehouse::config::v1;

namespace {

void ToHeaderModifier(const resources::HTTPHeaderFilter& in, cfg::HeaderModifier* out) {
  for (const auto& [n, v] : in.set) {
    auto* h = out->add_set();
    h->set_name(n);
    h->set_value(v);
  }
  for (const auto& [n, v] : in.add) {
    auto* h = out->add_add();
    h->set_name(n);
    h->set_value(v);
  }
  for (const auto& r : in.remove) out->add_remove(r);
}

void ToPathModifier(const resources::HTTPPathModifier& in, const std::string& matched_prefix,
                    cfg::PathModifier* out) {
  if (in.type == "ReplaceFullPath") {
    out->set_replace_full_path(in.replace_full_path.value_or(""));
  } else {
    out->set_replace_prefix_match(in.replace_prefix_match.value_or(""));
    out->set_matched_prefix(matched_prefix);
  }
}

// `mirror` is the resolved cluster for a RequestMirror filter ("" = drop it).
bool ToFilter(const resources::RouteFilter& f, const std::string& matched_prefix,
              const std::string& mirror, cfg::HttpFilter* out) {
  if (f.request_header_modifier && f.type == "RequestHeaderModifier") {
    ToHeaderModifier(*f.request_header_modifier, out->mutable_request_header_modifier());
  } else if (f.response_header_modifier && f.type == "ResponseHeaderModifier") {
    ToHeaderModifier(*f.response_header_modifier, out->mutable_response_header_modifier());
  } else if (f.url_rewrite && f.type == "URLRewrite") {
    auto* rw = out->mutable_url_rewrite();
    rw->set_hostname(f.url_rewrite->hostname.value_or(""));
    if (f.url_rewrite->path)
      ToPathModifier(*f.url_rewrite->path, matched_prefix, rw->mutable_path());
  } else if (f.request_mirror && f.type == "RequestMirror") {
    if (mirror.empty()) return false;
    auto* m = out->mutable_request_mirror();
    m->set_cluster(mirror);
    if (f.request_mirror->percent) {
      m->set_numerator(*f.request_mirror->percent);
      m->set_denominator(100);
    } else if (f.request_mirror->fraction) {
      m->set_numerator(f.request_mirror->fraction->first);
      m->set_denominator(f.request_mirror->fraction->second);
    }
  } else if (f.cors && f.type == "CORS") {
    auto* c = out->mutable_cors();
    for (const auto& o : f.cors->allow_origins) c->add_allow_origins(o);
    for (const auto& m : f.cors->allow_methods) c->add_allow_methods(m);
    for (const auto& h : f.cors->allow_headers) c->add_allow_headers(h);
    for (const auto& h : f.cors->expose_headers) c->add_expose_headers(h);
    c->set_allow_credentials(f.cors->allow_credentials);
    c->set_max_age_seconds(f.cors->max_age);
  } else {
    return false;
  }
  return true;
}

std::string Lookup(const std::map<size_t, std::string>& m, size_t i) {
  auto it = m.find(i);
  return it == m.end() ? "" : it->second;
}

// The action and filters shared by HTTPRoute and GRPCRoute rules.
void FillAction(const graph::RouteRule& rr, const std::vector<resources::RouteFilter>& filters,
                const std::string& matched_prefix, bool grpc, cfg::Route* out) {
  const resources::HTTPRequestRedirect* redirect = nullptr;
  for (size_t i = 0; i < filters.size(); ++i) {
    const auto& f = filters[i];
    if (f.type == "RequestRedirect" && f.request_redirect) {
      redirect = &*f.request_redirect;
      continue;
    }
    cfg::HttpFilter hf;
    if (ToFilter(f, matched_prefix, Lookup(rr.rule_mirrors, i), &hf))
      *out->add_filters() = std::move(hf);
  }
  if (redirect != nullptr) {
    auto* r = out->mutable_redirect();
    r->set_scheme(redirect->scheme.value_or(""));
    r->set_hostname(redirect->hostname.value_or(""));
    r->set_port(redirect->port.value_or(0));
    r->set_status_code(redirect->status_code);
    if (redirect->path) ToPathModifier(*redirect->path, matched_prefix, r->mutable_path());
    return;
  }
  bool any_weight = std::any_of(rr.backends.begin(), rr.backends.end(),
                                [](const graph::Backend& b) { return b.weight > 0; });
  if (!any_weight) {
    // No backendRefs (or all weighted 0): the spec's answer is 500.
    out->mutable_direct_response()->set_status(500);
    return;
  }
  auto* fwd = out->mutable_forward();
  fwd->set_grpc(grpc);
  for (size_t bi = 0; bi < rr.backends.size(); ++bi) {
    const graph::Backend& b = rr.backends[bi];
    auto* wb = fwd->add_backends();
    wb->set_cluster(b.cluster);
    wb->set_weight(static_cast<uint32_t>(std::max(0, b.weight)));
    if (b.ref == nullptr) continue;
    for (size_t fi = 0; fi < b.ref->filters.size(); ++fi) {
      cfg::HttpFilter hf;
      if (ToFilter(b.ref->filters[fi], matched_prefix, Lookup(rr.backend_mirrors[bi], fi), &hf)) {
        *wb->add_filters() = std::move(hf);
      }
    }
  }
}

std::string RuleLabel(const std::optional<std::string>& name, size_t index) {
  return name ? *name : std::to_string(index);
}

// A SortableRoute for match `mi` of rule `rr`, named "ns/route/rule/match", with
// its header matches.
SortableRoute NewRoute(const graph::Route& route, const graph::RouteRule& rr,
                       const std::optional<std::string>& rule_name, size_t mi,
                       const std::vector<resources::StringMatch>& headers) {
  SortableRoute s;
  s.owner = route.res;
  s.rule = rr.index;
  s.match = mi;
  s.route.set_name(route.Key() + "/" + RuleLabel(rule_name, rr.index) + "/" + std::to_string(mi));
  for (const auto& h : headers) {
    auto* hm = s.route.mutable_match()->add_headers();
    hm->set_type(h.type == "RegularExpression" ? cfg::HeaderMatch::REGULAR_EXPRESSION
                                               : cfg::HeaderMatch::EXACT);
    hm->set_name(h.name);
    hm->set_value(h.value);
  }
  s.headers = headers.size();
  return s;
}

void AppendHTTP(const graph::Route& route, std::vector<SortableRoute>& out) {
  const auto& res = *route.http;
  for (const graph::RouteRule& rr : route.rules) {
    if (!rr.valid) continue;
    const resources::HTTPRouteRule& rule = res.rules[rr.index];
    std::vector<resources::HTTPRouteMatch> matches = rule.matches;
    if (matches.empty()) matches.emplace_back();
    for (size_t mi = 0; mi < matches.size(); ++mi) {
      const auto& m = matches[mi];
      SortableRoute s = NewRoute(route, rr, rule.name, mi, m.headers);
      cfg::Route& r = s.route;
      auto* pm = r.mutable_match()->mutable_path();
      pm->set_value(m.path.value);
      if (m.path.type == "Exact") {
        pm->set_type(cfg::PathMatch::EXACT);
        s.path_rank = 0;
      } else if (m.path.type == "RegularExpression") {
        pm->set_type(cfg::PathMatch::REGULAR_EXPRESSION);
        s.path_rank = 1;
      } else {
        pm->set_type(cfg::PathMatch::PREFIX);
        s.path_rank = 2;
      }
      s.path_length = m.path.value.size();
      for (const auto& q : m.query_params) {
        auto* qm = r.mutable_match()->add_query_params();
        qm->set_type(q.type == "RegularExpression" ? cfg::QueryParamMatch::REGULAR_EXPRESSION
                                                   : cfg::QueryParamMatch::EXACT);
        qm->set_name(q.name);
        qm->set_value(q.value);
      }
      if (m.method) r.mutable_match()->set_method(*m.method);
      s.has_method = m.method.has_value();
      s.query_params = m.query_params.size();
      std::string prefix = m.path.type == "PathPrefix" ? m.path.value : "";
      FillAction(rr, rule.filters, prefix, /*grpc=*/false, &r);
      r.set_request_timeout_ms(rr.request_timeout_ms);
      r.set_backend_request_timeout_ms(rr.backend_request_timeout_ms);
      if (rule.retry) {
        auto* retry = r.mutable_retry();
        retry->set_attempts(static_cast<uint32_t>(std::max(0, rule.retry->attempts.value_or(1))));
        for (int32_t c : rule.retry->codes) retry->add_codes(static_cast<uint32_t>(c));
        retry->set_backoff_ms(rr.retry_backoff_ms);
        retry->set_connection_error(true);
      }
      out.push_back(std::move(s));
    }
  }
}

void AppendGRPC(const graph::Route& route, std::vector<SortableRoute>& out) {
  const auto& res = *route.grpc;
  for (const graph::RouteRule& rr : route.rules) {
    if (!rr.valid) continue;
    const resources::GRPCRouteRule& rule = res.rules[rr.index];
    std::vector<resources::GRPCRouteMatch> matches = rule.matches;
    if (matches.empty()) matches.emplace_back();
    for (size_t mi = 0; mi < matches.size(); ++mi) {
      const auto& m = matches[mi];
      SortableRoute s = NewRoute(route, rr, rule.name, mi, m.headers);
      cfg::Route& r = s.route;
      auto* pm = r.mutable_match()->mutable_path();
      // gRPC calls are POST /<service>/<method>.
      if (!m.method) {
        pm->set_type(cfg::PathMatch::PREFIX);
        pm->set_value("/");
        s.path_rank = 2;
      } else if (m.method->type == "Exact" && m.method->service && m.method->method) {
        pm->set_type(cfg::PathMatch::EXACT);
        pm->set_value("/" + *m.method->service + "/" + *m.method->method);
        s.path_rank = 0;
      } else if (m.method->type == "Exact" && m.method->service) {
        pm->set_type(cfg::PathMatch::PREFIX);
        pm->set_value("/" + *m.method->service);
        s.path_rank = 2;
      } else {
        bool exact = m.method->type == "Exact";
        auto part = [&](const std::optional<std::string>& p) {
          if (!p) return std::string("[^/]+");
          return exact ? RE2::QuoteMeta(*p) : *p;
        };
        pm->set_type(cfg::PathMatch::REGULAR_EXPRESSION);
        pm->set_value("/" + part(m.method->service) + "/" + part(m.method->method));
        s.path_rank = 1;
      }
      s.path_length = pm->value().size();
      FillAction(rr, rule.filters, "", /*grpc=*/true, &r);
      out.push_back(std::move(s));
    }
  }
}

}  // namespace

void AppendRoutes(const graph::Graph& g, const graph::Route& route,
                  std::vector<SortableRoute>& out) {
  (void)g;
  if (route.kind == graph::RouteKind::kHTTP) AppendHTTP(route, out);
  if (route.kind == graph::RouteKind::kGRPC) AppendGRPC(route, out);
}

void SortByPrecedence(std::vector<SortableRoute>& routes) {
  std::stable_sort(routes.begin(), routes.end(),
                   [](const SortableRoute& a, const SortableRoute& b) {
                     if (a.host_rank != b.host_rank) return a.host_rank < b.host_rank;
                     if (a.host_length != b.host_length) return a.host_length > b.host_length;
                     if (a.path_rank != b.path_rank) return a.path_rank < b.path_rank;
                     // Longer prefixes (and regexes) first; Exact paths have no
                     // length order (two values never match the same path), so the
                     // method and header rules decide, as the proxy's order check
                     // expects.
                     if (a.path_rank != 0 && a.path_length != b.path_length)
                       return a.path_length > b.path_length;
                     if (a.has_method != b.has_method) return a.has_method;
                     if (a.headers != b.headers) return a.headers > b.headers;
                     if (a.query_params != b.query_params) return a.query_params > b.query_params;
                     if (a.owner != b.owner) {
                       const auto& ma = a.owner->meta;
                       const auto& mb = b.owner->meta;
                       if (ma.creation_timestamp != mb.creation_timestamp) {
                         return ma.creation_timestamp < mb.creation_timestamp;
                       }
                       if (ma.ns != mb.ns) return ma.ns < mb.ns;
                       if (ma.name != mb.name) return ma.name < mb.name;
                       return a.owner->kind < b.owner->kind;
                     }
                     if (a.rule != b.rule) return a.rule < b.rule;
                     return a.match < b.match;
                   });
}

}  // namespace gatehouse::translate
