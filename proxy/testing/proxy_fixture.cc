#include "proxy/testing/proxy_fixture.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace gatehouse::proxy::testing {

int FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

void ProxyFixture::SetUp() {
  echo_a_.Start();
  echo_b_.Start();
  port_ = FreePort();
  ProxyOptions options;
  options.workers = 2;
  options.limits.drain_timeout = std::chrono::milliseconds(2000);
  Configure(options);
  proxy_ = std::make_unique<ProxyServer>(options);
  ASSERT_TRUE(proxy_->Start().ok());
}

void ProxyFixture::TearDown() {
  proxy_->Stop();
  echo_a_.Stop();
  echo_b_.Stop();
}

pb::Snapshot ProxyFixture::Base(const std::string& version) {
  pb::Snapshot s;
  s.set_version(version);
  s.set_gateway("ns/gw");
  AddVirtualHost(AddListener(s, port_, pb::HTTP), "");
  AddCluster(s, "ns/a:80", {{"127.0.0.1", static_cast<uint32_t>(echo_a_.port())}});
  AddCluster(s, "ns/b:80", {{"127.0.0.1", static_cast<uint32_t>(echo_b_.port())}});
  return s;
}

}  // namespace gatehouse::proxy::testing
