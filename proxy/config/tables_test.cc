#include "proxy/config/tables.h"

#include <gtest/gtest.h>

#include "proxy/testing/certs.h"
#include "proxy/testing/snapshots.h"

namespace gatehouse::proxy::config {
namespace {

using testing::AddCluster;
using testing::AddListener;
using testing::AddPrefixRoute;
using testing::AddSecret;
using testing::AddServerTls;
using testing::AddVirtualHost;

pb::Snapshot Basic() {
  pb::Snapshot s;
  s.set_version("v1");
  auto* l = AddListener(s, 8080, pb::HTTP);
  AddPrefixRoute(AddVirtualHost(l, ""), "/", "ns/echo:80");
  AddCluster(s, "ns/echo:80", {{"127.0.0.1", 9000}, {"127.0.0.2", 9000}});
  return s;
}

std::string Error(const pb::Snapshot& s) {
  auto t = BuildTables(s, {});
  return t.ok() ? "" : std::string(t.status().message());
}

TEST(TablesTest, BuildsAValidSnapshot) {
  auto t = BuildTables(Basic(), {});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->version(), "v1");
  ASSERT_EQ((*t)->listeners.size(), 1u);
  EXPECT_NE((*t)->listeners[0].routes, nullptr);
  EXPECT_NE((*t)->FindListener(ListenerKey{"127.0.0.1", 8080, pb::HTTP}), nullptr);
  EXPECT_EQ((*t)->FindListener(ListenerKey{"127.0.0.1", 8080, pb::HTTPS}), nullptr);
  EXPECT_NE((*t)->FindCluster("ns/echo:80"), nullptr);
  EXPECT_EQ((*t)->FindCluster("ns/other:80"), nullptr);
}

TEST(TablesTest, RoundRobinSkipsEndpointsThatAreNotReady) {
  pb::Snapshot s = Basic();
  auto* e = s.mutable_clusters(0)->add_endpoints();
  e->set_address("127.0.0.3");
  e->set_port(9000);
  e->set_ready(false);
  auto t = BuildTables(s, {.workers = 2});
  ASSERT_TRUE(t.ok()) << t.status();
  const ClusterTable* c = (*t)->FindCluster("ns/echo:80");
  std::vector<std::string> seen;
  for (int i = 0; i < 4; ++i) seen.push_back(c->NextEndpoint(0)->proto->address());
  EXPECT_EQ(seen, (std::vector<std::string>{"127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2"}));
  // Each worker has its own cursor.
  EXPECT_EQ(c->NextEndpoint(1)->proto->address(), "127.0.0.1");
  EXPECT_EQ(c->ready[0].pool_key, "HTTP1|127.0.0.1:9000");
}

TEST(TablesTest, NoReadyEndpointMeansNone) {
  pb::Snapshot s = Basic();
  for (auto& e : *s.mutable_clusters(0)->mutable_endpoints()) e.set_ready(false);
  auto t = BuildTables(s, {});
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t)->FindCluster("ns/echo:80")->NextEndpoint(0), nullptr);
}

TEST(TablesTest, RejectsDanglingReferencesAndBadShapes) {
  pb::Snapshot s = Basic();
  s.mutable_clusters(0)->set_name("ns/renamed:80");
  EXPECT_NE(Error(s).find("unknown cluster \"ns/echo:80\""), std::string::npos) << Error(s);

  s = Basic();
  s.set_version("");
  EXPECT_NE(Error(s).find("version"), std::string::npos);

  s = Basic();
  s.mutable_listeners(0)->set_port(0);
  EXPECT_NE(Error(s).find("invalid port 0"), std::string::npos);

  s = Basic();
  s.mutable_listeners(0)->set_address("not-an-ip");
  EXPECT_NE(Error(s).find("invalid address"), std::string::npos);

  s = Basic();
  AddListener(s, 8080, pb::HTTP)->set_name("other");
  EXPECT_NE(Error(s).find("duplicate socket"), std::string::npos);

  s = Basic();
  AddListener(s, 8080, pb::HTTPS, "")->set_name("https-any");
  EXPECT_NE(Error(s).find("already used"), std::string::npos);

  s = Basic();
  AddListener(s, 8080, pb::UDP)->set_name("udp");  // UDP may share the number
  EXPECT_EQ(Error(s), "");

  s = Basic();
  s.mutable_clusters(0)->mutable_endpoints(0)->set_address("nowhere");
  EXPECT_NE(Error(s).find("invalid endpoint"), std::string::npos);

  s = Basic();
  auto* mirror = s.mutable_listeners(0)
                     ->mutable_virtual_hosts(0)
                     ->mutable_hosts(0)
                     ->mutable_routes(0)
                     ->add_filters();
  mirror->mutable_request_mirror()->set_cluster("ns/missing:80");
  EXPECT_NE(Error(s).find("unknown cluster \"ns/missing:80\""), std::string::npos);
}

TEST(TablesTest, InvalidBackendRefIsNotASnapshotError) {
  // An empty cluster name is the controller's way of saying "answer 500".
  pb::Snapshot s = Basic();
  s.mutable_listeners(0)
      ->mutable_virtual_hosts(0)
      ->mutable_hosts(0)
      ->mutable_routes(0)
      ->mutable_forward()
      ->mutable_backends(0)
      ->set_cluster("");
  EXPECT_EQ(Error(s), "");
}

TEST(TablesTest, RouterCompileErrorsAreReported) {
  pb::Snapshot s = Basic();
  auto* path = s.mutable_listeners(0)
                   ->mutable_virtual_hosts(0)
                   ->mutable_hosts(0)
                   ->mutable_routes(0)
                   ->mutable_match()
                   ->mutable_path();
  path->set_type(pb::PathMatch::REGULAR_EXPRESSION);
  path->set_value("/(unclosed");
  std::string err = Error(s);
  EXPECT_NE(err.find("listener HTTP-8080"), std::string::npos) << err;
}

class TlsTablesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = testing::MakeCa("test ca");
    exact_ = testing::MakeLeaf(ca_, "exact", {"www.example.com"});
    wild_ = testing::MakeLeaf(ca_, "wild", {"*.example.com"});
    deflt_ = testing::MakeLeaf(ca_, "default", {"default.test"});
  }
  pb::Snapshot Https(bool with_default) {
    pb::Snapshot s = Basic();
    auto* l = AddListener(s, 8443, pb::HTTPS);
    AddPrefixRoute(AddVirtualHost(l, ""), "/", "ns/echo:80");
    AddSecret(s, "exact", exact_.cert, exact_.key);
    AddSecret(s, "wild", wild_.cert, wild_.key);
    AddSecret(s, "default", deflt_.cert, deflt_.key);
    AddServerTls(l, "wild", {"*.example.com"}, "wild-vh");
    AddServerTls(l, "exact", {"www.example.com"}, "exact-vh");
    if (with_default) AddServerTls(l, "default", {}, "default-vh");
    return s;
  }
  testing::Pem ca_, exact_, wild_, deflt_;
};

TEST_F(TlsTablesTest, SniSelectionPrefersExactThenWildcardThenDefault) {
  auto t = BuildTables(Https(true), {});
  ASSERT_TRUE(t.ok()) << t.status();
  const ListenerTable* l = (*t)->FindListener(ListenerKey{"127.0.0.1", 8443, pb::HTTPS});
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->SelectTls("www.example.com")->virtual_host, "exact-vh");
  EXPECT_EQ(l->SelectTls("a.example.com")->virtual_host, "wild-vh");
  EXPECT_EQ(l->SelectTls("a.b.example.com")->virtual_host, "wild-vh");
  EXPECT_EQ(l->SelectTls("example.com")->virtual_host, "default-vh");
  EXPECT_EQ(l->SelectTls("")->virtual_host, "default-vh");
}

TEST_F(TlsTablesTest, UnknownSniWithoutDefaultSelectsNothing) {
  auto t = BuildTables(Https(false), {});
  ASSERT_TRUE(t.ok()) << t.status();
  const ListenerTable* l = (*t)->FindListener(ListenerKey{"127.0.0.1", 8443, pb::HTTPS});
  EXPECT_EQ(l->SelectTls("other.test"), nullptr);
  EXPECT_EQ(l->SelectTls(""), nullptr);
  EXPECT_NE(l->SelectTls("x.example.com"), nullptr);
}

TEST_F(TlsTablesTest, BadPemAndMismatchedKeyAreRejected) {
  pb::Snapshot s = Https(true);
  s.mutable_secrets(0)->set_cert_pem(
      "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n");
  EXPECT_NE(Error(s).find("secret exact: certificate"), std::string::npos) << Error(s);

  s = Https(true);
  s.mutable_secrets(0)->set_key_pem(wild_.key);
  EXPECT_NE(Error(s).find("secret exact: private key"), std::string::npos) << Error(s);

  s = Https(true);
  s.mutable_listeners(1)->mutable_server_tls(0)->set_certificate_secrets(0, "missing");
  EXPECT_NE(Error(s).find("unknown secret \"missing\""), std::string::npos) << Error(s);

  s = Https(true);
  s.mutable_listeners(1)->clear_server_tls();
  EXPECT_NE(Error(s).find("HTTPS without certificates"), std::string::npos) << Error(s);
}

TEST_F(TlsTablesTest, FirstUsableCertificateWins) {
  pb::Snapshot s = Https(true);
  AddSecret(s, "broken", "garbage", "garbage");
  auto* st = s.mutable_listeners(1)->mutable_server_tls(1);
  st->clear_certificate_secrets();
  st->add_certificate_secrets("broken");
  st->add_certificate_secrets("exact");
  EXPECT_EQ(Error(s), "");
}

TEST(HostnameMatchRankTest, Ranks) {
  EXPECT_GT(HostnameMatchRank("a.b.com", "a.b.com"), HostnameMatchRank("*.b.com", "a.b.com"));
  EXPECT_GT(HostnameMatchRank("*.a.b.com", "x.a.b.com"), HostnameMatchRank("*.b.com", "x.a.b.com"));
  EXPECT_EQ(HostnameMatchRank("*.b.com", "b.com"), -1);
  EXPECT_EQ(HostnameMatchRank("", "anything"), 0);
  EXPECT_EQ(HostnameMatchRank("a.b.com", "c.b.com"), -1);
}

}  // namespace
}  // namespace gatehouse::proxy::config
