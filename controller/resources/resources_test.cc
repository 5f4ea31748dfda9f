#include "controller/resources/resources.h"

#include <gtest/gtest.h>

#include "controller/resources/yaml.h"

namespace gatehouse::resources {
namespace {

namespace json = boost::json;

std::vector<RawObject> FromYaml(std::string_view yaml) {
  auto docs = YamlToJson(yaml);
  EXPECT_TRUE(docs.ok()) << docs.status();
  std::vector<RawObject> out;
  for (auto& d : *docs) out.push_back(std::make_shared<const json::object>(d.as_object()));
  return out;
}

TEST(Load, GatewayWithDefaults) {
  Resources r = Load(FromYaml(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra, generation: 3, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  gatewayClassName: gatehouse
  listeners:
  - name: https
    port: 443
    protocol: HTTPS
    hostname: "*.example.com"
    tls:
      certificateRefs:
      - name: cert
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: Selector
        selector:
          matchLabels: {team: a}
      kinds:
      - kind: HTTPRoute
  addresses:
  - value: 10.0.0.1
)"));
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.gateways.size(), 1u);
  const Gateway& gw = r.gateways[0];
  EXPECT_EQ(gw.Key(), "infra/gw");
  EXPECT_EQ(gw.meta.generation, 3);
  ASSERT_EQ(gw.listeners.size(), 2u);
  const Listener& https = gw.listeners[0];
  ASSERT_TRUE(https.tls.has_value());
  EXPECT_EQ(https.tls->mode, "Terminate");
  ASSERT_EQ(https.tls->certificate_refs.size(), 1u);
  EXPECT_EQ(https.tls->certificate_refs[0].group, "");
  EXPECT_EQ(https.tls->certificate_refs[0].kind, "Secret");
  EXPECT_EQ(https.allowed_routes.from, "Same");
  EXPECT_EQ(*https.hostname, "*.example.com");
  const Listener& http = gw.listeners[1];
  EXPECT_EQ(http.allowed_routes.from, "Selector");
  ASSERT_TRUE(http.allowed_routes.selector.has_value());
  EXPECT_TRUE(http.allowed_routes.selector->Matches({{"team", "a"}, {"x", "y"}}));
  EXPECT_FALSE(http.allowed_routes.selector->Matches({{"team", "b"}}));
  ASSERT_EQ(http.allowed_routes.kinds.size(), 1u);
  EXPECT_EQ(http.allowed_routes.kinds[0].group, "gateway.networking.k8s.io");
  ASSERT_EQ(gw.addresses.size(), 1u);
  EXPECT_EQ(gw.addresses[0].type, "IPAddress");
  EXPECT_EQ(gw.allowed_listeners.from, "None");
}

TEST(Load, HTTPRouteDefaultsAndFilters) {
  Resources r = Load(FromYaml(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: ns}
spec:
  parentRefs:
  - name: gw
    sectionName: http
  hostnames: [a.example.com]
  rules:
  - matches:
    - headers:
      - name: version
        value: one
    filters:
    - type: RequestRedirect
      requestRedirect:
        hostname: example.org
    backendRefs:
    - name: svc
      port: 8080
      weight: 0
    timeouts:
      request: 500ms
    retry:
      codes: [500, 502]
      attempts: 2
)"));
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.http_routes.size(), 1u);
  const HTTPRoute& route = r.http_routes[0];
  ASSERT_EQ(route.parent_refs.size(), 1u);
  EXPECT_EQ(route.parent_refs[0].group, "gateway.networking.k8s.io");
  EXPECT_EQ(route.parent_refs[0].kind, "Gateway");
  EXPECT_FALSE(route.parent_refs[0].ns.has_value());
  EXPECT_EQ(*route.parent_refs[0].section_name, "http");
  ASSERT_EQ(route.rules.size(), 1u);
  const HTTPRouteRule& rule = route.rules[0];
  ASSERT_EQ(rule.matches.size(), 1u);
  EXPECT_EQ(rule.matches[0].path.type, "PathPrefix");
  EXPECT_EQ(rule.matches[0].path.value, "/");
  EXPECT_EQ(rule.matches[0].headers[0].type, "Exact");
  ASSERT_EQ(rule.filters.size(), 1u);
  EXPECT_EQ(rule.filters[0].request_redirect->status_code, 302);
  EXPECT_EQ(rule.backend_refs[0].ref.kind, "Service");
  EXPECT_EQ(rule.backend_refs[0].weight, 0);
  EXPECT_EQ(*rule.backend_refs[0].ref.port, 8080);
  EXPECT_EQ(*rule.request_timeout, "500ms");
  EXPECT_EQ(rule.retry->codes, (std::vector<int32_t>{500, 502}));
}

TEST(Load, WrongTypeFailsOnlyThatObject) {
  Resources r = Load(FromYaml(R"(
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bad, namespace: ns}
spec:
  gatewayClassName: gatehouse
  listeners:
  - name: http
    port: eighty
    protocol: HTTP
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: good, namespace: ns}
spec:
  gatewayClassName: gatehouse
  listeners:
  - name: http
    port: 80
    protocol: HTTP
---
apiVersion: v1
kind: Service
metadata: {namespace: ns}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ignored, namespace: ns}
)"));
  ASSERT_EQ(r.gateways.size(), 1u);
  EXPECT_EQ(r.gateways[0].meta.name, "good");
  ASSERT_EQ(r.errors.size(), 2u);
  EXPECT_EQ(r.errors[0].kind, "Gateway");
  EXPECT_EQ(r.errors[0].key, "ns/bad");
  EXPECT_EQ(r.errors[0].message, "spec.listeners[0].port: expected an integer");
  EXPECT_EQ(r.errors[1].kind, "Service");
}

TEST(Load, CoreObjects) {
  Resources r = Load(FromYaml(R"(
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
spec:
  clusterIP: None
  ports:
  - name: http
    port: 8080
    targetPort: web
    appProtocol: kubernetes.io/h2c
  - port: 9090
    targetPort: 3000
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: svc-abc
  namespace: ns
  labels: {kubernetes.io/service-name: svc}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
- addresses: [10.0.0.2]
  conditions: {ready: false}
ports:
- name: http
  port: 3000
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: ns}
type: kubernetes.io/tls
data:
  tls.crt: aGVsbG8=
stringData:
  tls.key: plain
---
apiVersion: v1
kind: Namespace
metadata: {name: ns, labels: {a: b}}
)"));
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.services.size(), 1u);
  EXPECT_EQ(r.services[0].cluster_ip, "None");
  EXPECT_EQ(*r.services[0].ports[0].target_port_name, "web");
  EXPECT_EQ(*r.services[0].ports[1].target_port_number, 3000);
  EXPECT_EQ(r.services[0].ports[1].protocol, "TCP");
  ASSERT_EQ(r.endpoint_slices.size(), 1u);
  EXPECT_EQ(r.endpoint_slices[0].service_name, "svc");
  EXPECT_TRUE(r.endpoint_slices[0].endpoints[0].ready);
  EXPECT_FALSE(r.endpoint_slices[0].endpoints[1].ready);
  ASSERT_EQ(r.secrets.size(), 1u);
  EXPECT_EQ(r.secrets[0].data.at("tls.crt"), "hello");
  EXPECT_EQ(r.secrets[0].data.at("tls.key"), "plain");
  ASSERT_EQ(r.namespaces.size(), 1u);
  EXPECT_EQ(r.namespaces[0].meta.labels.at("a"), "b");
}

TEST(Load, DuplicateKeysKeepTheFirst) {
  Resources r = Load(FromYaml(R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: ns}
data: {ca.crt: first}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: ns}
data: {ca.crt: second}
)"));
  ASSERT_EQ(r.config_maps.size(), 1u);
  EXPECT_EQ(r.config_maps[0].data.at("ca.crt"), "first");
}

}  // namespace
}  // namespace gatehouse::resources
