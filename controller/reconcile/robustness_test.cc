// Bad input never crashes Reconcile and stays with its object: every field of a
// set of representative objects is replaced, one at a time, by values of every
// other JSON type (and by out-of-range numbers); each run must complete, and any
// decode error must name the mutated object.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <functional>

#include "controller/reconcile/reconcile.h"
#include "controller/resources/yaml.h"

namespace gatehouse::reconcile {
namespace {

namespace json = boost::json;

constexpr std::string_view kObjects = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gh}
spec: {controllerName: gatehouse.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns, generation: 2}
spec:
  gatewayClassName: gh
  addresses: [{type: IPAddress, value: 10.0.0.1}]
  allowedListeners: {namespaces: {from: All}}
  tls:
    backend: {clientCertificateRef: {name: cert}}
    frontend:
      default: {validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]}}
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: "*.example.com"
    tls: {mode: Terminate, certificateRefs: [{name: cert}]}
    allowedRoutes:
      namespaces: {from: Selector, selector: {matchLabels: {a: b}, matchExpressions: [{key: c, operator: In, values: [d]}]}}
      kinds: [{kind: HTTPRoute}]
  - {name: tls, port: 8443, protocol: TLS, tls: {mode: Passthrough}}
  - {name: tcp, port: 9000, protocol: TCP}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: ls, namespace: ns}
spec:
  parentRef: {name: gw}
  listeners:
  - {name: extra, port: 8080, protocol: HTTP, hostname: extra.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route, namespace: ns}
spec:
  parentRefs: [{name: gw, sectionName: https, port: 443}, {kind: ListenerSet, name: ls}]
  hostnames: [a.example.com]
  rules:
  - name: first
    matches:
    - path: {type: PathPrefix, value: /a}
      headers: [{type: RegularExpression, name: x, value: "v.*"}]
      queryParams: [{name: q, value: "1"}]
      method: GET
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: a, value: b}], add: [{name: c, value: d}], remove: [e]}
    - type: URLRewrite
      urlRewrite: {hostname: x.example.com, path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}
    - type: RequestMirror
      requestMirror: {backendRef: {name: svc, port: 80}, fraction: {numerator: 1, denominator: 2}}
    - type: CORS
      cors: {allowOrigins: ["*"], allowMethods: [GET], maxAge: 10, allowCredentials: true}
    backendRefs:
    - name: svc
      port: 80
      weight: 2
      filters: [{type: ResponseHeaderModifier, responseHeaderModifier: {set: [{name: f, value: g}]}}]
    timeouts: {request: 10s, backendRequest: 1s}
    retry: {codes: [500], attempts: 2, backoff: 100ms}
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https, port: 443, statusCode: 301, path: {type: ReplaceFullPath, replaceFullPath: /x}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc, namespace: ns}
spec:
  parentRefs: [{name: gw, sectionName: https}]
  rules:
  - matches: [{method: {service: svc.Echo, method: Ping}, headers: [{name: h, value: v}]}]
    backendRefs: [{name: svc, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: tls, namespace: ns}
spec:
  parentRefs: [{name: gw, sectionName: tls}]
  hostnames: [t.example.com]
  rules: [{backendRefs: [{name: svc, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: {name: tcp, namespace: ns}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules: [{backendRefs: [{name: svc, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: grant, namespace: other}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: ns}]
  to: [{group: "", kind: Service, name: svc}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: policy, namespace: ns}
spec:
  targetRefs: [{group: "", kind: Service, name: svc, sectionName: http}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]
    hostname: svc.example.com
    subjectAltNames: [{type: URI, uri: "spiffe://x/y"}]
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
spec:
  clusterIP: None
  ports: [{name: http, port: 80, targetPort: web, appProtocol: kubernetes.io/h2c}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-1, namespace: ns, labels: {kubernetes.io/service-name: svc}}
addressType: IPv6
endpoints: [{addresses: ["fd00::1"], conditions: {ready: true}}]
ports: [{name: http, port: 3000, protocol: TCP}]
---
apiVersion: v1
kind: Secret
metadata: {name: cert, namespace: ns}
type: kubernetes.io/tls
data: {tls.crt: bm90IGEgY2VydA==, tls.key: bm90IGEga2V5}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ca, namespace: ns}
data: {ca.crt: "not a ca"}
---
apiVersion: v1
kind: Namespace
metadata: {name: ns, labels: {a: b, c: d}}
)";

std::vector<json::value> Replacements() {
  return {nullptr,
          json::value("x"),
          json::value(-1),
          json::value(int64_t{1} << 40),
          json::value(true),
          json::value(1.5),
          json::object{},
          json::array{},
          json::array{json::object{}}};
}

// Calls fn(path) for every value under `v`, with a setter for it.
void Walk(json::value& v, const std::function<void(json::value&)>& fn) {
  fn(v);
  if (v.is_object()) {
    for (auto& kv : v.get_object()) Walk(kv.value(), fn);
  } else if (v.is_array()) {
    for (auto& e : v.get_array()) Walk(e, fn);
  }
}

TEST(Robustness, EveryFieldOfEveryTypeIsHandled) {
  auto docs = resources::YamlToJson(kObjects);
  ASSERT_TRUE(docs.ok());
  std::vector<json::object> base;
  for (auto& d : *docs) base.push_back(d.as_object());

  Inputs in;
  in.now = "2024-01-01T00:00:00Z";
  for (const auto& o : base) in.objects.push_back(std::make_shared<const json::object>(o));
  Outputs baseline = Reconcile(in);
  ASSERT_TRUE(baseline.decode_errors.empty()) << baseline.decode_errors[0];
  ASSERT_EQ(baseline.snapshots.size(), 1u);

  size_t runs = 0, rejected = 0;
  for (size_t i = 0; i < base.size(); ++i) {
    std::string name(base[i]["metadata"].as_object()["name"].as_string());
    // Count the values of object i, then mutate them one at a time by index.
    size_t count = 0;
    {
      json::value copy = base[i];
      Walk(copy, [&](json::value&) { ++count; });
    }
    for (size_t target = 1; target < count; ++target) {  // 0 is the object itself
      for (const json::value& replacement : Replacements()) {
        json::value mutated = base[i];
        size_t at = 0;
        Walk(mutated, [&](json::value& v) {
          if (at++ == target) v = replacement;
        });
        Inputs m = in;
        if (!mutated.is_object()) continue;
        m.objects[i] = std::make_shared<const json::object>(mutated.get_object());
        Outputs out = Reconcile(m);
        ++runs;
        ASSERT_LE(out.decode_errors.size(), 1u);
        if (!out.decode_errors.empty()) {
          ++rejected;
          // The error names the mutated object, unless its name is what broke.
          const json::object& mo = mutated.get_object();
          const json::value* md = mo.if_contains("metadata");
          const json::value* n =
              md && md->is_object() ? md->get_object().if_contains("name") : nullptr;
          if (n && n->is_string() && n->get_string() == name) {
            EXPECT_NE(out.decode_errors[0].find(name), std::string::npos)
                << out.decode_errors[0] << " (mutated " << name << ")";
          }
          const json::value* k = mo.if_contains("kind");
          if (k && k->is_string() && k->get_string() == base[i]["kind"].as_string()) {
            EXPECT_EQ(out.decode_errors[0].rfind(std::string(k->get_string()), 0), 0u)
                << out.decode_errors[0];
          }
        }
      }
    }
  }
  EXPECT_GT(runs, 1000u);
  EXPECT_GT(rejected, 0u);
}

}  // namespace
}  // namespace gatehouse::reconcile
