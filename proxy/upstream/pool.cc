#include "proxy/upstream/pool.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace gatehouse::proxy::upstream {
namespace {

namespace asio = boost::asio;
namespace pb = ::gatehouse::config::v1;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// True when a certificate carries one of the wanted URI subject alt names.
bool HasUriSan(X509* cert, const std::vector<std::string>& uris) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return false;
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type != GEN_URI) continue;
    const ASN1_IA5STRING* s = n->d.uniformResourceIdentifier;
    std::string_view v(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       ASN1_STRING_length(s));
    for (const auto& u : uris) found = found || v == u;
  }
  GENERAL_NAMES_free(names);
  return found;
}

}  // namespace

Connection::Connection(asio::any_io_executor ex, std::string key) : key_(std::move(key)) {
  plain_.emplace(ex);
}

Connection::Connection(asio::any_io_executor ex, std::string key, asio::ssl::context& tls)
    : key_(std::move(key)) {
  tls_.emplace(ex, tls);
}

TcpStream& Connection::tcp() { return tls_ ? tls_->next_layer() : *plain_; }

Pool::Pool(asio::io_context& io, metrics::WorkerStats& stats, PoolOptions options)
    : io_(io), stats_(stats), options_(options), sweeper_(io) {}

Pool::~Pool() = default;

std::unique_ptr<Connection> Pool::TakeIdle(const std::string& key, bool check_always) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  auto now = std::chrono::steady_clock::now();
  while (!list.empty()) {
    std::unique_ptr<Connection> c = std::move(list.back());
    list.pop_back();
    stats_.upstream_connections_idle.Add(-1);
    if (now - c->idle_since > options_.max_idle_time) continue;
    // A peer that closed while the connection sat idle shows up as a readable EOF.
    // Plaintext HTTP sends nothing unsolicited, so any byte also means "do not reuse";
    // TLS may legitimately deliver session tickets, so only EOF counts there. A
    // connection idle for only a moment skips the check (one syscall per request):
    // a close in that window is caught by the caller's resend-on-fresh-connection.
    if (check_always || now - c->idle_since > options_.check_after || c->tls() != nullptr) {
      char byte;
      ssize_t n = ::recv(c->tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      bool alive =
          (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) || (n > 0 && c->tls() != nullptr);
      if (!alive) continue;
    }
    c->reused = true;
    stats_.upstream_reuses.Inc();
    return c;
  }
  return nullptr;
}

asio::awaitable<std::pair<boost::system::error_code, std::unique_ptr<Connection>>> Pool::Connect(
    const ConnectParams& p) {
  std::unique_ptr<Connection> c =
      p.tls != nullptr ? std::make_unique<Connection>(io_.get_executor(), *p.key, *p.tls)
                       : std::make_unique<Connection>(io_.get_executor(), *p.key);
  c->tcp().expires_after(p.timeout);
  auto [ec] = co_await c->tcp().async_connect(p.endpoint, kTuple);
  if (ec) {
    stats_.upstream_connect_failures.Inc();
    co_return std::make_pair(ec, nullptr);
  }
  boost::system::error_code ignored;
  c->tcp().socket().set_option(asio::ip::tcp::no_delay(true), ignored);
  if (TlsStream* tls = c->tls()) {
    SSL* ssl = tls->native_handle();
    const pb::UpstreamTls* cfg = p.tls_config;
    std::vector<std::string> uris;
    if (cfg != nullptr) {
      if (!cfg->sni().empty()) SSL_set_tlsext_host_name(ssl, cfg->sni().c_str());
      bool any_host = false;
      for (const auto& san : cfg->subject_alt_names()) {
        if (san.type() == pb::SubjectAltName::URI) {
          uris.push_back(san.value());
        } else {
          SSL_add1_host(ssl, san.value().c_str());
          any_host = true;
        }
      }
      if (!any_host && uris.empty() && !cfg->sni().empty()) SSL_set1_host(ssl, cfg->sni().c_str());
      // Only URI names wanted: the certificate chain is still verified, the name
      // check happens after the handshake.
    }
    c->tcp().expires_after(p.timeout);
    auto [hec] = co_await tls->async_handshake(asio::ssl::stream_base::client, kTuple);
    if (!hec && !uris.empty()) {
      X509* cert = SSL_get1_peer_certificate(ssl);
      bool ok = cert != nullptr && HasUriSan(cert, uris);
      if (cert != nullptr) X509_free(cert);
      if (!ok) hec = asio::error::make_error_code(asio::error::access_denied);
    }
    if (hec) {
      stats_.upstream_connect_failures.Inc();
      co_return std::make_pair(hec, nullptr);
    }
  }
  c->tcp().expires_never();
  stats_.upstream_connects.Inc();
  co_return std::make_pair(boost::system::error_code{}, std::move(c));
}

void Pool::Release(std::unique_ptr<Connection> connection) {
  if (stopped_ || connection == nullptr) return;
  auto& list = idle_[connection->key()];
  if (list.size() >= options_.max_idle_per_key) return;
  connection->tcp().expires_never();
  connection->idle_since = std::chrono::steady_clock::now();
  list.push_back(std::move(connection));
  stats_.upstream_connections_idle.Add(1);
}

asio::awaitable<std::pair<boost::system::error_code, std::shared_ptr<H2Client>>> Pool::AcquireH2(
    const ConnectParams& params) {
  auto it = h2_.find(*params.key);
  if (it != h2_.end()) {
    if (it->second->h2.accepting_streams())
      co_return std::make_pair(boost::system::error_code{}, it->second);
    h2_.erase(it);
  }
  auto [ec, c] = co_await Connect(params);
  if (ec) co_return std::make_pair(ec, std::shared_ptr<H2Client>());
  auto client = std::make_shared<H2Client>(std::move(c), io_.get_executor());
  client->h2.Start(100);
  h2_[*params.key] = client;
  asio::co_spawn(
      io_,
      [client]() -> asio::awaitable<void> {
        co_await client->connection->Visit([&](auto& stream) {
          return RunH2(stream, client->h2, client->connection->buffer(), std::chrono::minutes(5));
        });
      },
      asio::detached);
  co_return std::make_pair(boost::system::error_code{}, client);
}

void Pool::Start() {
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        while (!stopped_) {
          sweeper_.expires_after(options_.sweep_interval);
          auto [ec] = co_await sweeper_.async_wait(kTuple);
          if (ec || stopped_) break;
          Sweep();
        }
      },
      asio::detached);
}

void Pool::Sweep() {
  auto now = std::chrono::steady_clock::now();
  for (auto it = idle_.begin(); it != idle_.end();) {
    auto& list = it->second;
    size_t before = list.size();
    std::erase_if(list, [&](const std::unique_ptr<Connection>& c) {
      return now - c->idle_since > options_.max_idle_time;
    });
    stats_.upstream_connections_idle.Add(static_cast<int64_t>(list.size()) -
                                         static_cast<int64_t>(before));
    if (list.empty()) {
      it = idle_.erase(it);
    } else {
      ++it;
    }
  }
}

void Pool::Shutdown() {
  stopped_ = true;
  sweeper_.cancel();
  for (auto& [key, list] : idle_)
    stats_.upstream_connections_idle.Add(-static_cast<int64_t>(list.size()));
  idle_.clear();
  for (auto& [key, client] : h2_) client->h2.Terminate(NGHTTP2_NO_ERROR);
  h2_.clear();
}

size_t Pool::idle_count() const {
  size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

}  // namespace gatehouse::proxy::upstream
