#include "controller/infra/kube_objects.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "controller/kube/json_util.h"

namespace gatehouse::infra {
namespace {

namespace json = boost::json;

GatewayInfo Gateway() {
  GatewayInfo gw;
  gw.key = "ns/web";
  gw.ns = "ns";
  gw.name = "web";
  gw.uid = "uid-1";
  gw.labels = {{"team", "a"}, {std::string(kGatewayNameLabel), "spoofed"}};
  gw.annotations = {{"note", "x"}};
  gw.ports = {{53, "UDP"}, {80, "TCP"}};
  return gw;
}

const json::object& Meta(const json::object& o) { return o.at("metadata").as_object(); }

TEST(KubeObjectsTest, NamesAreValidServiceNames) {
  EXPECT_EQ(ObjectName("web"), "gatehouse-web");
  std::string long_name(100, 'a');
  std::string n = ObjectName(long_name);
  EXPECT_LE(n.size(), 63u);
  EXPECT_NE(n, ObjectName(long_name + "b"));
  EXPECT_EQ(n, ObjectName(long_name));  // stable
  EXPECT_EQ(LabelValue("web"), "web");
  EXPECT_LE(LabelValue(long_name).size(), 63u);
}

TEST(KubeObjectsTest, EveryObjectCarriesLabelsAnnotationsAndOwner) {
  const GatewayInfo gw = Gateway();
  ProxyObjectOptions o;
  o.controller_address = "ctl:18000";
  for (const json::object& obj : {ServiceAccountFor(gw), DeploymentFor(gw, o), ServiceFor(gw, o),
                                  HeadlessServiceFor(gw), EndpointSliceFor(gw, {})}) {
    SCOPED_TRACE(json::serialize(obj));
    const json::object& meta = Meta(obj);
    EXPECT_EQ(meta.at("name"), "gatehouse-web");
    EXPECT_EQ(meta.at("namespace"), "ns");
    const json::object& labels = meta.at("labels").as_object();
    EXPECT_EQ(labels.at("team"), "a");
    EXPECT_EQ(labels.at(kGatewayNameLabel), "web");  // ours win
    EXPECT_EQ(meta.at("annotations").as_object().at("note"), "x");
    const json::object& owner = meta.at("ownerReferences").as_array().at(0).as_object();
    EXPECT_EQ(owner.at("kind"), "Gateway");
    EXPECT_EQ(owner.at("uid"), "uid-1");
    EXPECT_EQ(owner.at("name"), "web");
  }
}

TEST(KubeObjectsTest, NoUidNoOwner) {
  GatewayInfo gw = Gateway();
  gw.uid.clear();
  EXPECT_FALSE(Meta(ServiceAccountFor(gw)).contains("ownerReferences"));
}

TEST(KubeObjectsTest, DeploymentRunsTheProxyForTheGateway) {
  ProxyObjectOptions o;
  o.controller_address = "gatehouse.gatehouse-system.svc:18000";
  o.replicas = 2;
  o.proxy_workers = 3;
  json::object d = DeploymentFor(Gateway(), o);
  const json::object& spec = d.at("spec").as_object();
  EXPECT_EQ(spec.at("replicas"), 2);
  const json::object& tmpl = spec.at("template").as_object();
  // The selector must select the template.
  for (const auto& [k, v] : spec.at("selector").at("matchLabels").as_object()) {
    EXPECT_EQ(tmpl.at("metadata").at("labels").as_object().at(k), v) << k;
  }
  EXPECT_EQ(tmpl.at("metadata").at("annotations").as_object().at("note"), "x");
  const json::object& c = tmpl.at("spec").at("containers").as_array().at(0).as_object();
  EXPECT_EQ(c.at("image"), kProxyImage);
  EXPECT_EQ(json::serialize(c.at("command")), R"(["/usr/local/bin/gatehouse-proxy"])");
  EXPECT_NE(
      json::serialize(tmpl.at("spec").at("securityContext")).find("ip_unprivileged_port_start"),
      std::string::npos);
  EXPECT_EQ(json::serialize(c.at("args")),
            R"j(["--controller=gatehouse.gatehouse-system.svc:18000","--gateway=ns/web",)j"
            R"j("--admin=0.0.0.0:19000","--proxy-id=$(POD_NAME)","--workers=3"])j");
  EXPECT_EQ(c.at("readinessProbe").at("httpGet").at("path"), "/ready");
  EXPECT_EQ(c.at("readinessProbe").at("httpGet").at("port"), 19000);
  EXPECT_EQ(tmpl.at("spec").at("serviceAccountName"), "gatehouse-web");
}

TEST(KubeObjectsTest, ServiceExposesListenerPortsWithTheirProtocols) {
  ProxyObjectOptions o;
  o.service_type = "NodePort";
  json::object svc = ServiceFor(Gateway(), o);
  EXPECT_EQ(svc.at("spec").at("type"), "NodePort");
  EXPECT_EQ(json::serialize(svc.at("spec").at("ports")),
            R"([{"name":"udp-53","port":53,"targetPort":53,"protocol":"UDP"},)"
            R"({"name":"tcp-80","port":80,"targetPort":80,"protocol":"TCP"}])");
  GatewayInfo none = Gateway();
  none.ports.clear();
  EXPECT_TRUE(ServiceFor(none, o).empty());
}

TEST(KubeObjectsTest, EndpointSliceNamesIpv4AddressesOfTheHeadlessService) {
  json::object slice =
      EndpointSliceFor(Gateway(), {{"IPAddress", "10.245.0.10"}, {"Hostname", "x.example"}});
  EXPECT_EQ(Meta(slice).at("labels").at("kubernetes.io/service-name"), "gatehouse-web");
  EXPECT_EQ(json::serialize(slice.at("endpoints")),
            R"([{"addresses":["10.245.0.10"],"conditions":{"ready":true}}])");
  EXPECT_EQ(HeadlessServiceFor(Gateway()).at("spec").at("clusterIP"), "None");
  EXPECT_FALSE(HeadlessServiceFor(Gateway()).at("spec").as_object().contains("selector"));
}

source::ObjectPtr Obj(std::string_view text) {
  return std::make_shared<const json::object>(json::parse(text).as_object());
}

TEST(KubeObjectsTest, AddressesPreferLoadBalancerIngressThenReadyEndpoints) {
  const GatewayInfo gw = Gateway();
  auto slice = Obj(R"({"kind":"EndpointSlice","metadata":{"namespace":"ns","name":"s1",
    "labels":{"kubernetes.io/service-name":"gatehouse-web"}},
    "endpoints":[{"addresses":["10.244.1.2"],"conditions":{"ready":true}},
                 {"addresses":["10.244.1.3"],"conditions":{"ready":false}},
                 {"addresses":["10.244.1.4"]}]})");
  auto other_ns = Obj(R"({"kind":"EndpointSlice","metadata":{"namespace":"x","name":"s1",
    "labels":{"kubernetes.io/service-name":"gatehouse-web"}},
    "endpoints":[{"addresses":["10.244.9.9"]}]})");
  auto svc = Obj(R"({"kind":"Service","metadata":{"namespace":"ns","name":"gatehouse-web"},
    "status":{"loadBalancer":{}}})");
  EXPECT_EQ(ServiceAddresses(gw, {slice, other_ns, svc}),
            (std::vector<Address>{{"IPAddress", "10.244.1.2"}, {"IPAddress", "10.244.1.4"}}));
  auto lb = Obj(R"({"kind":"Service","metadata":{"namespace":"ns","name":"gatehouse-web"},
    "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1"},{"hostname":"lb.example"}]}}})");
  EXPECT_EQ(ServiceAddresses(gw, {slice, lb}),
            (std::vector<Address>{{"IPAddress", "192.0.2.1"}, {"Hostname", "lb.example"}}));
  EXPECT_TRUE(ServiceAddresses(gw, {other_ns}).empty());
}

}  // namespace
}  // namespace gatehouse::infra
