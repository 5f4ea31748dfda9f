#include "proxy/http/request_plan.h"

#include "proxy/router/actions.h"
#include "proxy/router/beast_headers.h"

namespace gatehouse::proxy::http {
namespace {

namespace bhttp = boost::beast::http;

Plan Reply(unsigned status, std::string body, bool close = false) {
  Plan p;
  p.kind = Plan::Kind::kReply;
  p.status = status;
  p.body = std::move(body);
  p.close = close;
  return p;
}

}  // namespace

Plan MakePlan(const config::Tables& tables, const config::ListenerTable& listener,
              bhttp::request_header<>& req, const RequestContext& ctx, std::string& scratch,
              uint64_t random) {
  if (!listener.routes) return Reply(503, "no configuration\n");
  router::Request rr;
  rr.method = req.method_string();
  rr.authority = req[bhttp::field::host];
  rr.target = req.target();
  rr.sni = ctx.sni;
  router::ConstBeastHeaders match_headers(req);
  router::Selection sel = listener.routes->Select(rr, match_headers, scratch);
  if (!sel.routed()) {
    int status = sel.HttpStatus();
    return Reply(status,
                 status == 404   ? "no route\n"
                 : status == 421 ? "misdirected request\n"
                                 : "bad request\n",
                 status == 400);
  }
  const pb::Route& route = *sel.route;

  Plan plan;
  router::UrlRewriteResult rewrite;
  router::BeastHeaders headers(req);
  auto apply_filters = [&](const google::protobuf::RepeatedPtrField<pb::HttpFilter>& filters) {
    for (const auto& f : filters) {
      switch (f.filter_case()) {
        case pb::HttpFilter::kRequestHeaderModifier:
          router::ApplyHeaderModifier(f.request_header_modifier(), headers);
          break;
        case pb::HttpFilter::kResponseHeaderModifier:
          plan.response.response_modifiers.push_back(&f.response_header_modifier());
          break;
        case pb::HttpFilter::kUrlRewrite: {
          auto r = router::ApplyUrlRewrite(f.url_rewrite(), sel.path, sel.query, sel.has_query);
          if (!r.host.empty()) rewrite.host = std::move(r.host);
          if (!r.target.empty()) rewrite.target = std::move(r.target);
          break;
        }
        case pb::HttpFilter::kRequestMirror:
          plan.response.mirrors.push_back(&f.request_mirror());
          break;
        case pb::HttpFilter::kCors:
          plan.response.cors = &f.cors();
          break;
        default:
          break;
      }
    }
  };

  // Everything that reads the Selection's views into the request happens before the
  // request's fields are modified.
  if (route.has_redirect()) {
    router::RedirectInput in;
    in.scheme = ctx.scheme;
    in.host = sel.host;
    in.listener_port = ctx.listener_port;
    in.path = sel.path;
    in.query = sel.query;
    in.has_query = sel.has_query;
    router::Redirect redirect = router::BuildRedirect(route.redirect(), in);
    apply_filters(route.filters());
    plan.status = redirect.status;
    plan.headers.emplace_back("Location", std::move(redirect.location));
    return plan;
  }

  if (auto origin = req.find(bhttp::field::origin); origin != req.end())
    plan.response.origin = origin->value();
  for (const auto& f : route.filters()) {
    if (f.has_cors() && router::IsCorsPreflight(req.method_string(), match_headers)) {
      bhttp::fields extra_fields;
      router::BeastHeaders extra_headers(extra_fields);
      plan.status = router::CorsPreflight(f.cors(), match_headers, extra_headers);
      for (const auto& h : extra_fields) plan.headers.emplace_back(h.name_string(), h.value());
      return plan;  // answered by the proxy; response modifiers do not apply
    }
  }

  apply_filters(route.filters());
  if (route.has_direct_response()) {
    plan.status = route.direct_response().status();
    plan.body = route.direct_response().body();
    return plan;
  }
  if (!route.has_forward()) {
    plan.status = 500;
    plan.body = "route has no action\n";
    return plan;
  }
  const pb::WeightedBackend* backend = router::ChooseBackend(route.forward(), random);
  if (router::BackendIsInvalid(backend)) {
    plan.status = 500;
    plan.body = "invalid backend\n";
    return plan;
  }
  apply_filters(backend->filters());
  plan.cluster = tables.FindCluster(backend->cluster());
  if (plan.cluster == nullptr) {
    plan.status = 500;
    plan.body = "unknown cluster\n";
    return plan;
  }
  if (!rewrite.host.empty()) req.set(bhttp::field::host, rewrite.host);
  if (!rewrite.target.empty()) req.target(rewrite.target);
  plan.kind = Plan::Kind::kForward;
  plan.route = &route;
  return plan;
}

void ApplyResponseFilters(const ResponsePlan& plan, bhttp::fields& response) {
  if (plan.response_modifiers.empty() && plan.cors == nullptr) return;
  router::BeastHeaders headers(response);
  for (const auto* m : plan.response_modifiers) router::ApplyHeaderModifier(*m, headers);
  if (plan.cors != nullptr && !plan.origin.empty())
    router::AddCorsResponseHeaders(*plan.cors, plan.origin, headers);
}

}  // namespace gatehouse::proxy::http
