#include "controller/kube/object_client.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "controller/kube/json_util.h"
#include "controller/kube/testing/fake_apiserver.h"

namespace gatehouse::kube {
namespace {

namespace json = boost::json;
using testing::FakeApiServer;

std::unique_ptr<ObjectClient> Client(const FakeApiServer& server) {
  KubeConfig config;
  config.server = server.url();
  auto c = ObjectClient::Create(config);
  EXPECT_TRUE(c.ok()) << c.status();
  return std::move(*c);
}

json::object ServiceAccount(const std::string& ns, const std::string& name, json::object labels) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", {{"namespace", ns}, {"name", name}, {"labels", std::move(labels)}}}};
}

const json::object* Labels(const json::object& obj) {
  const json::object* meta = ObjectField(obj, "metadata");
  return meta == nullptr ? nullptr : ObjectField(*meta, "labels");
}

TEST(ObjectClientTest, ApplyCreatesThenUpdatesAndDropsWhatItNoLongerApplies) {
  FakeApiServer server;
  auto client = Client(server);

  auto created = client->Apply(ServiceAccount("ns", "sa", {{"a", "1"}, {"b", "2"}}));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(MetaField(*created, "uid").empty());

  auto patches = server.Patches();
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].content_type, "application/apply-patch+yaml");
  EXPECT_NE(patches[0].path.find("/api/v1/namespaces/ns/serviceaccounts/sa?"), std::string::npos);
  EXPECT_NE(patches[0].path.find("fieldManager=gatehouse"), std::string::npos);
  EXPECT_NE(patches[0].path.find("force=true"), std::string::npos);

  // Someone else's label stays; ours that we stop applying goes.
  json::object stored = server.Get("serviceaccounts", "ns", "sa");
  stored["metadata"].get_object()["labels"].get_object()["theirs"] = "x";
  server.Put("serviceaccounts", stored);
  auto updated = client->Apply(ServiceAccount("ns", "sa", {{"a", "3"}}));
  ASSERT_TRUE(updated.ok()) << updated.status();
  const json::object now = server.Get("serviceaccounts", "ns", "sa");
  const json::object* labels = Labels(now);
  ASSERT_NE(labels, nullptr);
  EXPECT_EQ(*labels, (json::object{{"a", "3"}, {"theirs", "x"}})) << json::serialize(*labels);
}

TEST(ObjectClientTest, ApplyRefusesKindsItDoesNotManage) {
  FakeApiServer server;
  auto client = Client(server);
  json::object obj{{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "s"}}}};
  EXPECT_EQ(client->Apply(obj).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(server.Patches().empty());
}

TEST(ObjectClientTest, ListSelectsByLabelAndNamespace) {
  FakeApiServer server;
  auto client = Client(server);
  ASSERT_TRUE(client->Apply(ServiceAccount("a", "one", {{"gw", "x"}})).ok());
  ASSERT_TRUE(client->Apply(ServiceAccount("a", "two", {{"gw", "y"}})).ok());
  ASSERT_TRUE(client->Apply(ServiceAccount("b", "three", {{"gw", "x"}})).ok());

  auto in_a = client->List(ServiceAccountKind(), "a", "gw=x");
  ASSERT_TRUE(in_a.ok()) << in_a.status();
  ASSERT_EQ(in_a->size(), 1u);
  EXPECT_EQ(MetaField((*in_a)[0], "name"), "one");
  EXPECT_EQ(StringField((*in_a)[0], "kind"), "ServiceAccount");

  auto everywhere = client->List(ServiceAccountKind(), "", "gw");
  ASSERT_TRUE(everywhere.ok());
  EXPECT_EQ(everywhere->size(), 3u);
  auto not_x = client->List(ServiceAccountKind(), "", "gw!=x");
  ASSERT_TRUE(not_x.ok());
  ASSERT_EQ(not_x->size(), 1u);
  EXPECT_EQ(MetaField((*not_x)[0], "name"), "two");
}

TEST(ObjectClientTest, DeleteRemovesAndAbsentIsSuccess) {
  FakeApiServer server;
  auto client = Client(server);
  ASSERT_TRUE(client->Apply(ServiceAccount("ns", "sa", {})).ok());
  EXPECT_TRUE(client->Delete(ServiceAccountKind(), "ns", "sa").ok());
  EXPECT_TRUE(server.Get("serviceaccounts", "ns", "sa").empty());
  EXPECT_TRUE(client->Delete(ServiceAccountKind(), "ns", "sa").ok());
}

TEST(ObjectClientTest, ServerErrorsBecomeStatuses) {
  FakeApiServer server;
  auto client = Client(server);
  server.SetFailing(403);
  EXPECT_EQ(client->Apply(ServiceAccount("ns", "sa", {})).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(client->Delete(ServiceAccountKind(), "ns", "sa").code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(ObjectClientTest, ManagedKindsHaveTheirPaths) {
  EXPECT_EQ(DeploymentKind().ObjectPath("ns", "d"), "/apis/apps/v1/namespaces/ns/deployments/d");
  EXPECT_EQ(EndpointSliceKind().ApiVersion(), "discovery.k8s.io/v1");
  EXPECT_EQ(ManagedKind("apps/v1", "Deployment"), &DeploymentKind());
  EXPECT_EQ(ManagedKind("v1", "Pod"), nullptr);
}

}  // namespace
}  // namespace gatehouse::kube
