// A gtest fixture that runs the whole proxy in-process on loopback with two echo
// upstreams, for the HTTP integration tests.
#pragma once

#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "proxy/cmd/proxy_server.h"
#include "proxy/testing/echo_server.h"
#include "proxy/testing/snapshots.h"

namespace gatehouse::proxy::testing {

// A free TCP port on 127.0.0.1 (bound once and released).
int FreePort();

class ProxyFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Options before the proxy starts; override to change limits.
  virtual void Configure(ProxyOptions& options) {}

  // A snapshot with one HTTP listener on port_ and clusters "ns/a:80", "ns/b:80" (one
  // endpoint each: echo_a_, echo_b_). The listener has one virtual host "" and no routes.
  pb::Snapshot Base(const std::string& version);
  pb::VirtualHost* Vhost(pb::Snapshot& s) {
    return s.mutable_listeners(0)->mutable_virtual_hosts(0);
  }
  void Apply(const pb::Snapshot& s) { ASSERT_TRUE(proxy_->Apply(s).ok()) << proxy_->Apply(s); }

  EchoServer echo_a_{"a"};
  EchoServer echo_b_{"b"};
  int port_ = 0;
  std::unique_ptr<ProxyServer> proxy_;
};

}  // namespace gatehouse::proxy::testing
