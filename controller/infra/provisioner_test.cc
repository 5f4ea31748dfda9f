#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "controller/infra/host_provisioner.h"
#include "controller/infra/provisioner.h"
#include "controller/infra/test_util.h"

namespace gatehouse::infra {
namespace {

using namespace std::chrono_literals;
using testing::Alive;
using testing::Eventually;
namespace fs = std::filesystem;

// A stand-in for gatehouse-proxy: records its pid and arguments, then sleeps.
class FakeProxy {
 public:
  FakeProxy() {
    const char* base = std::getenv("TEST_TMPDIR");
    dir_ = std::string(base ? base : "/tmp") + "/fakeproxy." + std::to_string(::getpid());
    fs::create_directories(dir_);
    binary_ = dir_ + "/fake-proxy";
    std::ofstream(binary_) << "#!/bin/sh\n"
                           << "for a in \"$@\"; do case $a in --gateway=*) gw=${a#--gateway=};; "
                              "esac; done\n"
                           << "echo \"$$ $*\" >> \"" << dir_ << "/$(echo $gw | tr / _)\"\n"
                           << "exec sleep 60\n";
    fs::permissions(binary_, fs::perms::owner_all);
  }
  ~FakeProxy() { fs::remove_all(dir_); }

  const std::string& binary() const { return binary_; }

  // Lines "pid args..." written by the proxies of `gateway`, one per start.
  std::vector<std::string> Starts(const std::string& gateway) const {
    std::string name = gateway;
    std::replace(name.begin(), name.end(), '/', '_');
    std::ifstream in(dir_ + "/" + name);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  static pid_t PidOf(const std::string& line) { return std::stoi(line.substr(0, line.find(' '))); }

 private:
  std::string dir_;
  std::string binary_;
};

HostOptions Options(const FakeProxy& fake, const std::string& pool) {
  return HostOptions{.proxy_binary = fake.binary(),
                     .controller_address = "127.0.0.1:18123",
                     .proxy_workers = 2,
                     .address_pool = pool,
                     .supervisor = {.backoff_min = 20ms, .stop_grace = 2s}};
}

TEST(HostProvisionerTest, StartsRestartsAndStopsOneProxyPerGateway) {
  FakeProxy fake;
  auto prov = MakeHostProvisioner(Options(fake, "127.0.0.10-127.0.0.11"));
  ASSERT_TRUE(prov.ok());
  Provisioner& p = **prov;

  ASSERT_TRUE(p.Ensure("ns/a", {}).ok());
  ASSERT_TRUE(p.Ensure("ns/a", {}).ok());  // idempotent
  ASSERT_TRUE(Eventually([&] { return fake.Starts("ns/a").size() == 1; }));
  std::string line = fake.Starts("ns/a")[0];
  EXPECT_NE(
      line.find("--controller=127.0.0.1:18123 --gateway=ns/a --admin=127.0.0.1:0 --workers=2"),
      std::string::npos)
      << line;
  EXPECT_EQ(p.Addresses("ns/a"), (std::vector<Address>{{"IPAddress", "127.0.0.10"}}));

  // Killed: restarted, same address.
  pid_t first = FakeProxy::PidOf(line);
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] { return fake.Starts("ns/a").size() == 2; }));
  EXPECT_EQ(p.Addresses("ns/a"), (std::vector<Address>{{"IPAddress", "127.0.0.10"}}));
  pid_t second = FakeProxy::PidOf(fake.Starts("ns/a")[1]);

  // Removed: stopped, address released.
  p.Remove("ns/a");
  EXPECT_TRUE(p.Addresses("ns/a").empty());
  EXPECT_TRUE(p.Gateways().empty());
  EXPECT_TRUE(Eventually([&] { return !Alive(second); }));
  p.Stop();
}

TEST(HostProvisionerTest, AllocatesDistinctAddressesAndHonoursStaticOnes) {
  FakeProxy fake;
  auto prov = MakeHostProvisioner(Options(fake, "127.0.0.10-127.0.0.11"));
  ASSERT_TRUE(prov.ok());
  Provisioner& p = **prov;

  // A static address inside the pool is used as is and not handed to others.
  ASSERT_TRUE(p.Ensure("ns/static", {{"IPAddress", "127.0.0.10"}}).ok());
  ASSERT_TRUE(p.Ensure("ns/b", {}).ok());
  EXPECT_EQ(p.Addresses("ns/static"), (std::vector<Address>{{"IPAddress", "127.0.0.10"}}));
  EXPECT_EQ(p.Addresses("ns/b"), (std::vector<Address>{{"IPAddress", "127.0.0.11"}}));

  // The pool is exhausted.
  absl::Status full = p.Ensure("ns/c", {});
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(p.Addresses("ns/c").empty());

  // Outside the pool: AddressNotUsable, and no proxy.
  absl::Status bad = p.Ensure("ns/d", {{"IPAddress", "127.0.0.10"}, {"IPAddress", "127.0.0.99"}});
  EXPECT_EQ(bad.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(bad.message().find("127.0.0.99"), std::string::npos);
  EXPECT_TRUE(p.Addresses("ns/d").empty());

  ASSERT_TRUE(Eventually([&] { return fake.Starts("ns/b").size() == 1; }));
  std::vector<std::string> gateways = p.Gateways();
  EXPECT_EQ(gateways, (std::vector<std::string>{"ns/b", "ns/static"}));
  p.Stop();
  EXPECT_TRUE(fake.Starts("ns/d").empty());
}

TEST(HostProvisionerTest, RejectsABadPool) {
  FakeProxy fake;
  EXPECT_FALSE(MakeHostProvisioner(Options(fake, "10.0.0.9-10.0.0.1")).ok());
}

TEST(NoopProvisionerTest, PublishesStaticIpAddressesOnly) {
  auto p = MakeNoopProvisioner();
  ASSERT_TRUE(p->Ensure("ns/gw", {{"Hostname", "gw.example.com"}, {"", "127.0.0.1"}}).ok());
  EXPECT_EQ(p->Addresses("ns/gw"), (std::vector<Address>{{"IPAddress", "127.0.0.1"}}));
  EXPECT_EQ(p->Gateways(), std::vector<std::string>{"ns/gw"});
  p->Remove("ns/gw");
  EXPECT_TRUE(p->Gateways().empty());
}

}  // namespace
}  // namespace gatehouse::infra
