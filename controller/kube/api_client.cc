#include "controller/kube/api_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace gatehouse::kube {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using boost::system::error_code;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxIdle = 4;
// Lists are paginated, so a single response stays far below this.
constexpr uint64_t kBodyLimit = 256ull << 20;
// An error body of a non-200 watch is a small Status object.
constexpr size_t kErrorBodyLimit = 1 << 20;

bool IsIp(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

absl::StatusOr<ServerUrl> ParseServerUrl(std::string_view server) {
  ServerUrl url;
  std::string_view rest = server;
  if (rest.substr(0, 8) == "https://") {
    rest.remove_prefix(8);
  } else if (rest.substr(0, 7) == "http://") {
    url.tls = false;
    rest.remove_prefix(7);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("server URL needs http(s)://: ", std::string(server)));
  }
  const size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    url.path_prefix = std::string(rest.substr(slash));
    while (!url.path_prefix.empty() && url.path_prefix.back() == '/') url.path_prefix.pop_back();
  }
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return absl::InvalidArgumentError("bad IPv6 host");
    url.host = std::string(authority.substr(1, close - 1));
    authority.remove_prefix(close + 1);
    if (!authority.empty()) {
      if (authority.front() != ':') return absl::InvalidArgumentError("bad host:port");
      url.port = std::string(authority.substr(1));
    }
  } else {
    const size_t colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) url.port = std::string(authority.substr(colon + 1));
  }
  if (url.host.empty())
    return absl::InvalidArgumentError(absl::StrCat("no host in ", std::string(server)));
  if (url.port.empty()) url.port = url.tls ? "443" : "80";
  int port = 0;
  if (!absl::SimpleAtoi(url.port, &port) || port <= 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port in ", std::string(server)));
  }
  return url;
}

struct ApiClient::TlsContext {
  ssl::context ctx{ssl::context::tls_client};
};

// One TCP or TLS connection. All calls happen on the client's executor.
class Connection {
 public:
  Connection(asio::any_io_executor ex, ssl::context* tls) {
    if (tls != nullptr) {
      tls_.emplace(ex, *tls);
    } else {
      tcp_.emplace(ex);
    }
  }

  beast::tcp_stream& Lowest() { return tls_ ? beast::get_lowest_layer(*tls_) : *tcp_; }

  asio::awaitable<error_code> Connect(const ServerUrl& url, const KubeConfig& config,
                                      std::chrono::steady_clock::duration timeout) {
    asio::ip::tcp::resolver resolver(Lowest().get_executor());
    auto [rec, results] = co_await resolver.async_resolve(url.host, url.port, kNoThrow);
    if (rec) co_return rec;
    Lowest().expires_after(timeout);
    auto [cec, ep] = co_await Lowest().async_connect(results, kNoThrow);
    if (cec) co_return cec;
    if (!tls_) co_return error_code{};

    const std::string name = config.tls_server_name.empty() ? url.host : config.tls_server_name;
    SSL* handle = tls_->native_handle();
    if (!IsIp(name)) SSL_set_tlsext_host_name(handle, name.c_str());
    if (!config.insecure_skip_tls_verify) {
      // Asio's host_name_verification does not match IP SANs; the API server is
      // often addressed by IP, so set the expected identity on OpenSSL directly.
      X509_VERIFY_PARAM* param = SSL_get0_param(handle);
      if (IsIp(name)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      } else {
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
      }
    }
    auto [hec] = co_await tls_->async_handshake(ssl::stream_base::client, kNoThrow);
    co_return hec;
  }

  // Runs one Beast operation (a generic lambda taking the stream) on whichever
  // stream this connection has.
  template <class Op>
  asio::awaitable<error_code> Run(Op op) {
    auto [ec, n] = tls_ ? co_await op(*tls_) : co_await op(*tcp_);
    co_return ec;
  }

  asio::awaitable<error_code> Send(http::request<http::string_body>& req) {
    return Run([&req](auto& s) { return http::async_write(s, req, kNoThrow); });
  }

  template <class Parser>
  asio::awaitable<error_code> Read(Parser& p) {
    return Run([this, &p](auto& s) { return http::async_read(s, buffer_, p, kNoThrow); });
  }

  template <class Parser>
  asio::awaitable<error_code> ReadHeader(Parser& p) {
    return Run([this, &p](auto& s) { return http::async_read_header(s, buffer_, p, kNoThrow); });
  }

  template <class Parser>
  asio::awaitable<error_code> ReadSome(Parser& p) {
    return Run([this, &p](auto& s) { return http::async_read_some(s, buffer_, p, kNoThrow); });
  }

 private:
  std::optional<beast::tcp_stream> tcp_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
};

ApiClient::ApiClient(asio::any_io_executor ex, KubeConfig config, ServerUrl url)
    : ex_(std::move(ex)), config_(std::move(config)), url_(std::move(url)) {}

ApiClient::~ApiClient() = default;

absl::StatusOr<std::shared_ptr<ApiClient>> ApiClient::Create(asio::any_io_executor ex,
                                                             const KubeConfig& config) {
  auto url = ParseServerUrl(config.server);
  if (!url.ok()) return url.status();
  std::shared_ptr<ApiClient> client(new ApiClient(std::move(ex), config, *url));
  if (!url->tls) return client;

  client->tls_ = std::make_unique<TlsContext>();
  ssl::context& ctx = client->tls_->ctx;
  error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  if (config.insecure_skip_tls_verify) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    ctx.set_verify_mode(ssl::verify_peer);
    if (config.ca_pem.empty()) {
      ctx.set_default_verify_paths(ec);
    } else {
      ctx.add_certificate_authority(asio::buffer(config.ca_pem), ec);
    }
    if (ec) return absl::InvalidArgumentError(absl::StrCat("CA certificate: ", ec.message()));
  }
  if (!config.client_cert_pem.empty()) {
    ctx.use_certificate_chain(asio::buffer(config.client_cert_pem), ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("client certificate: ", ec.message()));
    ctx.use_private_key(asio::buffer(config.client_key_pem), ssl::context::pem, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("client key: ", ec.message()));
  }
  return client;
}

absl::StatusOr<std::string> ApiClient::AuthHeader() const {
  auto token = CurrentToken(config_);
  if (!token.ok()) return token.status();
  if (token->empty()) return std::string();
  return absl::StrCat("Bearer ", *token);
}

asio::awaitable<absl::StatusOr<std::unique_ptr<Connection>>> ApiClient::Dial() {
  auto conn = std::make_unique<Connection>(ex_, tls_ ? &tls_->ctx : nullptr);
  error_code ec = co_await conn->Connect(url_, config_, request_timeout_);
  if (ec) {
    co_return absl::UnavailableError(
        absl::StrCat("connect ", url_.host, ":", url_.port, ": ", ec.message()));
  }
  co_return conn;
}

void ApiClient::CloseIdle() { idle_.clear(); }

namespace {

http::request<http::string_body> MakeRequest(http::verb verb, const ServerUrl& url,
                                             const std::string& target, const std::string& auth,
                                             std::string body, const std::string& content_type) {
  http::request<http::string_body> req{verb, url.path_prefix + target, 11};
  req.set(http::field::host, url.host);
  req.set(http::field::user_agent, "gatehouse-controller");
  req.set(http::field::accept, "application/json");
  if (!auth.empty()) req.set(http::field::authorization, auth);
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

}  // namespace

asio::awaitable<absl::StatusOr<HttpResponse>> ApiClient::Request(http::verb verb,
                                                                 std::string target,
                                                                 std::string body,
                                                                 std::string content_type) {
  auto auth = AuthHeader();
  if (!auth.ok()) co_return auth.status();
  auto req = MakeRequest(verb, url_, target, *auth, std::move(body), content_type);

  // A pooled connection may have been closed by the server while idle; such a
  // failure is retried once on a fresh connection.
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<Connection> conn;
    const bool reused = !idle_.empty() && attempt == 0;
    if (reused) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    } else {
      auto dialed = co_await Dial();
      if (!dialed.ok()) co_return dialed.status();
      conn = *std::move(dialed);
    }
    conn->Lowest().expires_after(request_timeout_);
    error_code ec = co_await conn->Send(req);
    http::response_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    if (!ec) ec = co_await conn->Read(parser);
    if (ec) {
      if (reused) continue;
      co_return absl::UnavailableError(
          absl::StrCat(std::string(http::to_string(verb)), " ", target, ": ", ec.message()));
    }
    auto& res = parser.get();
    HttpResponse out{static_cast<int>(res.result_int()), std::move(res.body())};
    // A plugin's token can be revoked before its stated expiry.
    if (out.status == 401 && !config_.exec.empty()) ForgetExecToken(config_.exec);
    if (res.keep_alive() && idle_.size() < kMaxIdle) {
      conn->Lowest().expires_never();
      idle_.push_back(std::move(conn));
    }
    co_return out;
  }
}

asio::awaitable<absl::StatusOr<HttpResponse>> ApiClient::Stream(
    std::string target, std::function<bool(std::string_view)> on_line,
    std::chrono::steady_clock::duration idle_timeout) {
  auto auth = AuthHeader();
  if (!auth.ok()) co_return auth.status();
  auto req = MakeRequest(http::verb::get, url_, target, *auth, "", "");
  auto dialed = co_await Dial();
  if (!dialed.ok()) co_return dialed.status();
  std::unique_ptr<Connection> conn = *std::move(dialed);

  conn->Lowest().expires_after(request_timeout_);
  error_code ec = co_await conn->Send(req);
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  if (!ec) ec = co_await conn->ReadHeader(parser);
  if (ec) co_return absl::UnavailableError(absl::StrCat("watch ", target, ": ", ec.message()));

  HttpResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  if (out.status == 401 && !config_.exec.empty()) ForgetExecToken(config_.exec);
  const bool ok = out.status == 200;
  std::string pending;
  char buf[16 * 1024];
  while (!parser.is_done()) {
    parser.get().body().data = buf;
    parser.get().body().size = sizeof(buf);
    conn->Lowest().expires_after(idle_timeout);
    ec = co_await conn->ReadSome(parser);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) {
      co_return absl::UnavailableError(absl::StrCat("watch ", target, ": ", ec.message()));
    }
    const size_t n = sizeof(buf) - parser.get().body().size;
    if (!ok) {
      if (out.body.size() < kErrorBodyLimit) out.body.append(buf, n);
      continue;
    }
    pending.append(buf, n);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(pending.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (!line.empty() && !on_line(line)) co_return out;
    }
    pending.erase(0, start);
  }
  if (ok && !pending.empty()) on_line(pending);
  co_return out;
}

}  // namespace gatehouse::kube
