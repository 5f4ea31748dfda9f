// A small HTTP/1.1 client for the Kubernetes API server on Beast + OpenSSL:
// keep-alive connections for ordinary requests, one dedicated connection per
// watch stream. Everything runs as coroutines on one executor.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include "absl/status/statusor.h"
#include "controller/kube/kubeconfig.h"

namespace gatehouse::kube {

struct HttpResponse {
  int status = 0;
  std::string body;
};

// The parts of KubeConfig::server the client needs.
struct ServerUrl {
  bool tls = true;
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string path_prefix;  // "" or "/some/prefix" (no trailing slash)
};
absl::StatusOr<ServerUrl> ParseServerUrl(std::string_view server);

class Connection;

class ApiClient {
 public:
  // Fails when the TLS material in `config` cannot be loaded.
  static absl::StatusOr<std::shared_ptr<ApiClient>> Create(boost::asio::any_io_executor ex,
                                                           const KubeConfig& config);
  ~ApiClient();

  // One request on a pooled keep-alive connection. Transport failures are an
  // Unavailable status; HTTP error codes come back as a response.
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Request(boost::beast::http::verb verb,
                                                               std::string target,
                                                               std::string body = "",
                                                               std::string content_type = "");

  // A streaming GET on its own connection: calls `on_line` for every
  // newline-terminated line of a 200 response's body as it arrives (false stops
  // the stream). Returns the status code when the server ends the stream, and
  // the whole body for a non-200 answer. `idle_timeout`: no byte for this long
  // is a transport error (a dead connection).
  boost::asio::awaitable<absl::StatusOr<HttpResponse>> Stream(
      std::string target, std::function<bool(std::string_view)> on_line,
      std::chrono::steady_clock::duration idle_timeout);

  // Closes pooled idle connections (after a failure the next request dials).
  void CloseIdle();

  // Per-request deadline for Request().
  void set_request_timeout(std::chrono::steady_clock::duration d) { request_timeout_ = d; }

 private:
  ApiClient(boost::asio::any_io_executor ex, KubeConfig config, ServerUrl url);

  boost::asio::awaitable<absl::StatusOr<std::unique_ptr<Connection>>> Dial();
  absl::StatusOr<std::string> AuthHeader() const;

  boost::asio::any_io_executor ex_;
  KubeConfig config_;
  ServerUrl url_;
  struct TlsContext;
  std::unique_ptr<TlsContext> tls_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::chrono::steady_clock::duration request_timeout_ = std::chrono::seconds(30);
};

}  // namespace gatehouse::kube
