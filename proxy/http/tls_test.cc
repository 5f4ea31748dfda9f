// HTTPS listeners on loopback: certificate choice by SNI, unknown names refused with a
// closed connection (not a TLS alert), ALPN, X-Forwarded-Proto, 421 for misdirected
// requests, and certificate rotation by snapshot.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>
#include <boost/asio/ssl/error.hpp>

#include "proxy/testing/certs.h"
#include "proxy/testing/http_client.h"
#include "proxy/testing/proxy_fixture.h"

namespace gatehouse::proxy::http {
namespace {

namespace pb = ::gatehouse::config::v1;
using testing::AddPrefixRoute;
using testing::AddSecret;
using testing::AddServerTls;
using testing::HttpClient;
using testing::TlsOptions;

class TlsTest : public testing::ProxyFixture {
 protected:
  void SetUp() override {
    ProxyFixture::SetUp();
    ca_ = testing::MakeCa("gatehouse test ca");
    www_ = testing::MakeLeaf(ca_, "www", {"www.example.com"});
    wild_ = testing::MakeLeaf(ca_, "wild", {"*.example.com"});
    other_ = testing::MakeLeaf(ca_, "other", {"other.test"});
    tls_port_ = testing::FreePort();
  }

  // HTTPS listener with virtual hosts www.example.com (-> a) and *.example.com (-> b).
  pb::Snapshot Https(const std::string& version, bool detect_misdirected = false) {
    pb::Snapshot s = Base(version);
    auto* l = testing::AddListener(s, tls_port_, pb::HTTPS);
    l->set_detect_misdirected_requests(detect_misdirected);
    auto* www = testing::AddVirtualHost(l, "www.example.com");
    AddPrefixRoute(www, "/", "ns/a:80", "www.example.com");
    auto* wild = testing::AddVirtualHost(l, "*.example.com");
    AddPrefixRoute(wild, "/", "ns/b:80", "*.example.com");
    AddSecret(s, "ns/www", www_.cert, www_.key);
    AddSecret(s, "ns/wild", wild_.cert, wild_.key);
    AddServerTls(l, "ns/www", {"www.example.com"}, www->name());
    AddServerTls(l, "ns/wild", {"*.example.com"}, wild->name());
    return s;
  }

  TlsOptions Sni(const std::string& name) { return TlsOptions{name, ca_.cert, {}}; }

  testing::Pem ca_, www_, wild_, other_;
  int tls_port_ = 0;
};

TEST_F(TlsTest, ChoosesTheCertificateBySniAndRoutesByHost) {
  Apply(Https("v1"));
  HttpClient www(tls_port_, Sni("www.example.com"));
  ASSERT_FALSE(www.connect_error()) << www.connect_error().message();
  testing::Response r = www.Get("/", "www.example.com");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Backend"), "a");
  EXPECT_NE(r.body.find("\"x-forwarded-proto\":\"https\""), std::string::npos) << r.body;

  HttpClient sub(tls_port_, Sni("api.example.com"));  // verified against the wildcard
  ASSERT_FALSE(sub.connect_error()) << sub.connect_error().message();
  EXPECT_EQ(sub.Get("/", "api.example.com").header("X-Backend"), "b");
}

TEST_F(TlsTest, UnknownSniIsClosedWithoutAnAlert) {
  Apply(Https("v1"));
  for (const char* name : {"unknown.test", ""}) {
    HttpClient c(tls_port_, TlsOptions{name, "", {}});
    auto ec = c.connect_error();
    ASSERT_TRUE(ec) << name;
    bool closed = ec == boost::asio::ssl::error::stream_truncated ||
                  ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
    EXPECT_TRUE(closed) << name << ": " << ec.message();
  }
}

TEST_F(TlsTest, DefaultCertificateServesNamesWithoutAMatch) {
  pb::Snapshot s = Https("v1");
  AddSecret(s, "ns/other", other_.cert, other_.key);
  AddServerTls(s.mutable_listeners(1), "ns/other", {});
  Apply(s);
  HttpClient c(tls_port_, Sni("other.test"));
  EXPECT_FALSE(c.connect_error()) << c.connect_error().message();
}

TEST_F(TlsTest, AlpnOffersH2AndHttp11UnlessTheSnapshotSaysOtherwise) {
  Apply(Https("v1"));
  HttpClient h2(tls_port_, TlsOptions{"www.example.com", ca_.cert, {"h2", "http/1.1"}});
  ASSERT_FALSE(h2.connect_error());
  EXPECT_EQ(h2.alpn(), "h2");
  HttpClient h1(tls_port_, TlsOptions{"www.example.com", ca_.cert, {"http/1.1"}});
  ASSERT_FALSE(h1.connect_error());
  EXPECT_EQ(h1.alpn(), "http/1.1");
  EXPECT_EQ(h1.Get("/", "www.example.com").status, 200);

  pb::Snapshot s = Https("v2");
  for (auto& st : *s.mutable_listeners(1)->mutable_server_tls()) st.add_alpn("http/1.1");
  Apply(s);
  HttpClient only_h1(tls_port_, TlsOptions{"www.example.com", ca_.cert, {"h2", "http/1.1"}});
  ASSERT_FALSE(only_h1.connect_error());
  EXPECT_EQ(only_h1.alpn(), "http/1.1");
  EXPECT_EQ(only_h1.Get("/", "www.example.com").status, 200);
}

TEST_F(TlsTest, MisdirectedRequestIs421) {
  Apply(Https("v1", /*detect_misdirected=*/true));
  HttpClient c(tls_port_, Sni("api.example.com"));
  ASSERT_FALSE(c.connect_error());
  EXPECT_EQ(c.Get("/", "api.example.com").status, 200);
  EXPECT_EQ(c.Get("/", "www.example.com").status, 421);
}

TEST_F(TlsTest, NewCertificateServesNewConnectionsOldConnectionsContinue) {
  Apply(Https("v1"));
  HttpClient before(tls_port_, Sni("www.example.com"));
  ASSERT_FALSE(before.connect_error());
  // Rotate: www.example.com now served by a new certificate from a new CA.
  testing::Pem ca2 = testing::MakeCa("second ca");
  testing::Pem www2 = testing::MakeLeaf(ca2, "www2", {"www.example.com"});
  pb::Snapshot s = Https("v2");
  s.mutable_secrets(0)->set_cert_pem(www2.cert);
  s.mutable_secrets(0)->set_key_pem(www2.key);
  Apply(s);
  HttpClient old_ca(tls_port_, Sni("www.example.com"));
  EXPECT_TRUE(old_ca.connect_error());  // the new chain does not verify against the first CA
  HttpClient after(tls_port_, TlsOptions{"www.example.com", ca2.cert, {}});
  EXPECT_FALSE(after.connect_error()) << after.connect_error().message();
  EXPECT_EQ(before.Get("/", "www.example.com").status, 200);
}

}  // namespace
}  // namespace gatehouse::proxy::http
