#include "controller/stream/registry.h"

#include <gtest/gtest.h>

#include <vector>

namespace gatehouse::stream {
namespace {

class FakeSubscriber : public Subscriber {
 public:
  void Offer(SnapshotPtr snapshot) override { offered.push_back(snapshot->version()); }
  std::vector<std::string> offered;
};

SnapshotPtr Snap(const std::string& version) {
  auto s = std::make_shared<gatehouse::config::v1::Snapshot>();
  s->set_version(version);
  s->set_gateway("ns/gw");
  return s;
}

TEST(RegistryTest, OffersCurrentOnSubscribeUnlessAlreadyServed) {
  Registry reg;
  reg.Publish("ns/gw", Snap("v1"));
  FakeSubscriber fresh, warm;
  reg.Subscribe("ns/gw", "p1", &fresh, "");
  reg.Subscribe("ns/gw", "p2", &warm, "v1");
  EXPECT_EQ(fresh.offered, std::vector<std::string>{"v1"});
  EXPECT_TRUE(warm.offered.empty());
  // p2 serves v1 already, p1 has not ACKed yet.
  EXPECT_EQ(reg.State("ns/gw").acked_version, "");
  reg.RecordResponse("ns/gw", "p1", "v1", false, "");
  EXPECT_EQ(reg.State("ns/gw").acked_version, "v1");
  EXPECT_EQ(reg.State("ns/gw").connected_proxies, 2);
}

TEST(RegistryTest, AProxyThatConnectsBeforeThePublishKeepsItsVersion) {
  // A restarted controller: the proxy reconnects first, serving v1, and the
  // first reconcile then publishes that same v1.
  Registry reg;
  FakeSubscriber sub;
  reg.Subscribe("ns/gw", "p1", &sub, "v1");
  reg.Publish("ns/gw", Snap("v1"));
  EXPECT_TRUE(sub.offered.empty());
  EXPECT_EQ(reg.State("ns/gw").acked_version, "v1");
  reg.Publish("ns/gw", Snap("v2"));
  EXPECT_EQ(sub.offered, std::vector<std::string>{"v2"});
  EXPECT_EQ(reg.State("ns/gw").acked_version, "v1");
}

TEST(RegistryTest, PublishesOnlyChangedVersionsToTheRightGateway) {
  Registry reg;
  FakeSubscriber a, b;
  reg.Subscribe("ns/gw", "p1", &a, "");
  reg.Subscribe("ns/other", "p2", &b, "");
  reg.Publish("ns/gw", Snap("v1"));
  reg.Publish("ns/gw", Snap("v1"));
  reg.Publish("ns/gw", Snap("v2"));
  EXPECT_EQ(a.offered, (std::vector<std::string>{"v1", "v2"}));
  EXPECT_TRUE(b.offered.empty());
  EXPECT_EQ(reg.Current("ns/gw")->version(), "v2");
  EXPECT_EQ(reg.Current("ns/none"), nullptr);
}

TEST(RegistryTest, NackOfCurrentVersionIsReportedUntilANewerVersion) {
  Registry reg;
  FakeSubscriber a;
  reg.Subscribe("ns/gw", "p1", &a, "");
  reg.Publish("ns/gw", Snap("v1"));
  reg.RecordResponse("ns/gw", "p1", "v1", false, "");
  reg.Publish("ns/gw", Snap("v2"));
  reg.RecordResponse("ns/gw", "p1", "v2", true, "bad regex");
  GatewayState st = reg.State("ns/gw");
  EXPECT_EQ(st.acked_version, "v1");
  EXPECT_EQ(st.nacked_version, "v2");
  EXPECT_EQ(st.nack_error, "bad regex");
  EXPECT_EQ(st.nack_proxy_id, "p1");
  EXPECT_EQ(st.current_version, "v2");

  reg.Publish("ns/gw", Snap("v3"));
  st = reg.State("ns/gw");
  EXPECT_EQ(st.nacked_version, "");
  reg.RecordResponse("ns/gw", "p1", "v3", false, "");
  EXPECT_EQ(reg.State("ns/gw").acked_version, "v3");
}

TEST(RegistryTest, AllConnectedProxiesMustAgree) {
  Registry reg;
  FakeSubscriber a, b;
  reg.Publish("ns/gw", Snap("v1"));
  reg.Subscribe("ns/gw", "p1", &a, "");
  reg.Subscribe("ns/gw", "p2", &b, "");
  reg.RecordResponse("ns/gw", "p1", "v1", false, "");
  EXPECT_EQ(reg.State("ns/gw").acked_version, "");
  reg.RecordResponse("ns/gw", "p2", "v1", false, "");
  EXPECT_EQ(reg.State("ns/gw").acked_version, "v1");

  // A disconnected proxy no longer holds the others back.
  reg.Publish("ns/gw", Snap("v2"));
  reg.RecordResponse("ns/gw", "p1", "v2", false, "");
  reg.Unsubscribe("ns/gw", "p2", &b);
  EXPECT_EQ(reg.State("ns/gw").acked_version, "v2");
  EXPECT_EQ(reg.State("ns/gw").connected_proxies, 1);

  // With nobody connected, the last proxy heard from still serves what it ACKed.
  reg.Unsubscribe("ns/gw", "p1", &a);
  EXPECT_EQ(reg.State("ns/gw").acked_version, "v2");
  EXPECT_EQ(reg.State("ns/gw").connected_proxies, 0);
}

TEST(RegistryTest, NotifiesOnlyWhenStateChanges) {
  Registry reg;
  std::vector<std::string> notified;
  reg.SetOnStateChange([&](const std::string& gw) { notified.push_back(gw); });
  FakeSubscriber a;
  reg.Publish("ns/gw", Snap("v1"));                    // current_version changes
  reg.Subscribe("ns/gw", "p1", &a, "");                // connected count changes
  reg.RecordResponse("ns/gw", "p1", "v1", false, "");  // acked changes
  size_t before = notified.size();
  reg.RecordResponse("ns/gw", "p1", "v1", false, "");  // duplicate ACK
  reg.Publish("ns/gw", Snap("v1"));                    // same version
  EXPECT_EQ(notified.size(), before);
  EXPECT_EQ(before, 3u);
  for (const auto& gw : notified) EXPECT_EQ(gw, "ns/gw");
}

TEST(RegistryTest, RemoveForgetsSnapshotAndAcks) {
  Registry reg;
  FakeSubscriber a;
  reg.Publish("ns/gw", Snap("v1"));
  reg.Subscribe("ns/gw", "p1", &a, "v1");
  reg.Remove("ns/gw");
  EXPECT_EQ(reg.Current("ns/gw"), nullptr);
  EXPECT_EQ(reg.State("ns/gw").acked_version, "");
  EXPECT_EQ(reg.State("ns/gw").connected_proxies, 1);
  // The stream is still subscribed and gets the Gateway's next snapshot.
  reg.Publish("ns/gw", Snap("v2"));
  EXPECT_EQ(a.offered, std::vector<std::string>{"v2"});
}

}  // namespace
}  // namespace gatehouse::stream
