#include "proxy/testing/h2_client.h"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace gatehouse::proxy::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;

struct H2Client::Impl {
  asio::io_context io;
  std::unique_ptr<asio::ssl::context> ctx;
  std::optional<beast::tcp_stream> tcp;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::shared_ptr<upstream::H2Connection> h2;
  beast::flat_buffer initial;
  bool io_done = false;
};

H2Client::H2Client(int port, std::optional<TlsOptions> tls) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port));
  boost::system::error_code ec;
  if (tls) {
    m.ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    if (!tls->ca_pem.empty()) {
      m.ctx->add_certificate_authority(asio::buffer(tls->ca_pem));
      m.ctx->set_verify_mode(asio::ssl::verify_peer);
    }
    static const unsigned char kAlpn[] = {2, 'h', '2'};
    SSL_CTX_set_alpn_protos(m.ctx->native_handle(), kAlpn, sizeof(kAlpn));
    m.tls.emplace(m.io, *m.ctx);
    if (!tls->sni.empty()) SSL_set_tlsext_host_name(m.tls->native_handle(), tls->sni.c_str());
    beast::get_lowest_layer(*m.tls).socket().connect(ep, ec);
    if (!ec) m.tls->handshake(asio::ssl::stream_base::client, ec);
    if (!ec) {
      const unsigned char* p = nullptr;
      unsigned len = 0;
      SSL_get0_alpn_selected(m.tls->native_handle(), &p, &len);
      if (len != 2) ec = asio::error::operation_not_supported;
    }
  } else {
    m.tcp.emplace(m.io);
    m.tcp->socket().connect(ep, ec);
  }
  if (ec) return;
  connected_ = true;
  m.h2 = std::make_shared<upstream::H2Connection>(m.io.get_executor(),
                                                  upstream::H2Connection::Role::kClient);
  m.h2->Start(100);
  auto h2 = m.h2;
  asio::co_spawn(
      m.io,
      [&m, h2]() -> asio::awaitable<void> {
        if (m.tls) {
          co_await upstream::RunH2(*m.tls, *h2, m.initial, std::chrono::seconds(30));
        } else {
          co_await upstream::RunH2(*m.tcp, *h2, m.initial, std::chrono::seconds(30));
        }
        m.io_done = true;
      },
      asio::detached);
}

H2Client::~H2Client() {
  if (impl_->h2) impl_->h2->Terminate(0);
  impl_->io.run_for(std::chrono::milliseconds(200));
}

std::vector<H2Result> H2Client::Send(const std::vector<H2Request>& requests) {
  std::vector<H2Result> results(requests.size());
  if (!connected_) return results;
  Impl& m = *impl_;
  size_t pending = requests.size();
  for (size_t i = 0; i < requests.size(); ++i) {
    asio::co_spawn(
        m.io,
        [&, i]() -> asio::awaitable<void> {
          const H2Request& r = requests[i];
          upstream::HeaderList headers = {{":method", r.method},
                                          {":scheme", m.tls ? "https" : "http"},
                                          {":authority", r.authority},
                                          {":path", r.path}};
          for (const auto& h : r.headers) headers.push_back(h);
          auto s = m.h2->SubmitRequest(headers, !r.body.empty());
          H2Result& out = results[i];
          if (!s) {
            out.reset = true;
          } else {
            if (!r.body.empty()) m.h2->Send(*s, r.body, true);
            while (!s->closed) {
              m.h2->TakeData(*s, out.body);
              co_await s->signal.Wait();
            }
            m.h2->TakeData(*s, out.body);
            for (const auto& [k, v] : s->headers) {
              if (k == ":status") out.status = std::atoi(v.c_str());
              if (!k.empty() && k[0] != ':') out.headers.emplace_back(k, v);
            }
            out.trailers = s->trailers;
            out.reset = !s->in_done;
          }
          --pending;
        },
        asio::detached);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (pending > 0 && !m.io_done && std::chrono::steady_clock::now() < deadline) {
    m.io.run_one_for(std::chrono::milliseconds(100));
  }
  return results;
}

H2Result H2Client::Get(const std::string& path, const std::string& authority) {
  H2Request r;
  r.path = path;
  r.authority = authority;
  return Send({r})[0];
}

}  // namespace gatehouse::proxy::testing
