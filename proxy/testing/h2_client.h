// A blocking HTTP/2 client for proxy tests (h2c with prior knowledge, or h2 over TLS via
// ALPN), built on the proxy's own nghttp2 wrapper in client role.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "proxy/testing/http_client.h"
#include "proxy/upstream/h2_connection.h"

namespace gatehouse::proxy::testing {

struct H2Result {
  int status = 0;
  upstream::HeaderList headers;
  std::string body;
  upstream::HeaderList trailers;
  bool reset = false;
  std::string header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
};

struct H2Request {
  std::string method = "GET";
  std::string path = "/";
  std::string authority = "example.com";
  upstream::HeaderList headers;
  std::string body;
};

class H2Client {
 public:
  H2Client(int port, std::optional<TlsOptions> tls = std::nullopt);
  ~H2Client();

  bool connected() const { return connected_; }
  // Sends all requests as concurrent streams on the one connection; waits for all.
  std::vector<H2Result> Send(const std::vector<H2Request>& requests);
  H2Result Get(const std::string& path, const std::string& authority = "example.com");

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  bool connected_ = false;
};

}  // namespace gatehouse::proxy::testing
