// Blocking HTTP/1.1 clients for proxy tests: one keep-alive connection per object,
// plaintext or TLS (with SNI and CA verification), plus raw-bytes helpers for the
// malformed requests a parser must refuse.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/system/error_code.hpp>

namespace gatehouse::proxy::testing {

struct Response {
  int status = 0;
  boost::beast::http::fields headers;
  std::string body;
  bool keep_alive = false;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : std::string(it->value());
  }
};

struct TlsOptions {
  std::string sni;     // empty: no SNI
  std::string ca_pem;  // verify the server against this CA (and the SNI name)
  std::vector<std::string> alpn;
};

class HttpClient {
 public:
  // Connects to 127.0.0.1:port (TLS handshake when `tls` is set).
  HttpClient(int port, std::optional<TlsOptions> tls = std::nullopt,
             const std::string& address = "127.0.0.1");
  ~HttpClient();

  // The connection (and handshake) error, if any.
  boost::system::error_code connect_error() const { return connect_error_; }
  std::string alpn() const;

  // Sends one request and reads the response. `host` becomes the Host header.
  boost::system::error_code Request(
      const std::string& method, const std::string& target, const std::string& host, Response& out,
      const std::vector<std::pair<std::string, std::string>>& headers = {},
      const std::string& body = "");
  Response Get(const std::string& target, const std::string& host = "example.com",
               const std::vector<std::pair<std::string, std::string>>& headers = {});

  // True when the server has closed the connection (reads EOF without blocking long).
  bool PeerClosed(std::chrono::milliseconds wait = std::chrono::milliseconds(200));

 private:
  boost::asio::io_context io_;
  std::unique_ptr<boost::asio::ssl::context> ctx_;
  std::unique_ptr<boost::asio::ip::tcp::socket> tcp_;
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  boost::beast::flat_buffer buffer_;
  boost::system::error_code connect_error_;
};

// Sends raw bytes on a fresh connection and returns everything read until the server
// closes or `wait` passes.
std::string RawExchange(int port, const std::string& bytes,
                        std::chrono::milliseconds wait = std::chrono::milliseconds(2000));

// Status code of the first response in a raw reply ("HTTP/1.1 400 ..." -> 400), 0 if none.
int FirstStatus(const std::string& raw);

}  // namespace gatehouse::proxy::testing
