// Unit tests of graph::Build, one group per build step (gateway.cc, listener.cc,
// route.cc, httproute.cc, backend_tls_policy.cc). The golden tests cover the
// same rules end to end; these pin the individual decisions.
#include "controller/graph/graph.h"

#include <gtest/gtest.h>

#include "controller/resources/yaml.h"

namespace gatehouse::graph {
namespace {

namespace json = boost::json;

constexpr std::string_view kClass = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gh}
spec: {controllerName: gatehouse.dev/gateway-controller}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
spec: {ports: [{name: http, port: 8080, targetPort: 3000}, {name: h2c, port: 8081, appProtocol: kubernetes.io/h2c}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-1, namespace: ns, labels: {kubernetes.io/service-name: svc}}
addressType: IPv4
endpoints:
- {addresses: [10.0.0.2]}
- {addresses: [10.0.0.1], conditions: {ready: false}}
ports: [{name: http, port: 3000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-2, namespace: ns, labels: {kubernetes.io/service-name: svc}}
addressType: IPv4
endpoints:
- {addresses: [10.0.0.1]}
ports: [{name: http, port: 3000}]
)";

struct Built {
  resources::Resources res;
  Graph g;
};

// Built through a unique_ptr: the graph points into the resources.
std::unique_ptr<Built> BuildFrom(std::string_view yaml, std::vector<std::string> claimed = {}) {
  auto docs = resources::YamlToJson(std::string(kClass) + "\n---\n" + std::string(yaml));
  EXPECT_TRUE(docs.ok()) << docs.status();
  std::vector<resources::RawObject> raw;
  for (auto& d : *docs) raw.push_back(std::make_shared<const json::object>(d.as_object()));
  auto b = std::make_unique<Built>();
  b->res = resources::Load(raw);
  EXPECT_TRUE(b->res.errors.empty()) << b->res.errors[0].message;
  Options opt;
  opt.feature_claimed = [claimed](std::string_view f) {
    return std::find(claimed.begin(), claimed.end(), f) != claimed.end();
  };
  b->g = Build(b->res, opt);
  return b;
}

const Condition* Find(const std::vector<Condition>& cs, std::string_view type) {
  for (const auto& c : cs) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

const Route& RouteNamed(const Graph& g, std::string_view name) {
  for (const Route& r : g.routes) {
    if (r.res->meta.name == name) return r;
  }
  ADD_FAILURE() << "no route " << name;
  return g.routes.front();
}

TEST(GatewayClasses, OnlyOursAreInTheGraph) {
  auto b = BuildFrom(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {controllerName: example.com/x}
)");
  ASSERT_EQ(b->g.gateway_classes.size(), 1u);
  EXPECT_TRUE(b->g.gateway_classes[0].accepted);
}

TEST(Gateways, AcceptanceSummarizesListeners) {
  auto b = BuildFrom(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: mixed, namespace: ns}
spec:
  gatewayClassName: gh
  listeners:
  - {name: ok, port: 80, protocol: HTTP}
  - {name: bad, port: 81, protocol: QUIC}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: none, namespace: ns}
spec:
  gatewayClassName: gh
  listeners:
  - {name: bad, port: 81, protocol: QUIC}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: hostname-address, namespace: ns}
spec:
  gatewayClassName: gh
  addresses: [{type: Hostname, value: gw.example.com}]
  listeners:
  - {name: ok, port: 80, protocol: HTTP}
)");
  ASSERT_EQ(b->g.gateways.size(), 3u);
  const Gateway& hostname_address = b->g.gateways[0];
  const Gateway& mixed = b->g.gateways[1];
  const Gateway& none = b->g.gateways[2];
  EXPECT_TRUE(mixed.accepted);
  EXPECT_EQ(Find(mixed.conditions, "Accepted")->reason, "ListenersNotValid");
  EXPECT_FALSE(none.accepted);
  EXPECT_EQ(Find(none.conditions, "Accepted")->reason, "ListenersNotValid");
  EXPECT_FALSE(hostname_address.accepted);
  EXPECT_EQ(Find(hostname_address.conditions, "Accepted")->reason, "UnsupportedAddress");
}

TEST(Listeners, TerminateDependsOnTheClaim) {
  constexpr std::string_view kGateway = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: gh
  listeners:
  - name: tls
    port: 443
    protocol: TLS
    tls: {mode: Terminate, certificateRefs: [{name: missing}]}
)";
  auto unclaimed = BuildFrom(kGateway);
  EXPECT_EQ(unclaimed->g.gateways[0].listeners[0].accepted_condition.reason, "UnsupportedValue");
  auto claimed = BuildFrom(kGateway, {"TLSRouteModeTerminate"});
  const Listener& l = claimed->g.gateways[0].listeners[0];
  EXPECT_TRUE(l.accepted);
  EXPECT_EQ(l.resolved_condition.reason, "InvalidCertificateRef");
  EXPECT_FALSE(l.Programmable());
}

TEST(Routes, AttachmentReasonsInOrder) {
  auto b = BuildFrom(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: gh
  listeners:
  - {name: a, port: 80, protocol: HTTP, hostname: a.com}
  - {name: b, port: 8080, protocol: HTTP, hostname: "*.b.com", allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: no-section, namespace: ns}
spec: {parentRefs: [{name: gw, sectionName: c}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: other-ns, namespace: elsewhere}
spec: {parentRefs: [{name: gw, namespace: ns, sectionName: a}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hostnames, namespace: ns}
spec: {parentRefs: [{name: gw}], hostnames: [c.com]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ok, namespace: elsewhere}
spec: {parentRefs: [{name: gw, namespace: ns, port: 8080}], hostnames: [x.b.com, c.com]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: unknown-parent, namespace: ns}
spec: {parentRefs: [{name: nope}]}
)");
  EXPECT_EQ(RouteNamed(b->g, "no-section").parents[0].accepted.reason, "NoMatchingParent");
  EXPECT_EQ(RouteNamed(b->g, "other-ns").parents[0].accepted.reason, "NotAllowedByListeners");
  EXPECT_EQ(RouteNamed(b->g, "hostnames").parents[0].accepted.reason, "NoMatchingListenerHostname");
  const Route& ok = RouteNamed(b->g, "ok");
  EXPECT_TRUE(ok.parents[0].accepted.IsTrue());
  const Listener& lb = b->g.gateways[0].listeners[1];
  EXPECT_EQ(lb.attached_routes, 1);
  ASSERT_EQ(lb.routes.size(), 1u);
  EXPECT_EQ(lb.routes[0].hostnames, std::vector<std::string>{"x.b.com"});
  EXPECT_EQ(b->g.gateways[0].listeners[0].attached_routes, 0);
  for (const Route& r : b->g.routes) EXPECT_NE(r.res->meta.name, "unknown-parent");
}

TEST(Routes, BackendsResolveToClustersWithEndpoints) {
  auto b = BuildFrom(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: gh
  listeners: [{name: a, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: svc, port: 8080, weight: 3}, {name: svc, port: 8081}]
  - backendRefs: [{name: svc, port: 9999}]
)");
  const Route& r = RouteNamed(b->g, "r");
  EXPECT_EQ(r.resolved_refs.reason, "BackendNotFound");
  ASSERT_EQ(r.rules[0].backends.size(), 2u);
  EXPECT_EQ(r.rules[0].backends[0].cluster, "ns/svc:8080");
  EXPECT_EQ(r.rules[0].backends[0].weight, 3);
  EXPECT_EQ(r.rules[1].backends[0].cluster, "");
  const Cluster& c = b->g.clusters.at("ns/svc:8080");
  ASSERT_EQ(c.endpoints.size(), 2u);
  EXPECT_EQ(c.endpoints[0].address, "10.0.0.1");
  EXPECT_EQ(c.endpoints[0].port, 3000u);
  EXPECT_TRUE(c.endpoints[0].ready);  // ready in one slice
  EXPECT_EQ(c.endpoints[1].address, "10.0.0.2");
  EXPECT_EQ(b->g.clusters.at("ns/svc:8081").protocol, UpstreamProtocol::kH2C);
  EXPECT_TRUE(b->g.clusters.at("ns/svc:8081").endpoints.empty());  // no slice port "h2c"
}

TEST(Routes, UnsupportedRulesAreDropped) {
  auto b = BuildFrom(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: gh
  listeners: [{name: a, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules:
  - filters: [{type: ExtensionRef, extensionRef: {group: x, kind: y, name: z}}]
  - backendRefs: [{name: svc, port: 8080}]
)");
  const Route& r = RouteNamed(b->g, "r");
  EXPECT_TRUE(r.Accepted());
  EXPECT_FALSE(r.rules[0].valid);
  EXPECT_TRUE(r.rules[1].valid);
  ASSERT_TRUE(r.partially_invalid.has_value());
  EXPECT_EQ(r.partially_invalid->reason, "UnsupportedValue");
}

TEST(BackendTLSPolicies, OldestWinsAndAppliesToTheCluster) {
  auto b = BuildFrom(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: ca, namespace: ns}
data: {ca.crt: "not a certificate"}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns}
spec:
  gatewayClassName: gh
  listeners: [{name: a, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{name: svc, port: 8080}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: a-system, namespace: ns, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  targetRefs: [{group: "", kind: Service, name: svc}]
  validation: {wellKnownCACertificates: System, hostname: svc.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: b-later, namespace: ns, creationTimestamp: "2024-01-02T00:00:00Z"}
spec:
  targetRefs: [{group: "", kind: Service, name: svc}]
  validation: {wellKnownCACertificates: System, hostname: other.example.com}
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: c-bad-ca, namespace: ns}
spec:
  targetRefs: [{group: "", kind: Service, name: svc}]
  validation: {caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}], hostname: x.example.com}
)");
  ASSERT_EQ(b->g.backend_tls_policies.size(), 3u);
  std::map<std::string, const BackendTLSPolicy*> by_name;
  for (const auto& p : b->g.backend_tls_policies) by_name[p.res->meta.name] = &p;
  EXPECT_TRUE(by_name["a-system"]->accepted);
  EXPECT_EQ(Find(by_name["b-later"]->conditions, "Accepted")->reason, "Conflicted");
  EXPECT_EQ(Find(by_name["c-bad-ca"]->conditions, "Accepted")->reason, "NoValidCACertificate");
  EXPECT_EQ(Find(by_name["c-bad-ca"]->conditions, "ResolvedRefs")->reason,
            "InvalidCACertificateRef");
  const Cluster& c = b->g.clusters.at("ns/svc:8080");
  ASSERT_TRUE(c.tls.has_value());
  EXPECT_EQ(c.tls->sni, "svc.example.com");
  EXPECT_TRUE(c.tls->system_trust);
}

}  // namespace
}  // namespace gatehouse::graph
