// Decoders for the Gateway API kinds, applying the CRD defaults.
#include "controller/resources/decode_internal.h"

namespace gatehouse::resources::internal {

namespace json = boost::json;

namespace {

ParentRef DecodeParentRef(const json::object& o, const Path& p) {
  ParentRef ref;
  ref.group = GetStringOr(o, "group", p, kGatewayGroup);
  ref.kind = GetStringOr(o, "kind", p, "Gateway");
  ref.ns = GetString(o, "namespace", p);
  ref.name = GetStringOr(o, "name", p, "");
  ref.section_name = GetString(o, "sectionName", p);
  ref.port = GetInt32(o, "port", p);
  return ref;
}

Listener DecodeListener(const json::object& o, const Path& p) {
  Listener l;
  l.name = GetStringOr(o, "name", p, "");
  l.hostname = GetString(o, "hostname", p);
  l.port = GetInt32(o, "port", p).value_or(0);
  l.protocol = GetStringOr(o, "protocol", p, "");
  if (const json::object* tls = GetObject(o, "tls", p)) {
    Path tp(&p, "tls");
    ListenerTLS t;
    t.mode = GetStringOr(*tls, "mode", tp, "Terminate");
    ForEachObject(*tls, "certificateRefs", tp, [&](const json::object& r, const Path& rp) {
      t.certificate_refs.push_back(DecodeObjectRef(r, rp, "", "Secret"));
    });
    t.options = GetStringMap(*tls, "options", tp);
    l.tls = std::move(t);
  }
  if (const json::object* ar = GetObject(o, "allowedRoutes", p)) {
    Path ap(&p, "allowedRoutes");
    if (const json::object* ns = GetObject(*ar, "namespaces", ap)) {
      Path np(&ap, "namespaces");
      l.allowed_routes.from = GetStringOr(*ns, "from", np, "Same");
      if (const json::object* sel = GetObject(*ns, "selector", np)) {
        l.allowed_routes.selector = DecodeSelector(*sel, Path(&np, "selector"));
      }
    }
    ForEachObject(*ar, "kinds", ap, [&](const json::object& k, const Path& kp) {
      RouteGroupKind rgk;
      rgk.group = GetStringOr(k, "group", kp, kGatewayGroup);
      rgk.kind = GetStringOr(k, "kind", kp, "");
      l.allowed_routes.kinds.push_back(std::move(rgk));
    });
  }
  return l;
}

std::optional<FrontendValidation> DecodeFrontendTLS(const json::object& o, const Path& p) {
  const json::object* v = GetObject(o, "validation", p);
  if (v == nullptr) return std::nullopt;
  Path vp(&p, "validation");
  FrontendValidation fv;
  ForEachObject(*v, "caCertificateRefs", vp, [&](const json::object& r, const Path& rp) {
    fv.ca_certificate_refs.push_back(DecodeObjectRef(r, rp, "", ""));
  });
  fv.mode = GetStringOr(*v, "mode", vp, "AllowValidOnly");
  return fv;
}

HTTPHeaderFilter DecodeHeaderFilter(const json::object& o, const Path& p) {
  HTTPHeaderFilter f;
  auto pairs = [&](std::string_view key, std::vector<std::pair<std::string, std::string>>& out) {
    ForEachObject(o, key, p, [&](const json::object& h, const Path& hp) {
      out.emplace_back(GetStringOr(h, "name", hp, ""), GetStringOr(h, "value", hp, ""));
    });
  };
  pairs("set", f.set);
  pairs("add", f.add);
  f.remove = GetStringList(o, "remove", p);
  return f;
}

std::optional<HTTPPathModifier> DecodePathModifier(const json::object& o, const Path& p) {
  const json::object* m = GetObject(o, "path", p);
  if (m == nullptr) return std::nullopt;
  Path mp(&p, "path");
  HTTPPathModifier pm;
  pm.type = GetStringOr(*m, "type", mp, "");
  pm.replace_full_path = GetString(*m, "replaceFullPath", mp);
  pm.replace_prefix_match = GetString(*m, "replacePrefixMatch", mp);
  return pm;
}

RouteFilter DecodeFilter(const json::object& o, const Path& p) {
  RouteFilter f;
  f.type = GetStringOr(o, "type", p, "");
  if (const json::object* x = GetObject(o, "requestHeaderModifier", p)) {
    f.request_header_modifier = DecodeHeaderFilter(*x, Path(&p, "requestHeaderModifier"));
  }
  if (const json::object* x = GetObject(o, "responseHeaderModifier", p)) {
    f.response_header_modifier = DecodeHeaderFilter(*x, Path(&p, "responseHeaderModifier"));
  }
  if (const json::object* x = GetObject(o, "requestRedirect", p)) {
    Path xp(&p, "requestRedirect");
    HTTPRequestRedirect r;
    r.scheme = GetString(*x, "scheme", xp);
    r.hostname = GetString(*x, "hostname", xp);
    r.path = DecodePathModifier(*x, xp);
    r.port = GetInt32(*x, "port", xp);
    r.status_code = GetInt32(*x, "statusCode", xp).value_or(302);
    f.request_redirect = std::move(r);
  }
  if (const json::object* x = GetObject(o, "urlRewrite", p)) {
    Path xp(&p, "urlRewrite");
    HTTPURLRewrite r;
    r.hostname = GetString(*x, "hostname", xp);
    r.path = DecodePathModifier(*x, xp);
    f.url_rewrite = std::move(r);
  }
  if (const json::object* x = GetObject(o, "requestMirror", p)) {
    Path xp(&p, "requestMirror");
    HTTPRequestMirror m;
    if (const json::object* br = GetObject(*x, "backendRef", xp)) {
      m.backend_ref = DecodeObjectRef(*br, Path(&xp, "backendRef"), "", "Service");
    } else {
      Fail(xp, "backendRef is required");
    }
    m.percent = GetInt32(*x, "percent", xp);
    if (const json::object* fr = GetObject(*x, "fraction", xp)) {
      Path fp(&xp, "fraction");
      m.fraction = std::make_pair(GetInt32(*fr, "numerator", fp).value_or(0),
                                  GetInt32(*fr, "denominator", fp).value_or(100));
    }
    f.request_mirror = std::move(m);
  }
  if (const json::object* x = GetObject(o, "cors", p)) {
    Path xp(&p, "cors");
    HTTPCORS c;
    c.allow_origins = GetStringList(*x, "allowOrigins", xp);
    c.allow_methods = GetStringList(*x, "allowMethods", xp);
    c.allow_headers = GetStringList(*x, "allowHeaders", xp);
    c.expose_headers = GetStringList(*x, "exposeHeaders", xp);
    c.allow_credentials = GetBool(*x, "allowCredentials", xp).value_or(false);
    c.max_age = GetInt32(*x, "maxAge", xp).value_or(5);
    f.cors = std::move(c);
  }
  if (const json::object* x = GetObject(o, "extensionRef", p)) {
    f.extension_ref = DecodeObjectRef(*x, Path(&p, "extensionRef"), "", "");
  }
  return f;
}

std::vector<BackendRef> DecodeBackendRefs(const json::object& o, const Path& p) {
  std::vector<BackendRef> out;
  ForEachObject(o, "backendRefs", p, [&](const json::object& b, const Path& bp) {
    BackendRef br;
    br.ref = DecodeObjectRef(b, bp, "", "Service");
    br.weight = GetInt32(b, "weight", bp).value_or(1);
    ForEachObject(b, "filters", bp, [&](const json::object& f, const Path& fp) {
      br.filters.push_back(DecodeFilter(f, fp));
    });
    out.push_back(std::move(br));
  });
  return out;
}

std::vector<StringMatch> DecodeStringMatches(const json::object& o, std::string_view key,
                                             const Path& p) {
  std::vector<StringMatch> out;
  ForEachObject(o, key, p, [&](const json::object& m, const Path& mp) {
    StringMatch sm;
    sm.type = GetStringOr(m, "type", mp, "Exact");
    sm.name = GetStringOr(m, "name", mp, "");
    sm.value = GetStringOr(m, "value", mp, "");
    out.push_back(std::move(sm));
  });
  return out;
}

void DecodeRouteCommon(const json::object& spec, const Path& p, Route& out) {
  ForEachObject(spec, "parentRefs", p, [&](const json::object& r, const Path& rp) {
    out.parent_refs.push_back(DecodeParentRef(r, rp));
  });
  out.hostnames = GetStringList(spec, "hostnames", p);
}

}  // namespace

void DecodeGatewayClass(const json::object& spec, const Path& p, GatewayClass& out) {
  out.controller_name = GetStringOr(spec, "controllerName", p, "");
  if (const json::object* pr = GetObject(spec, "parametersRef", p)) {
    out.parameters_ref = DecodeObjectRef(*pr, Path(&p, "parametersRef"), "", "");
  }
  out.description = GetString(spec, "description", p);
}

void DecodeGateway(const json::object& spec, const Path& p, Gateway& out) {
  out.gateway_class_name = GetStringOr(spec, "gatewayClassName", p, "");
  ForEachObject(spec, "listeners", p, [&](const json::object& l, const Path& lp) {
    out.listeners.push_back(DecodeListener(l, lp));
  });
  ForEachObject(spec, "addresses", p, [&](const json::object& a, const Path& ap) {
    GatewayAddress addr;
    addr.type = GetStringOr(a, "type", ap, "IPAddress");
    addr.value = GetStringOr(a, "value", ap, "");
    out.addresses.push_back(std::move(addr));
  });
  if (const json::object* infra = GetObject(spec, "infrastructure", p)) {
    Path ip(&p, "infrastructure");
    out.infrastructure_labels = GetStringMap(*infra, "labels", ip);
    out.infrastructure_annotations = GetStringMap(*infra, "annotations", ip);
    if (const json::object* pr = GetObject(*infra, "parametersRef", ip)) {
      out.infrastructure_parameters_ref = DecodeObjectRef(*pr, Path(&ip, "parametersRef"), "", "");
    }
  }
  if (const json::object* al = GetObject(spec, "allowedListeners", p)) {
    Path ap(&p, "allowedListeners");
    if (const json::object* ns = GetObject(*al, "namespaces", ap)) {
      Path np(&ap, "namespaces");
      out.allowed_listeners.from = GetStringOr(*ns, "from", np, "None");
      if (const json::object* sel = GetObject(*ns, "selector", np)) {
        out.allowed_listeners.selector = DecodeSelector(*sel, Path(&np, "selector"));
      }
    }
  }
  if (const json::object* tls = GetObject(spec, "tls", p)) {
    Path tp(&p, "tls");
    if (const json::object* be = GetObject(*tls, "backend", tp)) {
      Path bp(&tp, "backend");
      if (const json::object* cc = GetObject(*be, "clientCertificateRef", bp)) {
        out.backend_client_certificate_ref =
            DecodeObjectRef(*cc, Path(&bp, "clientCertificateRef"), "", "Secret");
      }
    }
    if (const json::object* fe = GetObject(*tls, "frontend", tp)) {
      Path fp(&tp, "frontend");
      if (const json::object* def = GetObject(*fe, "default", fp)) {
        out.frontend_default_validation = DecodeFrontendTLS(*def, Path(&fp, "default"));
      }
      ForEachObject(*fe, "perPort", fp, [&](const json::object& pp, const Path& ppp) {
        int32_t port = GetInt32(pp, "port", ppp).value_or(0);
        std::optional<FrontendValidation> fv;
        if (const json::object* t = GetObject(pp, "tls", ppp)) {
          fv = DecodeFrontendTLS(*t, Path(&ppp, "tls"));
        }
        out.frontend_per_port.emplace_back(port, std::move(fv));
      });
    }
  }
}

void DecodeListenerSet(const json::object& spec, const Path& p, ListenerSet& out) {
  if (const json::object* pr = GetObject(spec, "parentRef", p)) {
    out.parent = DecodeParentRef(*pr, Path(&p, "parentRef"));
  }
  ForEachObject(spec, "listeners", p, [&](const json::object& l, const Path& lp) {
    out.listeners.push_back(DecodeListener(l, lp));
  });
}

void DecodeHTTPRoute(const json::object& spec, const Path& p, HTTPRoute& out) {
  DecodeRouteCommon(spec, p, out);
  ForEachObject(spec, "rules", p, [&](const json::object& r, const Path& rp) {
    HTTPRouteRule rule;
    rule.name = GetString(r, "name", rp);
    ForEachObject(r, "matches", rp, [&](const json::object& m, const Path& mp) {
      HTTPRouteMatch match;
      if (const json::object* path = GetObject(m, "path", mp)) {
        Path pp(&mp, "path");
        match.path.type = GetStringOr(*path, "type", pp, "PathPrefix");
        match.path.value = GetStringOr(*path, "value", pp, "/");
      }
      match.headers = DecodeStringMatches(m, "headers", mp);
      match.query_params = DecodeStringMatches(m, "queryParams", mp);
      match.method = GetString(m, "method", mp);
      rule.matches.push_back(std::move(match));
    });
    ForEachObject(r, "filters", rp, [&](const json::object& f, const Path& fp) {
      rule.filters.push_back(DecodeFilter(f, fp));
    });
    rule.backend_refs = DecodeBackendRefs(r, rp);
    if (const json::object* t = GetObject(r, "timeouts", rp)) {
      Path tp(&rp, "timeouts");
      rule.request_timeout = GetString(*t, "request", tp);
      rule.backend_request_timeout = GetString(*t, "backendRequest", tp);
    }
    if (const json::object* rt = GetObject(r, "retry", rp)) {
      Path tp(&rp, "retry");
      HTTPRouteRetry retry;
      if (const json::array* codes = GetArray(*rt, "codes", tp)) {
        Path cp(&tp, "codes");
        for (size_t i = 0; i < codes->size(); ++i) {
          const json::value& c = (*codes)[i];
          if (!c.is_int64() && !c.is_uint64()) Fail(Path(&cp, i), "expected an integer");
          retry.codes.push_back(static_cast<int32_t>(c.to_number<int64_t>()));
        }
      }
      retry.attempts = GetInt32(*rt, "attempts", tp);
      retry.backoff = GetString(*rt, "backoff", tp);
      rule.retry = std::move(retry);
    }
    rule.session_persistence = GetObject(r, "sessionPersistence", rp) != nullptr;
    out.rules.push_back(std::move(rule));
  });
  // The CRD default: one rule matching every path (and, without backends, 500).
  if (GetArray(spec, "rules", p) == nullptr) out.rules.emplace_back().matches.emplace_back();
}

void DecodeGRPCRoute(const json::object& spec, const Path& p, GRPCRoute& out) {
  DecodeRouteCommon(spec, p, out);
  ForEachObject(spec, "rules", p, [&](const json::object& r, const Path& rp) {
    GRPCRouteRule rule;
    rule.name = GetString(r, "name", rp);
    ForEachObject(r, "matches", rp, [&](const json::object& m, const Path& mp) {
      GRPCRouteMatch match;
      if (const json::object* meth = GetObject(m, "method", mp)) {
        Path pp(&mp, "method");
        GRPCMethodMatch mm;
        mm.type = GetStringOr(*meth, "type", pp, "Exact");
        mm.service = GetString(*meth, "service", pp);
        mm.method = GetString(*meth, "method", pp);
        match.method = std::move(mm);
      }
      match.headers = DecodeStringMatches(m, "headers", mp);
      rule.matches.push_back(std::move(match));
    });
    ForEachObject(r, "filters", rp, [&](const json::object& f, const Path& fp) {
      rule.filters.push_back(DecodeFilter(f, fp));
    });
    rule.backend_refs = DecodeBackendRefs(r, rp);
    rule.session_persistence = GetObject(r, "sessionPersistence", rp) != nullptr;
    out.rules.push_back(std::move(rule));
  });
}

void DecodeL4Route(const json::object& spec, const Path& p, L4Route& out) {
  DecodeRouteCommon(spec, p, out);
  ForEachObject(spec, "rules", p, [&](const json::object& r, const Path& rp) {
    L4RouteRule rule;
    rule.name = GetString(r, "name", rp);
    rule.backend_refs = DecodeBackendRefs(r, rp);
    out.rules.push_back(std::move(rule));
  });
}

void DecodeReferenceGrant(const json::object& spec, const Path& p, ReferenceGrant& out) {
  ForEachObject(spec, "from", p, [&](const json::object& f, const Path& fp) {
    out.from.push_back({GetStringOr(f, "group", fp, ""), GetStringOr(f, "kind", fp, ""),
                        GetStringOr(f, "namespace", fp, "")});
  });
  ForEachObject(spec, "to", p, [&](const json::object& t, const Path& tp) {
    out.to.push_back({GetStringOr(t, "group", tp, ""), GetStringOr(t, "kind", tp, ""),
                      GetString(t, "name", tp)});
  });
}

void DecodeBackendTLSPolicy(const json::object& spec, const Path& p, BackendTLSPolicy& out) {
  ForEachObject(spec, "targetRefs", p, [&](const json::object& t, const Path& tp) {
    out.target_refs.push_back({GetStringOr(t, "group", tp, ""), GetStringOr(t, "kind", tp, ""),
                               GetStringOr(t, "name", tp, ""), GetString(t, "sectionName", tp)});
  });
  if (const json::object* v = GetObject(spec, "validation", p)) {
    Path vp(&p, "validation");
    ForEachObject(*v, "caCertificateRefs", vp, [&](const json::object& r, const Path& rp) {
      out.ca_certificate_refs.push_back(DecodeObjectRef(r, rp, "", ""));
    });
    out.well_known_ca_certificates = GetString(*v, "wellKnownCACertificates", vp);
    out.hostname = GetStringOr(*v, "hostname", vp, "");
    ForEachObject(*v, "subjectAltNames", vp, [&](const json::object& s, const Path& sp) {
      BackendTLSPolicy::SubjectAltName san;
      san.type = GetStringOr(s, "type", sp, "");
      san.value =
          san.type == "URI" ? GetStringOr(s, "uri", sp, "") : GetStringOr(s, "hostname", sp, "");
      out.subject_alt_names.push_back(std::move(san));
    });
  }
  out.options = GetStringMap(spec, "options", p);
}

}  // namespace gatehouse::resources::internal
