#include "proxy/testing/http_client.h"

#include <openssl/ssl.h>
#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace gatehouse::proxy::testing {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

HttpClient::HttpClient(int port, std::optional<TlsOptions> tls, const std::string& address) {
  tcp_ = std::make_unique<asio::ip::tcp::socket>(io_);
  tcp_->connect(
      asio::ip::tcp::endpoint(asio::ip::make_address(address), static_cast<uint16_t>(port)),
      connect_error_);
  if (connect_error_ || !tls) return;
  ctx_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
  if (!tls->ca_pem.empty()) {
    ctx_->add_certificate_authority(asio::buffer(tls->ca_pem));
    ctx_->set_verify_mode(asio::ssl::verify_peer);
  }
  tls_ = std::make_unique<asio::ssl::stream<asio::ip::tcp::socket&>>(*tcp_, *ctx_);
  if (!tls->sni.empty()) {
    SSL_set_tlsext_host_name(tls_->native_handle(), tls->sni.c_str());
    if (!tls->ca_pem.empty())
      tls_->set_verify_callback(asio::ssl::host_name_verification(tls->sni));
  }
  if (!tls->alpn.empty()) {
    std::string wire;
    for (const auto& p : tls->alpn) {
      wire.push_back(static_cast<char>(p.size()));
      wire += p;
    }
    SSL_set_alpn_protos(tls_->native_handle(), reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  tls_->handshake(asio::ssl::stream_base::client, connect_error_);
}

HttpClient::~HttpClient() = default;

std::string HttpClient::alpn() const {
  if (!tls_) return "";
  const unsigned char* p = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(tls_->native_handle(), &p, &len);
  return std::string(reinterpret_cast<const char*>(p), len);
}

boost::system::error_code HttpClient::Request(
    const std::string& method, const std::string& target, const std::string& host, Response& out,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  if (connect_error_) return connect_error_;
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  if (req.method() == bhttp::verb::unknown) req.method_string(method);
  req.set(bhttp::field::host, host);
  for (const auto& [k, v] : headers) req.insert(k, v);
  if (!body.empty() || method == "POST" || method == "PUT") {
    req.body() = body;
    req.prepare_payload();
  }
  boost::system::error_code ec;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  if (method == "HEAD") parser.skip(true);
  if (tls_) {
    bhttp::write(*tls_, req, ec);
    if (!ec) bhttp::read(*tls_, buffer_, parser, ec);
  } else {
    bhttp::write(*tcp_, req, ec);
    if (!ec) bhttp::read(*tcp_, buffer_, parser, ec);
  }
  if (ec) return ec;
  auto res = parser.release();
  out.status = res.result_int();
  out.headers = res.base();
  out.body = std::move(res.body());
  out.keep_alive = res.keep_alive();
  return {};
}

Response HttpClient::Get(const std::string& target, const std::string& host,
                         const std::vector<std::pair<std::string, std::string>>& headers) {
  Response r;
  if (auto ec = Request("GET", target, host, r, headers); ec) r.status = -1;
  return r;
}

bool HttpClient::PeerClosed(std::chrono::milliseconds wait) {
  if (buffer_.size() > 0) return false;
  pollfd p{tcp_->native_handle(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return false;
  char c;
  ssize_t n = ::recv(tcp_->native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

std::string RawExchange(int port, const std::string& bytes, std::chrono::milliseconds wait) {
  asio::io_context io;
  asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)),
      ec);
  if (ec) return "";
  asio::write(s, asio::buffer(bytes), ec);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{s.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    out.append(buf, n);
  }
  return out;
}

int FirstStatus(const std::string& raw) {
  if (raw.size() < 12 || raw.compare(0, 5, "HTTP/") != 0) return 0;
  return std::atoi(raw.c_str() + 9);
}

}  // namespace gatehouse::proxy::testing
