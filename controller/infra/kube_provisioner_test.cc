#include "controller/infra/kube_provisioner.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "controller/infra/test_util.h"
#include "controller/kube/json_util.h"
#include "controller/kube/testing/fake_apiserver.h"

namespace gatehouse::infra {
namespace {

namespace json = boost::json;
using kube::testing::FakeApiServer;
using testing::Eventually;

std::unique_ptr<kube::ObjectClient> Client(const FakeApiServer& server) {
  kube::KubeConfig config;
  config.server = server.url();
  return *kube::ObjectClient::Create(config);
}

GatewayInfo Gateway(std::map<std::string, std::string> labels,
                    std::map<std::string, std::string> annotations) {
  GatewayInfo gw;
  gw.key = "infra/gw";
  gw.ns = "infra";
  gw.name = "gw";
  gw.uid = "gw-uid";
  gw.labels = std::move(labels);
  gw.annotations = std::move(annotations);
  gw.ports = {{8080, "TCP"}, {5353, "UDP"}};
  return gw;
}

json::object MetaMap(const json::object& obj, const char* field) {
  const json::object* meta = kube::ObjectField(obj, "metadata");
  const json::object* m = meta ? kube::ObjectField(*meta, field) : nullptr;
  return m ? *m : json::object();
}

KubeProvisionerOptions Options() {
  KubeProvisionerOptions o;
  o.proxy.controller_address = "10.244.0.1:18000";
  o.sync.backoff_min = std::chrono::milliseconds(10);
  o.sync.backoff_max = std::chrono::milliseconds(50);
  return o;
}

bool Exists(FakeApiServer& server, const char* resource) {
  return !server.Get(resource, "infra", "gatehouse-gw").empty();
}

TEST(KubernetesProvisionerTest, CreatesLabelledOwnedObjectsAndFollowsInfrastructureChanges) {
  FakeApiServer server;
  auto client = Client(server);
  auto p = MakeKubernetesProvisioner(client.get(), Options());

  ASSERT_TRUE(p->EnsureGateway(Gateway({{"key2", "value2"}}, {{"key1", "value1"}})).ok());
  for (const char* resource : {"serviceaccounts", "deployments", "services"}) {
    SCOPED_TRACE(resource);
    ASSERT_TRUE(Eventually([&] { return Exists(server, resource); }));
    json::object obj = server.Get(resource, "infra", "gatehouse-gw");
    json::object labels = MetaMap(obj, "labels");
    EXPECT_EQ(labels["key2"], "value2");
    EXPECT_EQ(labels["gateway.networking.k8s.io/gateway-name"], "gw");
    EXPECT_EQ(MetaMap(obj, "annotations")["key1"], "value1");
    const json::object& owner =
        obj.at("metadata").at("ownerReferences").as_array().at(0).as_object();
    EXPECT_EQ(owner.at("uid"), "gw-uid");
    EXPECT_EQ(owner.at("kind"), "Gateway");
  }
  json::object svc = server.Get("services", "infra", "gatehouse-gw");
  EXPECT_EQ(svc.at("spec").at("type"), "LoadBalancer");
  EXPECT_EQ(svc.at("spec").at("ports").as_array().size(), 2u);
  json::object deploy = server.Get("deployments", "infra", "gatehouse-gw");
  EXPECT_NE(json::serialize(deploy).find("--controller=10.244.0.1:18000"), std::string::npos);

  // New infrastructure: the old label and annotation go, the new ones come.
  ASSERT_TRUE(p->EnsureGateway(Gateway({{"key3", "value3"}}, {})).ok());
  ASSERT_TRUE(Eventually([&] {
    json::object sa = server.Get("serviceaccounts", "infra", "gatehouse-gw");
    json::object labels = MetaMap(sa, "labels");
    return labels.contains("key3") && !labels.contains("key2") &&
           !MetaMap(sa, "annotations").contains("key1");
  }));
  json::object labels = MetaMap(server.Get("deployments", "infra", "gatehouse-gw"), "labels");
  EXPECT_EQ(labels["gateway.networking.k8s.io/gateway-name"], "gw");

  // Gone: everything it made is deleted.
  p->Remove("infra/gw");
  for (const char* resource : {"serviceaccounts", "deployments", "services"}) {
    EXPECT_TRUE(Eventually([&] { return !Exists(server, resource); })) << resource;
  }
  EXPECT_TRUE(p->Gateways().empty());
}

TEST(KubernetesProvisionerTest, SameGatewayAgainWritesNothing) {
  FakeApiServer server;
  auto client = Client(server);
  auto p = MakeKubernetesProvisioner(client.get(), Options());
  ASSERT_TRUE(p->EnsureGateway(Gateway({}, {})).ok());
  ASSERT_TRUE(Eventually([&] { return Exists(server, "services"); }));
  const size_t writes = server.Patches().size();
  EXPECT_EQ(writes, 3u);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(p->EnsureGateway(Gateway({}, {})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(server.Patches().size(), writes);
}

TEST(KubernetesProvisionerTest, RequestedAddressesOutsideThePoolOrNotIpAreNotUsable) {
  FakeApiServer server;
  auto client = Client(server);
  KubeProvisionerOptions o = Options();
  o.static_addresses = *AddressPool::Parse("10.245.0.10-10.245.0.20");
  auto p = MakeKubernetesProvisioner(client.get(), o);
  for (const Address& a : std::vector<Address>{
           {"IPAddress", "10.0.0.1"}, {"IPAddress", "not-an-ip"}, {"Hostname", "gw.example.com"}}) {
    SCOPED_TRACE(a.second);
    GatewayInfo gw = Gateway({}, {});
    gw.spec_addresses = {{"IPAddress", "10.245.0.11"}, a};
    absl::Status st = p->EnsureGateway(gw);
    EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_NE(st.message().find(a.second), std::string_view::npos) << st.message();
    EXPECT_TRUE(p->Gateways().empty());
    EXPECT_TRUE(p->Addresses("infra/gw").empty());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(server.Patches().empty());
}

TEST(KubernetesProvisionerTest, RequestedAddressesBecomeExternalIpsAndTheGatewaysAddresses) {
  FakeApiServer server;
  auto client = Client(server);
  KubeProvisionerOptions o = Options();
  o.static_addresses = *AddressPool::Parse("10.245.0.10-10.245.0.20");
  auto p = MakeKubernetesProvisioner(client.get(), o);
  GatewayInfo gw = Gateway({}, {});
  gw.spec_addresses = {{"IPAddress", "10.245.0.12"}};
  ASSERT_TRUE(p->EnsureGateway(gw).ok());
  const std::vector<Address> want{{"IPAddress", "10.245.0.12"}};
  EXPECT_EQ(p->Addresses("infra/gw"), want);
  ASSERT_TRUE(Eventually([&] { return Exists(server, "services"); }));
  json::object svc = server.Get("services", "infra", "gatehouse-gw");
  EXPECT_EQ(json::serialize(svc.at("spec").at("externalIPs")), R"(["10.245.0.12"])");
  // The observed Service's endpoints do not replace what the Gateway asked for.
  auto slice = std::make_shared<const json::object>(json::parse(R"({
    "apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
    "metadata":{"namespace":"infra","name":"gatehouse-gw-abcde",
                "labels":{"kubernetes.io/service-name":"gatehouse-gw"}},
    "endpoints":[{"addresses":["10.244.1.7"]}]})")
                                                        .as_object());
  p->Observe({slice});
  EXPECT_EQ(p->Addresses("infra/gw"), want);
  // Without requested addresses the Service decides again.
  ASSERT_TRUE(p->EnsureGateway(Gateway({}, {})).ok());
  p->Observe({slice});
  EXPECT_EQ(p->Addresses("infra/gw"), (std::vector<Address>{{"IPAddress", "10.244.1.7"}}));
}

TEST(KubernetesProvisionerTest, WithoutAPoolAnyIpAddressIsUsable) {
  FakeApiServer server;
  auto client = Client(server);
  auto p = MakeKubernetesProvisioner(client.get(), Options());
  GatewayInfo gw = Gateway({}, {});
  gw.spec_addresses = {{"IPAddress", "192.0.2.7"}, {"IPAddress", "2001:db8::7"}};
  ASSERT_TRUE(p->EnsureGateway(gw).ok());
  EXPECT_EQ(p->Addresses("infra/gw"),
            (std::vector<Address>{{"IPAddress", "192.0.2.7"}, {"IPAddress", "2001:db8::7"}}));
}

TEST(KubernetesProvisionerTest, AddressesComeFromTheObservedService) {
  FakeApiServer server;
  auto client = Client(server);
  auto p = MakeKubernetesProvisioner(client.get(), Options());
  ASSERT_TRUE(p->EnsureGateway(Gateway({}, {})).ok());
  EXPECT_TRUE(p->Addresses("infra/gw").empty());
  auto slice = std::make_shared<const json::object>(json::parse(R"({
    "apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice",
    "metadata":{"namespace":"infra","name":"gatehouse-gw-abcde",
                "labels":{"kubernetes.io/service-name":"gatehouse-gw"}},
    "endpoints":[{"addresses":["10.244.1.7"],"conditions":{"ready":true}}]})")
                                                        .as_object());
  p->Observe({slice});
  EXPECT_EQ(p->Addresses("infra/gw"), (std::vector<Address>{{"IPAddress", "10.244.1.7"}}));
  p->Observe({});
  EXPECT_TRUE(p->Addresses("infra/gw").empty());
}

TEST(KubernetesProvisionerTest, RetriesWhenTheServerFailsAndResyncRestoresDeletions) {
  FakeApiServer server;
  auto client = Client(server);
  KubeProvisionerOptions o = Options();
  o.sync.resync = std::chrono::milliseconds(200);
  server.SetFailing(500);
  auto p = MakeKubernetesProvisioner(client.get(), o);
  ASSERT_TRUE(p->EnsureGateway(Gateway({}, {})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(Exists(server, "deployments"));
  server.SetFailing(0);
  ASSERT_TRUE(Eventually([&] { return Exists(server, "deployments"); }));
  server.Delete("deployments", "infra", "gatehouse-gw");
  EXPECT_TRUE(Eventually([&] { return Exists(server, "deployments"); }));
}

TEST(PublisherTest, PublishesTheHostProxyAddressAsHeadlessServiceAndEndpointSlice) {
  FakeApiServer server;
  auto client = Client(server);
  auto p = PublishToKubernetes(MakeNoopProvisioner(), client.get(),
                               ObjectSyncOptions{.backoff_min = std::chrono::milliseconds(10)});
  GatewayInfo gw = Gateway({{"key2", "value2"}}, {{"key1", "value1"}});
  gw.spec_addresses = {{"IPAddress", "10.245.0.10"}};
  ASSERT_TRUE(p->EnsureGateway(gw).ok());
  EXPECT_EQ(p->Addresses("infra/gw"), (std::vector<Address>{{"IPAddress", "10.245.0.10"}}));
  for (const char* resource : {"serviceaccounts", "services", "endpointslices"}) {
    SCOPED_TRACE(resource);
    ASSERT_TRUE(Eventually([&] { return Exists(server, resource); }));
    json::object obj = server.Get(resource, "infra", "gatehouse-gw");
    EXPECT_EQ(MetaMap(obj, "labels")["key2"], "value2");
    EXPECT_EQ(MetaMap(obj, "annotations")["key1"], "value1");
  }
  json::object slice = server.Get("endpointslices", "infra", "gatehouse-gw");
  EXPECT_NE(json::serialize(slice).find("10.245.0.10"), std::string::npos);
  EXPECT_FALSE(Exists(server, "deployments"));

  p->Remove("infra/gw");
  EXPECT_TRUE(Eventually([&] { return !Exists(server, "endpointslices"); }));
  EXPECT_TRUE(Eventually([&] { return !Exists(server, "serviceaccounts"); }));
  EXPECT_TRUE(p->Gateways().empty());
}

}  // namespace
}  // namespace gatehouse::infra
