// HTTP/1.1 data plane on loopback: the in-process proxy between a test client and two
// echo upstreams.
#include <thread>

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include "proxy/testing/http_client.h"
#include "proxy/testing/proxy_fixture.h"

namespace gatehouse::proxy::http {
namespace {

namespace pb = ::gatehouse::config::v1;
using testing::AddPrefixRoute;
using testing::FirstStatus;
using testing::HttpClient;
using testing::RawExchange;
using testing::Response;

boost::json::object Echo(const Response& r) {
  boost::system::error_code ec;
  auto v = boost::json::parse(r.body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

std::string Str(const boost::json::object& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || !it->value().is_string() ? "" : std::string(it->value().as_string());
}

std::string Header(const boost::json::object& echo, const char* name) {
  auto it = echo.find("headers");
  if (it == echo.end()) return "";
  return Str(it->value().as_object(), name);
}

class Http1Test : public testing::ProxyFixture {};

TEST_F(Http1Test, RoutesByHostAndPathAndAnswers404Otherwise) {
  pb::Snapshot s = Base("v1");
  auto* any = Vhost(s);
  AddPrefixRoute(any, "/b", "ns/b:80");
  AddPrefixRoute(any, "/", "ns/a:80");
  auto* foo = testing::AddVirtualHost(s.mutable_listeners(0), "foo.example.com");
  AddPrefixRoute(foo, "/only", "ns/b:80");
  Apply(s);

  HttpClient c(port_);
  EXPECT_EQ(Str(Echo(c.Get("/x")), "name"), "a");
  EXPECT_EQ(Str(Echo(c.Get("/b/x")), "name"), "b");
  EXPECT_EQ(Str(Echo(c.Get("/bx")), "name"), "a");  // prefix is segment-aware
  EXPECT_EQ(Str(Echo(c.Get("/only", "foo.example.com:8080")), "name"), "b");
  EXPECT_EQ(c.Get("/other", "foo.example.com").status, 404);  // listener isolation
}

TEST_F(Http1Test, KeepAliveReusesOneUpstreamConnection) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  HttpClient c(port_);
  for (int i = 0; i < 20; ++i) {
    Response r = c.Get("/req" + std::to_string(i));
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
  }
  EXPECT_EQ(echo_a_.requests(), 20);
  EXPECT_EQ(echo_a_.connections(), 1);
}

TEST_F(Http1Test, ForwardsTargetAndHeadersUnchangedAndAddsForwardedHeaders) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  HttpClient c(port_);
  Response r = c.Get("/a/%7Efoo/../b?x=1&y=%20z", "Example.COM:1234",
                     {{"X-Multi", "one"}, {"X-Multi", "two"}, {"X-Forwarded-For", "10.0.0.1"}});
  ASSERT_EQ(r.status, 200);
  auto echo = Echo(r);
  EXPECT_EQ(Str(echo, "path"), "/a/%7Efoo/../b?x=1&y=%20z");
  EXPECT_EQ(Str(echo, "host"), "Example.COM:1234");
  EXPECT_EQ(Header(echo, "x-multi"), "one,two");
  EXPECT_EQ(Header(echo, "x-forwarded-for"), "10.0.0.1, 127.0.0.1");
  EXPECT_EQ(Header(echo, "x-forwarded-proto"), "http");
  EXPECT_EQ(r.header("Content-Type"), "application/json");
}

TEST_F(Http1Test, HeaderModifiersApplyToRequestAndResponse) {
  pb::Snapshot s = Base("v1");
  auto* route = AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  auto* req = route->add_filters()->mutable_request_header_modifier();
  auto* h = req->add_set();
  h->set_name("X-Set");
  h->set_value("set");
  h = req->add_add();
  h->set_name("X-Add");
  h->set_value("added");
  req->add_remove("X-Remove");
  auto* res = route->add_filters()->mutable_response_header_modifier();
  h = res->add_set();
  h->set_name("X-Backend");
  h->set_value("hidden");
  h = res->add_add();
  h->set_name("X-Resp");
  h->set_value("r");
  Apply(s);
  HttpClient c(port_);
  Response r =
      c.Get("/", "example.com", {{"X-Set", "old"}, {"X-Add", "orig"}, {"X-Remove", "gone"}});
  ASSERT_EQ(r.status, 200);
  auto echo = Echo(r);
  EXPECT_EQ(Header(echo, "x-set"), "set");
  EXPECT_EQ(Header(echo, "x-add"), "orig,added");
  EXPECT_EQ(Header(echo, "x-remove"), "");
  EXPECT_EQ(r.header("X-Backend"), "hidden");
  EXPECT_EQ(r.header("X-Resp"), "r");
}

TEST_F(Http1Test, RedirectAndRewrite) {
  pb::Snapshot s = Base("v1");
  auto* redirect = AddPrefixRoute(Vhost(s), "/old", "");
  redirect->clear_forward();
  redirect->mutable_redirect()->set_hostname("new.example.com");
  redirect->mutable_redirect()->set_status_code(301);
  redirect->mutable_redirect()->mutable_path()->set_replace_prefix_match("/new");
  redirect->mutable_redirect()->mutable_path()->set_matched_prefix("/old");
  auto* rewrite = AddPrefixRoute(Vhost(s), "/strip", "ns/b:80");
  auto* rw = rewrite->add_filters()->mutable_url_rewrite();
  rw->set_hostname("rewritten.example.com");
  rw->mutable_path()->set_replace_prefix_match("/");
  rw->mutable_path()->set_matched_prefix("/strip");
  Apply(s);
  HttpClient c(port_);
  Response r = c.Get("/old/page?q=1");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("Location"),
            "http://new.example.com:" + std::to_string(port_) + "/new/page?q=1");
  r = c.Get("/strip/x?q=2");
  ASSERT_EQ(r.status, 200);
  auto echo = Echo(r);
  EXPECT_EQ(Str(echo, "name"), "b");
  EXPECT_EQ(Str(echo, "path"), "/x?q=2");
  EXPECT_EQ(Str(echo, "host"), "rewritten.example.com");
}

TEST_F(Http1Test, BackendErrorsMapToStatusCodes) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/invalid", "");  // invalid backendRef
  AddPrefixRoute(Vhost(s), "/empty", "ns/empty:80");
  AddPrefixRoute(Vhost(s), "/refused", "ns/refused:80");
  testing::AddCluster(s, "ns/empty:80", {});
  testing::AddCluster(s, "ns/refused:80",
                      {{"127.0.0.1", static_cast<uint32_t>(testing::FreePort())}});
  auto* zero = AddPrefixRoute(Vhost(s), "/zero", "ns/a:80");
  zero->mutable_forward()->mutable_backends(0)->set_weight(0);
  Apply(s);
  HttpClient c(port_);
  EXPECT_EQ(c.Get("/invalid").status, 500);
  EXPECT_EQ(c.Get("/zero").status, 500);
  EXPECT_EQ(c.Get("/empty").status, 503);
  EXPECT_EQ(c.Get("/refused").status, 503);
  EXPECT_EQ(c.Get("/refused").status, 503);  // same connection still usable
}

TEST_F(Http1Test, WeightedBackendsSplitTrafficAndZeroWeightGetsNone) {
  pb::Snapshot s = Base("v1");
  auto* route = AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  route->mutable_forward()->mutable_backends(0)->set_weight(80);
  auto* b = route->mutable_forward()->add_backends();
  b->set_cluster("ns/b:80");
  b->set_weight(20);
  auto* zero = AddPrefixRoute(Vhost(s), "/z", "ns/a:80");
  auto* zb = zero->mutable_forward()->add_backends();
  zb->set_cluster("ns/b:80");
  zb->set_weight(0);
  // Put /z first: exact-length prefix order.
  std::swap(*Vhost(s)->mutable_hosts(0)->mutable_routes(0),
            *Vhost(s)->mutable_hosts(0)->mutable_routes(1));
  Apply(s);
  HttpClient c(port_);
  int a = 0;
  for (int i = 0; i < 500; ++i) a += Str(Echo(c.Get("/w")), "name") == "a";
  EXPECT_NEAR(a / 500.0, 0.8, 0.05);
  int before_b = echo_b_.requests();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(Str(Echo(c.Get("/z")), "name"), "a");
  EXPECT_EQ(echo_b_.requests(), before_b);
}

TEST_F(Http1Test, SmugglingShapesAreRefused) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  const std::string cases[] = {
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: "
      "chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: "
      "5\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nxxxx",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxxxx",
      "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
      "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
  };
  for (const auto& raw : cases) {
    std::string reply = RawExchange(port_, raw);
    EXPECT_EQ(FirstStatus(reply), 400) << raw << "\n--- got:\n" << reply;
  }
  EXPECT_EQ(echo_a_.requests(), 0);
  // A well-formed chunked body passes.
  std::string ok = RawExchange(
      port_,
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(FirstStatus(ok), 200) << ok;
  EXPECT_NE(ok.find("\"body_len\":5"), std::string::npos) << ok;
}

TEST_F(Http1Test, OversizedHeaderIs431) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  std::string big =
      "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(70 * 1024, 'x') + "\r\n\r\n";
  EXPECT_EQ(FirstStatus(RawExchange(port_, big)), 431);
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 150; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(FirstStatus(RawExchange(port_, many + "\r\n")), 400);
  std::string long_target = "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n";
  EXPECT_EQ(FirstStatus(RawExchange(port_, long_target)), 400);
}

TEST_F(Http1Test, BodiesStreamBothWays) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  HttpClient c(port_);
  Response r;
  std::string body(3 * 1024 * 1024 + 17, 'b');
  ASSERT_FALSE(c.Request("POST", "/upload", "a", r, {}, body));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Echo(r).at("body_len").as_int64(), static_cast<int64_t>(body.size()));
  // Chunked upstream response arrives whole and still chunked.
  r = c.Get("/stream?chunks=4");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "chunk0\nchunk1\nchunk2\nchunk3\n");
  EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
  // A close-delimited upstream response is re-framed; the client connection stays open.
  r = c.Get("/closing?close=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Str(Echo(r), "path"), "/closing?close=1");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(c.Get("/after").status, 200);
  // HEAD keeps the upstream's Content-Length without a body.
  ASSERT_FALSE(c.Request("HEAD", "/head", "a", r));
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(c.Get("/after-head").status, 200);
}

TEST_F(Http1Test, ExpectContinueIsAnsweredByTheProxy) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  std::string reply =
      RawExchange(port_,
                  "POST /e HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
                  "Connection: close\r\n\r\nhello");
  EXPECT_EQ(FirstStatus(reply), 100) << reply;
  EXPECT_NE(reply.find("HTTP/1.1 200 OK"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\"body_len\":5"), std::string::npos) << reply;
  EXPECT_EQ(reply.find("\"expect\""), std::string::npos) << reply;
}

TEST_F(Http1Test, RequestTimeoutIs504AndRetriesRecover) {
  pb::Snapshot s = Base("v1");
  auto* slow = AddPrefixRoute(Vhost(s), "/slow", "ns/a:80");
  slow->set_request_timeout_ms(200);
  auto* retry = AddPrefixRoute(Vhost(s), "/retry", "ns/b:80");
  retry->mutable_retry()->set_attempts(2);
  retry->mutable_retry()->add_codes(503);
  Apply(s);
  HttpClient c(port_);
  EXPECT_EQ(c.Get("/slow?delay_ms=2000").status, 504);
  EXPECT_EQ(c.Get("/slow?delay_ms=1").status, 200);
  echo_b_.FailNext(2, 503);
  EXPECT_EQ(c.Get("/retry").status, 200);
  echo_b_.FailNext(3, 503);
  EXPECT_EQ(c.Get("/retry").status, 503);
  echo_b_.FailNext(1, 500);  // not a retried code
  EXPECT_EQ(c.Get("/retry").status, 500);
}

TEST_F(Http1Test, WebSocketUpgradeTunnels) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  std::string reply =
      RawExchange(port_,
                  "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
                  "ping-bytes",
                  std::chrono::milliseconds(500));
  EXPECT_EQ(FirstStatus(reply), 101) << reply;
  EXPECT_NE(reply.find("\r\n\r\nping-bytes"), std::string::npos) << reply;
}

TEST_F(Http1Test, MirrorSendsACopy) {
  pb::Snapshot s = Base("v1");
  auto* route = AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  route->add_filters()->mutable_request_mirror()->set_cluster("ns/b:80");
  Apply(s);
  HttpClient c(port_);
  EXPECT_EQ(Str(Echo(c.Get("/m")), "name"), "a");
  for (int i = 0; i < 100 && echo_b_.requests() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(echo_b_.requests(), 1);
}

TEST_F(Http1Test, KeepAliveConnectionSeesNewRoutesOnItsNextRequest) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  HttpClient c(port_);
  EXPECT_EQ(Str(Echo(c.Get("/x")), "name"), "a");
  pb::Snapshot s2 = Base("v2");
  AddPrefixRoute(Vhost(s2), "/", "ns/b:80");
  Apply(s2);
  EXPECT_EQ(Str(Echo(c.Get("/x")), "name"), "b");
}

TEST_F(Http1Test, RemovedListenerFinishesInFlightRequestsThenCloses) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  HttpClient idle(port_);
  ASSERT_EQ(idle.Get("/warm").status, 200);
  Response slow;
  std::thread inflight([&] {
    HttpClient c(port_);
    c.Request("GET", "/slow?delay_ms=500", "a", slow);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  pb::Snapshot empty = Base("v2");
  empty.clear_listeners();
  Apply(empty);
  inflight.join();
  EXPECT_EQ(slow.status, 200);
  EXPECT_FALSE(slow.keep_alive);  // told to close after the in-flight response
  EXPECT_TRUE(idle.PeerClosed(std::chrono::milliseconds(1000)));
  HttpClient late(port_);
  EXPECT_TRUE(late.connect_error());
}

TEST_F(Http1Test, NormalizedPathSelectsTheRoute) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/b", "ns/b:80");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  HttpClient c(port_);
  Response r = c.Get("/x/..//%62/y");
  EXPECT_EQ(Str(Echo(r), "name"), "b");
  EXPECT_EQ(Str(Echo(r), "path"), "/x/..//%62/y");  // forwarded as received
}

class SlowClientTest : public testing::ProxyFixture {
 protected:
  void Configure(ProxyOptions& o) override {
    o.limits.header_timeout = std::chrono::milliseconds(300);
    o.limits.idle_timeout = std::chrono::milliseconds(600);
  }
};

TEST_F(SlowClientTest, IncompleteHeaderIsCutOffAndIdleConnectionsClose) {
  pb::Snapshot s = Base("v1");
  AddPrefixRoute(Vhost(s), "/", "ns/a:80");
  Apply(s);
  // Slowloris: the header never ends; the proxy closes without forwarding anything.
  std::string reply =
      RawExchange(port_, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ", std::chrono::milliseconds(3000));
  EXPECT_EQ(FirstStatus(reply), 0) << reply;
  EXPECT_EQ(echo_a_.requests(), 0);
  HttpClient c(port_);
  EXPECT_EQ(c.Get("/").status, 200);
  EXPECT_TRUE(c.PeerClosed(std::chrono::milliseconds(3000)));
}

}  // namespace
}  // namespace gatehouse::proxy::http
