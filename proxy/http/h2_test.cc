// HTTP/2 on loopback: h2c with prior knowledge and h2 over TLS downstream, HTTP/1.1 and
// h2c upstreams, concurrent streams, gRPC trailers, and HTTP/1.1 clients to h2c backends.
#include <gtest/gtest.h>

#include "proxy/testing/certs.h"
#include "proxy/testing/h2_client.h"
#include "proxy/testing/http_client.h"
#include "proxy/testing/proxy_fixture.h"

namespace gatehouse::proxy::http {
namespace {

namespace pb = ::gatehouse::config::v1;
using testing::AddPrefixRoute;
using testing::H2Client;
using testing::H2Request;
using testing::H2Result;

class H2Test : public testing::ProxyFixture {
 protected:
  // "/" -> a over HTTP/1.1; "/h2c" -> b over h2c; "/grpc.Echo" -> b as a gRPC route.
  pb::Snapshot Routes(const std::string& version) {
    pb::Snapshot s = Base(version);
    AddPrefixRoute(Vhost(s), "/h2c", "ns/b-h2c:80");
    AddPrefixRoute(Vhost(s), "/grpc.Echo", "ns/b:80")->mutable_forward()->set_grpc(true);
    AddPrefixRoute(Vhost(s), "/", "ns/a:80");
    testing::AddCluster(s, "ns/b-h2c:80", {{"127.0.0.1", static_cast<uint32_t>(echo_b_.port())}})
        ->set_protocol(pb::Cluster::H2C);
    return s;
  }
};

TEST_F(H2Test, PriorKnowledgeRequestsReachAnHttp11Upstream) {
  Apply(Routes("v1"));
  H2Client c(port_);
  ASSERT_TRUE(c.connected());
  H2Result r = c.Get("/hello?x=1", "example.com");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-backend"), "a");
  EXPECT_NE(r.body.find("\"path\":\"/hello?x=1\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"host\":\"example.com\""), std::string::npos) << r.body;
  EXPECT_EQ(c.Get("/", "unknown.example").status, 200);  // catch-all virtual host
}

TEST_F(H2Test, ConcurrentStreamsShareOneConnection) {
  Apply(Routes("v1"));
  H2Client c(port_);
  std::vector<H2Request> requests(20);
  for (size_t i = 0; i < requests.size(); ++i)
    requests[i].path = "/s" + std::to_string(i) + "?delay_ms=50";
  auto results = c.Send(requests);
  for (size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].status, 200) << i;
    EXPECT_NE(results[i].body.find("/s" + std::to_string(i) + "?"), std::string::npos);
  }
  EXPECT_EQ(echo_a_.requests(), 20);
}

TEST_F(H2Test, RequestBodiesAndLocalReplies) {
  pb::Snapshot s = Routes("v1");
  auto* redirect = AddPrefixRoute(Vhost(s), "/old", "");
  redirect->clear_forward();
  redirect->mutable_redirect()->set_hostname("new.example.com");
  // Keep precedence: the longer prefix first.
  auto* routes = Vhost(s)->mutable_hosts(0)->mutable_routes();
  routes->SwapElements(routes->size() - 1, 0);
  Apply(s);
  H2Client c(port_);
  H2Request post;
  post.method = "POST";
  post.path = "/upload";
  post.body = std::string(300 * 1024, 'x');
  H2Result r = c.Send({post})[0];
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("\"body_len\":307200"), std::string::npos) << r.body;
  H2Result redir = c.Get("/old/x");
  EXPECT_EQ(redir.status, 302);
  EXPECT_EQ(redir.header("location"), "http://new.example.com:" + std::to_string(port_) + "/old/x");
}

TEST_F(H2Test, H2cUpstreamFromHttp2AndHttp11Clients) {
  Apply(Routes("v1"));
  H2Client c(port_);
  H2Result r = c.Get("/h2c/x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("x-protocol"), "h2c");
  EXPECT_NE(r.body.find("\"path\":\"/h2c/x\""), std::string::npos) << r.body;

  testing::HttpClient h1(port_);
  testing::Response res = h1.Get("/h2c/from-h1", "example.com");
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("x-protocol"), "h2c");
  EXPECT_NE(res.body.find("\"path\":\"/h2c/from-h1\""), std::string::npos) << res.body;
  EXPECT_TRUE(res.keep_alive);
  // The upstream h2c connection (one per worker) is multiplexed and reused.
  int connections = echo_b_.connections();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(h1.Get("/h2c/again", "example.com").status, 200);
  EXPECT_EQ(echo_b_.connections(), connections);
}

TEST_F(H2Test, RetriesAndTimeoutsApplyToHttp2Clients) {
  pb::Snapshot s = Routes("v1");
  auto* retry = AddPrefixRoute(Vhost(s), "/retry", "ns/b:80");
  retry->mutable_retry()->set_attempts(2);
  retry->mutable_retry()->add_codes(503);
  auto* slow = AddPrefixRoute(Vhost(s), "/slow", "ns/a:80");
  slow->set_request_timeout_ms(200);
  auto* routes = Vhost(s)->mutable_hosts(0)->mutable_routes();
  // Longer prefixes before "/".
  routes->SwapElements(routes->size() - 2, 0);
  routes->SwapElements(routes->size() - 1, 1);
  Apply(s);
  H2Client c(port_);
  echo_b_.FailNext(2, 503);
  EXPECT_EQ(c.Get("/retry").status, 200);
  echo_b_.FailNext(3, 503);
  EXPECT_EQ(c.Get("/retry").status, 503);
  EXPECT_EQ(c.Get("/slow?delay_ms=2000").status, 504);
  EXPECT_EQ(c.Get("/slow?delay_ms=1").status, 200);
}

TEST_F(H2Test, GrpcTrailersPassThrough) {
  Apply(Routes("v1"));
  H2Client c(port_);
  H2Request call;
  call.method = "POST";
  call.path = "/grpc.Echo/Call";
  call.headers = {{"content-type", "application/grpc"}, {"te", "trailers"}};
  call.body = std::string("\0\0\0\0\5hello", 10);
  H2Result r = c.Send({call})[0];
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, call.body);
  ASSERT_FALSE(r.trailers.empty());
  EXPECT_EQ(r.trailers[0].first, "grpc-status");
  EXPECT_EQ(r.trailers[0].second, "0");
}

TEST_F(H2Test, H2OverTlsAndMisdirectedRequests) {
  testing::Pem ca = testing::MakeCa("ca");
  testing::Pem wild = testing::MakeLeaf(ca, "wild", {"*.example.com"});
  pb::Snapshot s = Routes("v1");
  int tls_port = testing::FreePort();
  auto* l = testing::AddListener(s, tls_port, pb::HTTPS);
  l->set_detect_misdirected_requests(true);
  auto* a = testing::AddVirtualHost(l, "a.example.com");
  AddPrefixRoute(a, "/", "ns/a:80", "a.example.com");
  auto* b = testing::AddVirtualHost(l, "b.example.com");
  AddPrefixRoute(b, "/", "ns/b:80", "b.example.com");
  testing::AddSecret(s, "ns/wild", wild.cert, wild.key);
  testing::AddServerTls(l, "ns/wild", {"*.example.com"});
  Apply(s);
  H2Client c(tls_port, testing::TlsOptions{"a.example.com", ca.cert, {}});
  ASSERT_TRUE(c.connected());
  EXPECT_EQ(c.Get("/", "a.example.com").header("x-backend"), "a");
  // Same connection (coalesced by the client), another virtual host: 421.
  EXPECT_EQ(c.Get("/", "b.example.com").status, 421);
}

}  // namespace
}  // namespace gatehouse::proxy::http
