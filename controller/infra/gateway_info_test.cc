#include "controller/infra/gateway_info.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace gatehouse::infra {
namespace {

namespace json = boost::json;

source::ObjectPtr Obj(std::string_view text) {
  return std::make_shared<const json::object>(json::parse(text).as_object());
}

TEST(GatewayInfoTest, FindsTheGatewayByNamespaceAndName) {
  std::vector<source::ObjectPtr> objects = {
      Obj(R"({"apiVersion":"v1","kind":"Service","metadata":{"namespace":"a","name":"gw"}})"),
      Obj(R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway",
              "metadata":{"namespace":"b","name":"gw"}})"),
      Obj(R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway",
              "metadata":{"namespace":"a","name":"gw","uid":"u1"}})")};
  auto gateways = GatewaysByKey(objects);
  EXPECT_EQ(gateways.size(), 2u);
  EXPECT_EQ(gateways["a/gw"], objects[2]);
  EXPECT_EQ(gateways["b/gw"], objects[1]);
  EXPECT_EQ(gateways.count("c/gw"), 0u);
}

TEST(GatewayInfoTest, ReadsIdentityInfrastructureAndPorts) {
  auto gw = Obj(R"({"apiVersion":"gateway.networking.k8s.io/v1beta1","kind":"Gateway",
    "metadata":{"namespace":"ns","name":"web","uid":"1234"},
    "spec":{"infrastructure":{"labels":{"k":"v","bad":7},"annotations":{"a":"b"}}}})");
  gatehouse::config::v1::Snapshot snapshot;
  auto* l1 = snapshot.add_listeners();
  l1->set_port(8443);
  l1->set_protocol(gatehouse::config::v1::HTTPS);
  auto* l2 = snapshot.add_listeners();
  l2->set_port(53);
  l2->set_protocol(gatehouse::config::v1::UDP);
  auto* l3 = snapshot.add_listeners();  // same socket twice (two addresses)
  l3->set_port(8443);
  l3->set_protocol(gatehouse::config::v1::HTTPS);

  GatewayInfo info = MakeGatewayInfo("ns/web", gw.get(), &snapshot, {{"IPAddress", "10.0.0.1"}});
  EXPECT_EQ(info.ns, "ns");
  EXPECT_EQ(info.name, "web");
  EXPECT_EQ(info.uid, "1234");
  EXPECT_EQ(info.api_version, "gateway.networking.k8s.io/v1beta1");
  EXPECT_EQ(info.labels, (std::map<std::string, std::string>{{"k", "v"}}));
  EXPECT_EQ(info.annotations, (std::map<std::string, std::string>{{"a", "b"}}));
  EXPECT_EQ(info.ports, (std::vector<GatewayPort>{{53, "UDP"}, {8443, "TCP"}}));
  EXPECT_EQ(info.spec_addresses.size(), 1u);
}

TEST(GatewayInfoTest, WithoutObjectOrSnapshotOnlyTheKey) {
  GatewayInfo info = MakeGatewayInfo("ns/web", nullptr, nullptr, {});
  EXPECT_EQ(info.key, "ns/web");
  EXPECT_EQ(info.name, "web");
  EXPECT_TRUE(info.uid.empty());
  EXPECT_TRUE(info.ports.empty());
  // A spec that is not an object reads as absent.
  auto odd = Obj(R"({"kind":"Gateway","spec":[1,2]})");
  EXPECT_TRUE(MakeGatewayInfo("ns/web", odd.get(), nullptr, {}).labels.empty());
}

}  // namespace
}  // namespace gatehouse::infra
