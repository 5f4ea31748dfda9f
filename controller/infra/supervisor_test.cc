#include "controller/infra/supervisor.h"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include <gtest/gtest.h>

#include "controller/infra/test_util.h"

namespace gatehouse::infra {
namespace {

using namespace std::chrono_literals;
using testing::Alive;
using testing::Eventually;

std::string TempPath(const std::string& name) {
  const char* base = std::getenv("TEST_TMPDIR");
  return std::string(base ? base : "/tmp") + "/" + name + "." + std::to_string(::getpid());
}

pid_t ReadPid(const std::string& path) {
  std::ifstream in(path);
  pid_t pid = 0;
  in >> pid;
  return pid;
}

TEST(SupervisorTest, RestartsAChildThatDies) {
  Supervisor sup(SupervisorOptions{.backoff_min = 20ms});
  sup.Run("gw", {"/bin/sleep", "60"});
  ASSERT_TRUE(Eventually([&] { return sup.Get("gw")->pid > 0; }));
  pid_t first = sup.Get("gw")->pid;
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] {
    auto info = sup.Get("gw");
    return info->pid > 0 && info->pid != first;
  }));
  EXPECT_EQ(sup.Get("gw")->starts, 2);
  pid_t second = sup.Get("gw")->pid;
  sup.Stop("gw");
  EXPECT_FALSE(sup.Get("gw").has_value());
  ASSERT_TRUE(Eventually([&] { return sup.Stopping() == 0; }));
  EXPECT_FALSE(Alive(second));
}

TEST(SupervisorTest, BacksOffAChildThatKeepsFailing) {
  Supervisor sup(SupervisorOptions{.backoff_min = 100ms, .backoff_max = 400ms});
  sup.Run("bad", {"/bin/false"});
  // Restarts at about 0, 100, 300, 700, 1100 ms: 4 or 5 in the first second,
  // where restarting on every 50 ms tick would give 20.
  std::this_thread::sleep_for(1s);
  int starts = sup.Get("bad")->starts;
  EXPECT_GE(starts, 2);
  EXPECT_LE(starts, 8);
}

TEST(SupervisorTest, StopKillsTheWholeProcessGroup) {
  std::string pidfile = TempPath("grandchild");
  Supervisor sup;
  sup.Run("gw", {"/bin/sh", "-c", "sleep 60 & echo $! > " + pidfile + "; wait"});
  ASSERT_TRUE(Eventually([&] { return ReadPid(pidfile) > 0; }));
  pid_t grandchild = ReadPid(pidfile);
  EXPECT_TRUE(Alive(grandchild));
  sup.StopAll();
  EXPECT_TRUE(Eventually([&] { return !Alive(grandchild); }));
  std::filesystem::remove(pidfile);
}

TEST(SupervisorTest, EscalatesToSigkillAfterTheGracePeriod) {
  std::string ready = TempPath("stubborn");
  Supervisor sup(SupervisorOptions{.stop_grace = 1s});
  sup.Run("gw",
          {"/bin/sh", "-c", "trap '' TERM; touch " + ready + "; while :; do sleep 0.05; done"});
  ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(ready); }));
  pid_t pid = sup.Get("gw")->pid;
  sup.Stop("gw");
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(Alive(pid));  // SIGTERM ignored, grace not over
  EXPECT_EQ(sup.Stopping(), 1);
  ASSERT_TRUE(Eventually([&] { return sup.Stopping() == 0; }));
  EXPECT_FALSE(Alive(pid));
  std::filesystem::remove(ready);
}

TEST(SupervisorTest, NewArgumentsReplaceTheProcess) {
  Supervisor sup;
  sup.Run("gw", {"/bin/sleep", "60"});
  ASSERT_TRUE(Eventually([&] { return sup.Get("gw")->pid > 0; }));
  pid_t first = sup.Get("gw")->pid;
  sup.Run("gw", {"/bin/sleep", "60"});  // same: nothing happens
  EXPECT_EQ(sup.Get("gw")->pid, first);
  sup.Run("gw", {"/bin/sleep", "61"});
  ASSERT_TRUE(Eventually([&] {
    auto info = sup.Get("gw");
    return info->pid > 0 && info->pid != first;
  }));
  ASSERT_TRUE(Eventually([&] { return !Alive(first); }));
}

}  // namespace
}  // namespace gatehouse::infra
