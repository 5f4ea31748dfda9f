// The proxy against a fake controller on loopback: ACK/NACK by version, last good
// snapshot kept, reconnection after a controller restart, and the acceptance test for
// reconfiguration under load (keep-alive clients, 100 route changes, zero failures).
#include "proxy/cmd/proxy_server.h"

#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "proxy/testing/echo_server.h"
#include "proxy/testing/fake_controller.h"
#include "proxy/testing/http_client.h"
#include "proxy/testing/proxy_fixture.h"
#include "proxy/testing/snapshots.h"

namespace gatehouse::proxy {
namespace {

namespace pb = ::gatehouse::config::v1;
using testing::Ack;
using testing::AddCluster;
using testing::AddListener;
using testing::AddPrefixRoute;
using testing::AddVirtualHost;
using testing::EchoServer;
using testing::FakeController;
using testing::HttpClient;

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    echo_a_.Start();
    echo_b_.Start();
    controller_port_ = controller_.Start();
    port_ = testing::FreePort();
    ProxyOptions o;
    o.controller = "127.0.0.1:" + std::to_string(controller_port_);
    o.gateway_namespace = "ns";
    o.gateway_name = "gw";
    o.proxy_id = "test-proxy";
    o.workers = 2;
    o.initial_backoff = std::chrono::milliseconds(50);
    o.max_backoff = std::chrono::milliseconds(200);
    o.limits.drain_timeout = std::chrono::milliseconds(1000);
    proxy_ = std::make_unique<ProxyServer>(o);
    ASSERT_TRUE(proxy_->Start().ok());
  }
  void TearDown() override {
    proxy_->Stop();
    controller_.Stop();
    echo_a_.Stop();
    echo_b_.Stop();
  }

  // Route "/" to `cluster`; `header` adds a request header filter when non-empty.
  pb::Snapshot Snapshot(const std::string& version, const std::string& cluster,
                        const std::string& header = "") {
    pb::Snapshot s;
    s.set_version(version);
    s.set_gateway("ns/gw");
    auto* route = AddPrefixRoute(AddVirtualHost(AddListener(s, port_, pb::HTTP), ""), "/", cluster);
    if (!header.empty()) {
      auto* h = route->add_filters()->mutable_request_header_modifier()->add_set();
      h->set_name("X-Version");
      h->set_value(header);
    }
    AddCluster(s, "ns/a:80", {{"127.0.0.1", static_cast<uint32_t>(echo_a_.port())}});
    AddCluster(s, "ns/b:80", {{"127.0.0.1", static_cast<uint32_t>(echo_b_.port())}});
    return s;
  }

  std::string Backend(HttpClient& c) {
    testing::Response r = c.Get("/");
    return r.status == 200 ? r.header("X-Backend") : "status " + std::to_string(r.status);
  }

  EchoServer echo_a_{"a"};
  EchoServer echo_b_{"b"};
  FakeController controller_;
  int controller_port_ = 0;
  int port_ = 0;
  std::unique_ptr<ProxyServer> proxy_;
};

TEST_F(ControllerTest, IdentifiesItselfAndAcksAppliedSnapshots) {
  ASSERT_TRUE(controller_.WaitForStreams(1));
  EXPECT_EQ(controller_.last_node().gateway_namespace(), "ns");
  EXPECT_EQ(controller_.last_node().gateway_name(), "gw");
  EXPECT_EQ(controller_.last_node().proxy_id(), "test-proxy");
  EXPECT_EQ(controller_.last_hello_version(), "");
  controller_.Push(Snapshot("v1", "ns/a:80"));
  auto ack = controller_.WaitForAck("v1");
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->nack);
  EXPECT_EQ(proxy_->version(), "v1");
  HttpClient c(port_);
  EXPECT_EQ(Backend(c), "a");
}

TEST_F(ControllerTest, NackedSnapshotLeavesTheLastGoodOneServing) {
  controller_.Push(Snapshot("v1", "ns/a:80"));
  ASSERT_TRUE(controller_.WaitForAck("v1"));
  HttpClient c(port_);
  EXPECT_EQ(Backend(c), "a");
  controller_.Push(Snapshot("v2-bad", "ns/missing:80"));
  auto nack = controller_.WaitForAck("v2-bad");
  ASSERT_TRUE(nack);
  EXPECT_TRUE(nack->nack);
  EXPECT_NE(nack->error.find("ns/missing:80"), std::string::npos) << nack->error;
  EXPECT_EQ(proxy_->version(), "v1");
  EXPECT_EQ(Backend(c), "a");
  controller_.Push(Snapshot("v3", "ns/b:80"));
  ASSERT_TRUE(controller_.WaitForAck("v3"));
  EXPECT_EQ(Backend(c), "b");
}

TEST_F(ControllerTest, KeepsServingWhileTheControllerIsAwayAndReconnects) {
  controller_.Push(Snapshot("v1", "ns/a:80"));
  ASSERT_TRUE(controller_.WaitForAck("v1"));
  controller_.Stop();
  HttpClient c(port_);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Backend(c), "a");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FakeController restarted;
  ASSERT_EQ(restarted.Start(controller_port_), controller_port_);
  ASSERT_TRUE(restarted.WaitForStreams(1));
  // The proxy says what it serves, so a restarted controller need not resend it.
  EXPECT_EQ(restarted.last_hello_version(), "v1");
  restarted.Push(Snapshot("v2", "ns/b:80"));
  ASSERT_TRUE(restarted.WaitForAck("v2"));
  EXPECT_EQ(Backend(c), "b");
  restarted.Stop();
}

// Acceptance: clients loop requests over keep-alive connections while the route changes
// 100 times (backend A <-> B and a header filter on and off). Zero failed requests, and
// no client connection is ever closed.
TEST_F(ControllerTest, HundredReconfigurationsUnderLoadLoseNothing) {
  controller_.Push(Snapshot("v0", "ns/a:80"));
  ASSERT_TRUE(controller_.WaitForAck("v0"));

  constexpr int kClients = 4;
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, saw_a{0}, saw_b{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      HttpClient c(port_);
      int n = 0;
      while (!stop) {
        testing::Response r;
        auto ec = c.Request("GET", "/loop/" + std::to_string(i) + "/" + std::to_string(n++),
                            "example.com", r);
        if (ec || r.status != 200 || !r.keep_alive) {
          ++failed;
          return;  // the connection is gone or unusable: that is the failure
        }
        ++ok;
        (r.header("X-Backend") == "a" ? saw_a : saw_b)++;
      }
    });
  }
  for (int v = 1; v <= 100; ++v) {
    std::string version = "v" + std::to_string(v);
    controller_.Push(Snapshot(version, v % 2 ? "ns/b:80" : "ns/a:80", v % 3 ? "" : version));
    auto ack = controller_.WaitForAck(version);
    ASSERT_TRUE(ack) << version;
    ASSERT_FALSE(ack->nack) << ack->error;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 200);
  EXPECT_GT(saw_a.load(), 0);
  EXPECT_GT(saw_b.load(), 0);
  EXPECT_EQ(proxy_->version(), "v100");
}

}  // namespace
}  // namespace gatehouse::proxy
