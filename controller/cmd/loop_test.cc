#include "controller/cmd/loop.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace gatehouse::cmd {
namespace {

using gatehouse::config::v1::Snapshot;

class FakeProvider : public source::Provider {
 public:
  void Start(std::function<void()>) override {}
  std::vector<source::ObjectPtr> Objects() const override { return objects; }
  void WriteStatus(const std::vector<status::StatusUpdate>& updates) override {
    std::lock_guard<std::mutex> lock(mu);
    written.push_back(updates);
  }
  void Stop() override {}

  std::vector<source::ObjectPtr> objects;
  std::mutex mu;
  std::vector<std::vector<status::StatusUpdate>> written;
};

// Hands every Gateway 127.0.0.<n> and records calls.
class FakeProvisioner : public infra::Provisioner {
 public:
  absl::Status Ensure(const std::string& gw, const std::vector<infra::Address>& spec) override {
    ++ensures;
    if (gw == "ns/unusable") return absl::FailedPreconditionError("10.9.9.9 is outside the pool");
    if (!addresses.count(gw)) {
      addresses[gw] =
          spec.empty()
              ? std::vector<infra::Address>{{"IPAddress",
                                             "127.0.0." + std::to_string(addresses.size() + 10)}}
              : spec;
    }
    return absl::OkStatus();
  }
  absl::Status EnsureGateway(const infra::GatewayInfo& gw) override {
    infos[gw.key] = gw;
    return Ensure(gw.key, gw.spec_addresses);
  }
  void Observe(const std::vector<source::ObjectPtr>& objects) override {
    observed = objects.size();
  }
  void Remove(const std::string& gw) override { addresses.erase(gw); }
  std::vector<infra::Address> Addresses(const std::string& gw) const override {
    auto it = addresses.find(gw);
    return it == addresses.end() ? std::vector<infra::Address>{} : it->second;
  }
  std::vector<std::string> Gateways() const override {
    std::vector<std::string> out;
    for (const auto& [gw, _] : addresses) out.push_back(gw);
    return out;
  }
  void Stop() override {}

  std::map<std::string, std::vector<infra::Address>> addresses;
  std::map<std::string, infra::GatewayInfo> infos;
  size_t observed = 0;
  int ensures = 0;
};

// A reconcile stand-in: one snapshot per Gateway in `gateways`, versioned by
// the inputs it saw, so the loop's plumbing can be checked end to end.
class FakeReconcile {
 public:
  reconcile::Outputs operator()(const reconcile::Inputs& in) {
    std::lock_guard<std::mutex> lock(mu);
    seen.push_back(in);
    reconcile::Outputs out;
    for (const auto& gw : gateways) {
      Snapshot s;
      s.set_gateway(gw);
      s.add_listeners()->set_port(8080);
      std::string addr;
      if (auto it = in.infra.find(gw); it != in.infra.end() && !it->second.addresses.empty()) {
        addr = it->second.addresses[0].second;
      }
      s.set_version(gw + "@" + addr);
      out.snapshots[gw] = s;
      out.gateways[gw] = {};
      status::StatusUpdate u;
      u.kind = "Gateway";
      u.name = gw;
      u.status =
          boost::json::object{{"acked", in.infra.count(gw) ? in.infra.at(gw).acked_version : ""}};
      out.status.push_back(u);
    }
    return out;
  }

  std::mutex mu;
  std::vector<std::string> gateways;
  std::vector<reconcile::Inputs> seen;
};

struct Fixture {
  Fixture() {
    options.provider = &provider;
    options.registry = &registry;
    options.provisioner = &provisioner;
    options.reconcile = [this](const reconcile::Inputs& in) { return fake(in); };
    options.now = [] { return std::string("2024-01-01T00:00:00Z"); };
  }
  FakeProvider provider;
  stream::Registry registry;
  FakeProvisioner provisioner;
  FakeReconcile fake;
  LoopOptions options;
};

TEST(LoopTest, ProvisionsPublishesAndWritesStatus) {
  Fixture f;
  f.fake.gateways = {"ns/gw"};
  Loop loop(f.options);

  // First pass: the Gateway gets an address, which asks for another pass.
  EXPECT_TRUE(loop.RunOnce());
  EXPECT_EQ(f.provisioner.Addresses("ns/gw")[0].second, "127.0.0.10");
  EXPECT_EQ(f.registry.Current("ns/gw")->version(), "ns/gw@");
  // Second pass: the snapshot binds the address; nothing else changes.
  EXPECT_FALSE(loop.RunOnce());
  EXPECT_EQ(f.registry.Current("ns/gw")->version(), "ns/gw@127.0.0.10");
  EXPECT_EQ(f.fake.seen.back().now, "2024-01-01T00:00:00Z");
  ASSERT_EQ(f.provider.written.size(), 2u);
  EXPECT_EQ(f.provider.written.back()[0].name, "ns/gw");

  // The proxy ACKs: the next pass sees it.
  f.registry.RecordResponse("ns/gw", "proxy-1", "ns/gw@127.0.0.10", false, "");
  loop.RunOnce();
  EXPECT_EQ(f.fake.seen.back().infra.at("ns/gw").acked_version, "ns/gw@127.0.0.10");
  EXPECT_EQ(f.provider.written.back()[0].status.at("acked").as_string(), "ns/gw@127.0.0.10");
  EXPECT_EQ(loop.Snapshots().count("ns/gw"), 1u);
}

TEST(LoopTest, ProvisionerSeesObjectsInfrastructureAndPorts) {
  Fixture f;
  f.fake.gateways = {"ns/gw"};
  f.provider.objects = {std::make_shared<const boost::json::object>(
      boost::json::object{{"apiVersion", "gateway.networking.k8s.io/v1"},
                          {"kind", "Gateway"},
                          {"metadata", {{"namespace", "ns"}, {"name", "gw"}, {"uid", "u-1"}}},
                          {"spec", {{"infrastructure", {{"labels", {{"team", "a"}}}}}}}})};
  Loop loop(f.options);
  loop.RunOnce();
  EXPECT_EQ(f.provisioner.observed, 1u);
  const infra::GatewayInfo& info = f.provisioner.infos.at("ns/gw");
  EXPECT_EQ(info.uid, "u-1");
  EXPECT_EQ(info.labels.at("team"), "a");
  EXPECT_EQ(info.ports, (std::vector<infra::GatewayPort>{{8080, "TCP"}}));
}

TEST(LoopTest, GatewaysThatGoAwayLoseTheirProxiesAndSnapshots) {
  Fixture f;
  f.fake.gateways = {"ns/a", "ns/b"};
  Loop loop(f.options);
  loop.RunOnce();
  loop.RunOnce();
  ASSERT_EQ(f.provisioner.Gateways().size(), 2u);
  f.fake.gateways = {"ns/b"};
  EXPECT_TRUE(loop.RunOnce());
  EXPECT_EQ(f.provisioner.Gateways(), std::vector<std::string>{"ns/b"});
  EXPECT_EQ(f.registry.Current("ns/a"), nullptr);
  EXPECT_NE(f.registry.Current("ns/b"), nullptr);
}

TEST(LoopTest, FollowersComputeStatusButDoNotAct) {
  Fixture f;
  f.fake.gateways = {"ns/gw"};
  f.options.may_act = [] { return false; };
  Loop loop(f.options);
  EXPECT_FALSE(loop.RunOnce());
  EXPECT_TRUE(f.provisioner.Gateways().empty());
  EXPECT_EQ(f.registry.Current("ns/gw"), nullptr);
  EXPECT_EQ(f.provider.written.size(), 1u);
}

TEST(LoopTest, UnusableAddressesReachReconcile) {
  Fixture f;
  f.fake.gateways = {"ns/unusable"};
  Loop loop(f.options);
  EXPECT_TRUE(loop.RunOnce());  // the error is new: recompute with it
  EXPECT_FALSE(loop.RunOnce());
  EXPECT_EQ(f.fake.seen.back().infra.at("ns/unusable").address_error,
            "10.9.9.9 is outside the pool");
  EXPECT_TRUE(f.fake.seen.back().infra.at("ns/unusable").addresses.empty());
}

TEST(LoopTest, ABurstOfTriggersIsOneMorePass) {
  Fixture f;
  f.fake.gateways = {};
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  std::atomic<int> calls{0};
  f.options.reconcile = [&](const reconcile::Inputs& in) {
    if (calls++ == 0) {
      std::unique_lock<std::mutex> lock(gate_mu);
      gate_cv.wait(lock, [&] { return open; });
    }
    return f.fake(in);
  };
  Loop loop(f.options);
  std::thread runner([&] { loop.Run(); });
  loop.Trigger();
  while (calls.load() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (int i = 0; i < 100; ++i) loop.Trigger();  // while the first pass runs
  {
    std::lock_guard<std::mutex> lock(gate_mu);
    open = true;
  }
  gate_cv.notify_all();
  while (loop.Passes() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  loop.Stop();
  runner.join();
  EXPECT_EQ(loop.Passes(), 2);
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace gatehouse::cmd
