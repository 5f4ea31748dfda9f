#include "controller/reconcile/reconcile.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "controller/resources/yaml.h"

namespace gatehouse::reconcile {
namespace {

namespace json = boost::json;

constexpr std::string_view kObjects = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gatehouse, generation: 1}
spec: {controllerName: gatehouse.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns, generation: 1}
spec:
  gatewayClassName: gatehouse
  listeners:
  - {name: http, port: 80, protocol: HTTP}
---
apiVersion: v1
kind: Service
metadata: {name: svc, namespace: ns}
spec:
  ports: [{port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route, namespace: ns, generation: 1}
spec:
  parentRefs: [{name: gw}]
  rules:
  - backendRefs: [{name: svc, port: 8080}]
)";

std::vector<source::ObjectPtr> Parse(std::string_view yaml) {
  auto docs = resources::YamlToJson(yaml);
  EXPECT_TRUE(docs.ok());
  std::vector<source::ObjectPtr> out;
  for (auto& d : *docs) out.push_back(std::make_shared<const json::object>(d.as_object()));
  return out;
}

const status::StatusUpdate* Find(const Outputs& out, std::string_view kind, std::string_view name) {
  for (const auto& u : out.status) {
    if (u.kind == kind && u.name == name) return &u;
  }
  return nullptr;
}

const json::object* Condition(const json::value& conditions, std::string_view type) {
  for (const auto& c : conditions.as_array()) {
    if (c.at("type").as_string() == type) return &c.as_object();
  }
  return nullptr;
}

// Writes the desired status back into the objects, as a provider would, and
// optionally bumps one object's generation (a spec change).
std::vector<source::ObjectPtr> Apply(const std::vector<source::ObjectPtr>& objects,
                                     const Outputs& out, std::string_view bump = "") {
  std::vector<source::ObjectPtr> next;
  for (const auto& o : objects) {
    json::object copy = *o;
    const auto& md = copy["metadata"].as_object();
    std::string name(md.at("name").as_string());
    std::string kind(copy["kind"].as_string());
    for (const auto& u : out.status) {
      if (u.kind == kind && u.name == name) copy["status"] = u.status;
    }
    if (name == bump)
      copy["metadata"].as_object()["generation"] = md.at("generation").as_int64() + 1;
    next.push_back(std::make_shared<const json::object>(std::move(copy)));
  }
  return next;
}

TEST(Reconcile, KeepsTransitionTimeAndBumpsObservedGeneration) {
  Inputs in;
  in.objects = Parse(kObjects);
  in.now = "2024-01-01T00:00:00Z";
  Outputs first = Reconcile(in);
  ASSERT_EQ(first.snapshots.size(), 1u);

  in.objects = Apply(in.objects, first, "gw");
  in.now = "2024-02-02T00:00:00Z";
  Outputs second = Reconcile(in);
  const auto* gw = Find(second, "Gateway", "gw");
  ASSERT_NE(gw, nullptr);
  const json::object* accepted = Condition(gw->status.at("conditions"), "Accepted");
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ(accepted->at("observedGeneration").as_int64(), 2);
  EXPECT_EQ(accepted->at("lastTransitionTime").as_string(), "2024-01-01T00:00:00Z");
  for (const auto& c : gw->status.at("listeners").as_array()[0].at("conditions").as_array()) {
    EXPECT_EQ(c.at("observedGeneration").as_int64(), 2) << c;
  }
  // The route did not change: its status is identical.
  EXPECT_EQ(Find(first, "HTTPRoute", "route")->status, Find(second, "HTTPRoute", "route")->status);
}

TEST(Reconcile, ProgrammedFollowsTheProxyAcks) {
  Inputs in;
  in.objects = Parse(kObjects);
  in.now = "2024-01-01T00:00:00Z";
  in.infra["ns/gw"].addresses = {{"IPAddress", "10.1.1.1"}};
  Outputs out = Reconcile(in);
  std::string version = out.snapshots.at("ns/gw").version();
  ASSERT_FALSE(version.empty());
  auto programmed = [&](const Outputs& o) {
    return *Condition(Find(o, "Gateway", "gw")->status.at("conditions"), "Programmed");
  };
  EXPECT_EQ(programmed(out).at("reason").as_string(), "Pending");

  in.infra["ns/gw"].nacked_version = version;
  in.infra["ns/gw"].nack_error = "bad listener";
  out = Reconcile(in);
  EXPECT_EQ(programmed(out).at("reason").as_string(), "Invalid");
  EXPECT_NE(std::string(programmed(out).at("message").as_string()).find("bad listener"),
            std::string::npos);

  in.infra["ns/gw"].acked_version = version;
  in.infra["ns/gw"].nacked_version = "";
  out = Reconcile(in);
  EXPECT_EQ(programmed(out).at("status").as_string(), "True");
  EXPECT_EQ(out.snapshots.at("ns/gw").listeners(0).address(), "10.1.1.1");

  in.infra["ns/gw"].addresses.clear();
  out = Reconcile(in);
  EXPECT_EQ(programmed(out).at("reason").as_string(), "AddressNotAssigned");
}

TEST(Reconcile, VersionIsAContentHash) {
  Inputs in;
  in.objects = Parse(kObjects);
  in.now = "2024-01-01T00:00:00Z";
  std::string v1 = Reconcile(in).snapshots.at("ns/gw").version();
  in.now = "2030-01-01T00:00:00Z";
  EXPECT_EQ(Reconcile(in).snapshots.at("ns/gw").version(), v1);
  in.objects = Parse(std::string(kObjects) + R"(
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: svc-1, namespace: ns, labels: {kubernetes.io/service-name: svc}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.1]}]
ports: [{port: 8080}]
)");
  EXPECT_NE(Reconcile(in).snapshots.at("ns/gw").version(), v1);
}

TEST(Reconcile, BadObjectOnlyAffectsItself) {
  Inputs in;
  in.objects = Parse(std::string(kObjects) + R"(
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: broken, namespace: ns}
spec:
  parentRefs: {name: gw}
)");
  in.now = "2024-01-01T00:00:00Z";
  Outputs out = Reconcile(in);
  ASSERT_EQ(out.decode_errors.size(), 1u);
  EXPECT_EQ(out.decode_errors[0], "HTTPRoute ns/broken: spec.parentRefs: expected a list");
  EXPECT_NE(Find(out, "HTTPRoute", "route"), nullptr);
  EXPECT_EQ(Find(out, "HTTPRoute", "broken"), nullptr);
  EXPECT_EQ(out.snapshots.size(), 1u);
}

TEST(Reconcile, KeepsOtherControllersRouteParents) {
  Inputs in;
  in.objects = Parse(kObjects);
  in.now = "2024-01-01T00:00:00Z";
  json::object route = *in.objects.back();
  json::value foreign =
      json::parse(R"({"parentRef":{"name":"other"},"controllerName":"example.com/x",
      "conditions":[{"type":"Accepted","status":"True","reason":"Accepted","message":"",
      "observedGeneration":1,"lastTransitionTime":"2020-01-01T00:00:00Z"}]})");
  route["status"] = json::object{{"parents", json::array{foreign}}};
  in.objects.back() = std::make_shared<const json::object>(route);
  Outputs out = Reconcile(in);
  const auto& parents = Find(out, "HTTPRoute", "route")->status.at("parents").as_array();
  ASSERT_EQ(parents.size(), 2u);
  EXPECT_EQ(parents[0], foreign);
  EXPECT_EQ(parents[1].at("controllerName").as_string(), "gatehouse.dev/gateway-controller");
}

}  // namespace
}  // namespace gatehouse::reconcile
