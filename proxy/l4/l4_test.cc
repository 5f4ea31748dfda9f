// TCP, TLS (passthrough by SNI, terminate) and UDP listeners on loopback, against
// byte-echo backends.
#include <openssl/ssl.h>
#include <poll.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include "proxy/testing/certs.h"
#include "proxy/testing/proxy_fixture.h"

namespace gatehouse::proxy::l4 {
namespace {

namespace asio = boost::asio;
namespace pb = ::gatehouse::config::v1;

// Echoes every TCP byte back (one thread per connection; tests only).
class TcpEcho {
 public:
  TcpEcho() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      while (true) {
        asio::ip::tcp::socket s(io_);
        boost::system::error_code ec;
        acceptor_.accept(s, ec);
        if (ec || stop_) break;
        ++connections_;
        std::thread([s = std::move(s)]() mutable {
          char buf[4096];
          boost::system::error_code ec;
          while (true) {
            size_t n = s.read_some(asio::buffer(buf), ec);
            if (ec) break;
            asio::write(s, asio::buffer(buf, n), ec);
            if (ec) break;
          }
        }).detach();
      }
    });
  }
  ~TcpEcho() {
    stop_ = true;
    asio::ip::tcp::socket poke(io_);
    boost::system::error_code ec;
    poke.connect({asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)}, ec);
    thread_.join();
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

class UdpEcho {
 public:
  UdpEcho() : socket_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    port_ = socket_.local_endpoint().port();
    thread_ = std::thread([this] {
      char buf[65536];
      while (true) {
        asio::ip::udp::endpoint from;
        boost::system::error_code ec;
        size_t n = socket_.receive_from(asio::buffer(buf), from, 0, ec);
        if (ec || stop_) break;
        socket_.send_to(asio::buffer(buf, n), from, 0, ec);
      }
    });
  }
  ~UdpEcho() {
    stop_ = true;
    asio::ip::udp::socket poke(io_, asio::ip::udp::v4());
    poke.send_to(asio::buffer("x", 1),
                 {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)});
    thread_.join();
  }
  int port() const { return port_; }

 private:
  asio::io_context io_;
  asio::ip::udp::socket socket_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A TLS backend: reports the SNI it was asked for, then echoes.
class TlsEcho {
 public:
  explicit TlsEcho(const testing::Pem& cert)
      : ctx_(asio::ssl::context::tls_server),
        acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    ctx_.use_certificate_chain(asio::buffer(cert.cert));
    ctx_.use_private_key(asio::buffer(cert.key), asio::ssl::context::pem);
    port_ = acceptor_.local_endpoint().port();
    thread_ = std::thread([this] {
      asio::ssl::stream<asio::ip::tcp::socket> s(io_, ctx_);
      boost::system::error_code ec;
      acceptor_.accept(s.next_layer(), ec);
      if (ec) return;
      s.handshake(asio::ssl::stream_base::server, ec);
      if (ec) return;
      const char* sni = SSL_get_servername(s.native_handle(), TLSEXT_NAMETYPE_host_name);
      std::string hello = std::string("sni=") + (sni ? sni : "") + ";";
      asio::write(s, asio::buffer(hello), ec);
      char buf[4096];
      while (!ec) {
        size_t n = s.read_some(asio::buffer(buf), ec);
        if (!ec) asio::write(s, asio::buffer(buf, n), ec);
      }
    });
  }
  ~TlsEcho() {
    acceptor_.close();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  asio::io_context io_;
  asio::ssl::context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::thread thread_;
};

std::string ReadSome(asio::ip::tcp::socket& s, size_t want, int timeout_ms = 2000) {
  std::string out;
  char buf[4096];
  while (out.size() < want) {
    pollfd p{s.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    boost::system::error_code ec;
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

std::string ClientHello(const char* sni) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_tlsext_host_name(ssl, sni);
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);
  std::string out(BIO_pending(wbio), '\0');
  BIO_read(wbio, out.data(), static_cast<int>(out.size()));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  return out;
}

class L4Test : public testing::ProxyFixture {
 protected:
  pb::Snapshot WithL4(const std::string& version) {
    pb::Snapshot s = Base(version);
    testing::AddCluster(s, "ns/tcp-echo:9000",
                        {{"127.0.0.1", static_cast<uint32_t>(tcp_echo_.port())}});
    testing::AddCluster(s, "ns/udp-echo:9000",
                        {{"127.0.0.1", static_cast<uint32_t>(udp_echo_.port())}});
    auto add_route = [](pb::L4Route* r, const std::string& cluster) {
      r->set_name("ns/route");
      auto* b = r->add_backends();
      b->set_cluster(cluster);
      b->set_weight(1);
    };
    add_route(testing::AddListener(s, tcp_port_, pb::TCP)->add_l4_routes(), "ns/tcp-echo:9000");
    add_route(testing::AddListener(s, udp_port_, pb::UDP)->add_l4_routes(), "ns/udp-echo:9000");
    auto* tls = testing::AddListener(s, tls_port_, pb::TLS);
    auto* pass = tls->add_tls_routes();
    pass->set_name("ns/pass");
    pass->add_hostnames("pass.example.com");
    pass->set_mode(pb::TlsRoute::PASSTHROUGH);
    auto* b = pass->add_backends();
    b->set_cluster("ns/tcp-echo:9000");
    b->set_weight(1);
    auto* term = tls->add_tls_routes();
    term->set_name("ns/term");
    term->add_hostnames("*.term.example.com");
    term->set_mode(pb::TlsRoute::TERMINATE);
    term->add_certificate_secrets("ns/term");
    b = term->add_backends();
    b->set_cluster("ns/tcp-echo:9000");
    b->set_weight(1);
    testing::AddSecret(s, "ns/term", leaf_.cert, leaf_.key);
    return s;
  }

  void SetUp() override {
    ProxyFixture::SetUp();
    tcp_port_ = testing::FreePort();
    tls_port_ = testing::FreePort();
    udp_port_ = testing::FreePort();
    ca_ = testing::MakeCa("ca");
    leaf_ = testing::MakeLeaf(ca_, "term", {"*.term.example.com"});
  }

  asio::ip::tcp::endpoint Local(int port) {
    return {asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)};
  }

  TcpEcho tcp_echo_;
  UdpEcho udp_echo_;
  int tcp_port_ = 0, tls_port_ = 0, udp_port_ = 0;
  testing::Pem ca_, leaf_;
  asio::io_context io_;
};

TEST_F(L4Test, TcpBytesFlowBothWays) {
  Apply(WithL4("v1"));
  asio::ip::tcp::socket s(io_);
  s.connect(Local(tcp_port_));
  asio::write(s, asio::buffer(std::string("hello over tcp")));
  EXPECT_EQ(ReadSome(s, 14), "hello over tcp");
  std::string big(200 * 1024, 'z');
  std::thread writer([&] { asio::write(s, asio::buffer(big)); });
  EXPECT_EQ(ReadSome(s, big.size()).size(), big.size());
  writer.join();
}

TEST_F(L4Test, TlsPassthroughRoutesBySniWithoutTerminating) {
  Apply(WithL4("v1"));
  std::string hello = ClientHello("pass.example.com");
  asio::ip::tcp::socket s(io_);
  s.connect(Local(tls_port_));
  asio::write(s, asio::buffer(hello));
  // The echo backend sends the raw ClientHello back: the proxy never touched the bytes.
  EXPECT_EQ(ReadSome(s, hello.size()), hello);

  asio::ip::tcp::socket unknown(io_);
  unknown.connect(Local(tls_port_));
  asio::write(unknown, asio::buffer(ClientHello("other.example.com")));
  boost::system::error_code ec;
  char c;
  unknown.read_some(asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST_F(L4Test, TlsTerminateForwardsPlaintext) {
  Apply(WithL4("v1"));
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.add_certificate_authority(asio::buffer(ca_.cert));
  ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<asio::ip::tcp::socket> tls(io_, ctx);
  SSL_set_tlsext_host_name(tls.native_handle(), "db.term.example.com");
  tls.set_verify_callback(asio::ssl::host_name_verification("db.term.example.com"));
  tls.next_layer().connect(Local(tls_port_));
  boost::system::error_code ec;
  tls.handshake(asio::ssl::stream_base::client, ec);
  ASSERT_FALSE(ec) << ec.message();
  asio::write(tls, asio::buffer(std::string("secret ping")));
  char buf[11];
  asio::read(tls, asio::buffer(buf), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(std::string(buf, 11), "secret ping");
}

TEST_F(L4Test, TlsTerminateReencryptsToATlsBackend) {
  testing::Pem backend_cert = testing::MakeLeaf(ca_, "backend", {"abc.example.com"});
  TlsEcho backend(backend_cert);
  pb::Snapshot s = WithL4("v1");
  auto* cluster = testing::AddCluster(s, "ns/tls-backend:443",
                                      {{"127.0.0.1", static_cast<uint32_t>(backend.port())}});
  cluster->set_protocol(pb::Cluster::RAW);
  cluster->mutable_tls()->set_sni("abc.example.com");
  cluster->mutable_tls()->set_ca_secret("ns/ca");
  testing::AddSecret(s, "ns/ca", ca_.cert, "");
  s.mutable_listeners(3)->mutable_tls_routes(1)->mutable_backends(0)->set_cluster(
      "ns/tls-backend:443");
  Apply(s);

  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.add_certificate_authority(asio::buffer(ca_.cert));
  ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::ssl::stream<asio::ip::tcp::socket> tls(io_, ctx);
  SSL_set_tlsext_host_name(tls.native_handle(), "db.term.example.com");
  tls.next_layer().connect(Local(tls_port_));
  boost::system::error_code ec;
  tls.handshake(asio::ssl::stream_base::client, ec);
  ASSERT_FALSE(ec) << ec.message();
  asio::write(tls, asio::buffer(std::string("ping")));
  std::string want = "sni=abc.example.com;ping";
  std::string got(want.size(), '\0');
  asio::read(tls, asio::buffer(got), ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(got, want);
}

TEST_F(L4Test, UdpDatagramsRoundTrip) {
  Apply(WithL4("v1"));
  asio::ip::udp::socket s(io_, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
  asio::ip::udp::endpoint proxy(asio::ip::make_address("127.0.0.1"),
                                static_cast<uint16_t>(udp_port_));
  for (int i = 0; i < 3; ++i) {
    std::string msg = "datagram " + std::to_string(i);
    s.send_to(asio::buffer(msg), proxy);
    pollfd p{s.native_handle(), POLLIN, 0};
    ASSERT_GT(::poll(&p, 1, 2000), 0) << i;
    char buf[100];
    asio::ip::udp::endpoint from;
    size_t n = s.receive_from(asio::buffer(buf), from);
    EXPECT_EQ(std::string(buf, n), msg);
    EXPECT_EQ(from.port(), udp_port_);
  }
}

TEST_F(L4Test, TcpWithoutRouteIsClosed) {
  pb::Snapshot s = WithL4("v1");
  s.mutable_listeners(1)->clear_l4_routes();
  Apply(s);
  asio::ip::tcp::socket sock(io_);
  sock.connect(Local(tcp_port_));
  boost::system::error_code ec;
  char c;
  sock.read_some(asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

}  // namespace
}  // namespace gatehouse::proxy::l4
