#include "controller/status/status.h"

#include <gtest/gtest.h>

#include "controller/resources/yaml.h"

namespace gatehouse::status {
namespace {

namespace json = boost::json;

constexpr std::string_view kObjects = R"(
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: gh}
spec: {controllerName: me}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: ns, generation: 4, resourceVersion: "17"}
spec:
  gatewayClassName: gh
  allowedListeners: {namespaces: {from: Same}}
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: ls, namespace: ns}
spec:
  parentRef: {name: gw}
  listeners: [{name: extra, port: 81, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gone, namespace: ns}
spec:
  parentRefs: [{name: elsewhere}]
status:
  parents:
  - {parentRef: {name: gw}, controllerName: me, conditions: []}
  - {parentRef: {name: x}, controllerName: other, conditions: []}
)";

struct Fixture {
  resources::Resources res;
  graph::Graph g;
};

std::unique_ptr<Fixture> Load() {
  auto docs = resources::YamlToJson(kObjects);
  EXPECT_TRUE(docs.ok());
  std::vector<resources::RawObject> raw;
  for (auto& d : *docs) raw.push_back(std::make_shared<const json::object>(d.as_object()));
  auto f = std::make_unique<Fixture>();
  f->res = resources::Load(raw);
  graph::Options opt;
  opt.controller_name = "me";
  f->g = graph::Build(f->res, opt);
  return f;
}

const StatusUpdate& Get(const std::vector<StatusUpdate>& all, std::string_view kind) {
  for (const auto& u : all) {
    if (u.kind == kind) return u;
  }
  ADD_FAILURE() << "no status for " << kind;
  return all.front();
}

std::string Reason(const json::value& conditions, std::string_view type) {
  for (const auto& c : conditions.as_array()) {
    if (c.at("type").as_string() == type) return std::string(c.at("reason").as_string());
  }
  return "";
}

TEST(BuildStatus, ProgrammedPrecedence) {
  auto f = Load();
  StatusOptions opt;
  opt.controller_name = "me";
  opt.now = "2024-01-01T00:00:00Z";
  GatewayProgramming& p = opt.programming["ns/gw"];
  p.version = "v2";
  p.addresses = {{"IPAddress", "10.0.0.1"}};
  p.acked_version = "v1";
  p.nacked_version = "v2";
  p.nack_error = "boom";
  p.address_error = "not in pool";
  auto reason = [&] {
    auto all = BuildStatus(f->res, f->g, opt);
    return Reason(Get(all, "Gateway").status.at("conditions"), "Programmed");
  };
  EXPECT_EQ(reason(), "AddressNotUsable");
  p.address_error.clear();
  EXPECT_EQ(reason(), "Invalid");
  p.nacked_version.clear();
  EXPECT_EQ(reason(), "Pending");
  p.acked_version = "v2";
  EXPECT_EQ(reason(), "Programmed");
  p.addresses.clear();
  EXPECT_EQ(reason(), "AddressNotAssigned");
}

TEST(BuildStatus, GatewayStanzaShape) {
  auto f = Load();
  StatusOptions opt;
  opt.controller_name = "me";
  opt.now = "2024-01-01T00:00:00Z";
  opt.supported_features = {"Gateway", "HTTPRoute"};
  opt.programming["ns/gw"] = {{{"IPAddress", "10.0.0.1"}}, "v1", "v1", "", "", ""};
  auto all = BuildStatus(f->res, f->g, opt);
  const StatusUpdate& gw = Get(all, "Gateway");
  EXPECT_EQ(gw.resource_version, "17");
  EXPECT_EQ(gw.status.at("attachedListenerSets").as_int64(), 1);
  EXPECT_EQ(gw.status.at("addresses").as_array()[0].at("type").as_string(), "IPAddress");
  const auto& listener = gw.status.at("listeners").as_array()[0];
  EXPECT_EQ(listener.at("name").as_string(), "http");
  EXPECT_EQ(listener.at("attachedRoutes").as_int64(), 0);
  for (const auto& c : listener.at("conditions").as_array()) {
    EXPECT_EQ(c.at("observedGeneration").as_int64(), 4);
  }
  const StatusUpdate& ls = Get(all, "ListenerSet");
  EXPECT_EQ(Reason(ls.status.at("conditions"), "Programmed"), "Programmed");
  const StatusUpdate& gc = Get(all, "GatewayClass");
  EXPECT_EQ(gc.status.at("supportedFeatures").as_array().size(), 2u);
}

TEST(BuildStatus, DropsOwnEntriesOfRoutesThatLeft) {
  auto f = Load();
  StatusOptions opt;
  opt.controller_name = "me";
  opt.now = "2024-01-01T00:00:00Z";
  auto all = BuildStatus(f->res, f->g, opt);
  const StatusUpdate& route = Get(all, "HTTPRoute");
  const auto& parents = route.status.at("parents").as_array();
  ASSERT_EQ(parents.size(), 1u);
  EXPECT_EQ(parents[0].at("controllerName").as_string(), "other");
}

}  // namespace
}  // namespace gatehouse::status
