#include "proxy/http/server.h"

#include <openssl/ssl.h>

#include <exception>
#include <span>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "proxy/admin/log.h"
#include "proxy/http/h2_session.h"
#include "proxy/http/http1_session.h"
#include "proxy/listener/client_hello.h"

namespace gatehouse::proxy::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

std::string ClientIp(const asio::ip::tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "";
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6()).to_string();
  }
  return addr.to_string();
}

void LogCrash(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::Error("connection failed with an exception", {{"error", ex.what()}});
  } catch (...) {
    log::Error("connection failed with an exception", {});
  }
}

asio::awaitable<void> ServeTls(listener::Worker& worker,
                               std::shared_ptr<listener::ListenerRuntime> runtime,
                               asio::ip::tcp::socket socket) {
  const auto& limits = worker.limits();
  ConnectionInfo info;
  info.client_ip = ClientIp(socket);
  info.scheme = "https";
  beast::tcp_stream tcp(std::move(socket));
  beast::flat_buffer hello;
  listener::ClientHello ch;
  // The whole handshake, ClientHello peek included, must finish within one timeout.
  tcp.expires_after(limits.tls_handshake_timeout);
  while (true) {
    auto [ec, n] = co_await tcp.async_read_some(hello.prepare(4096), kTuple);
    if (ec) {
      worker.stats().tls_handshake_failures.Inc();
      co_return;
    }
    hello.commit(n);
    auto data = hello.cdata();
    ch = listener::ParseClientHello(
        std::span<const uint8_t>(static_cast<const uint8_t*>(data.data()), data.size()));
    if (ch.result == listener::ClientHello::Result::kOk) break;
    if (ch.result == listener::ClientHello::Result::kNotTls ||
        hello.size() > listener::kMaxClientHelloBytes) {
      worker.stats().tls_handshake_failures.Inc();
      co_return;
    }
  }
  auto tables = worker.store().Load();
  const config::ListenerTable* lt = tables ? tables->FindListener(runtime->key()) : nullptr;
  const config::TlsEntry* entry = lt != nullptr ? lt->SelectTls(ch.sni) : nullptr;
  if (entry == nullptr) {
    // No certificate for this name: close the TCP connection without a TLS alert
    // (clients and the conformance suite expect EOF / reset, not "unrecognized name").
    worker.stats().tls_handshake_failures.Inc();
    log::Debug("tls: no certificate for server name",
               {{"sni", ch.sni}, {"listener", runtime->key().ToString()}});
    tcp.close();
    co_return;
  }
  info.sni = ch.sni;
  info.tls_context = entry->context;
  TlsStream tls(std::move(tcp), entry->context->ctx);
  auto [ec, used] =
      co_await tls.async_handshake(asio::ssl::stream_base::server, hello.data(), kTuple);
  if (ec) {
    worker.stats().tls_handshake_failures.Inc();
    log::Debug("tls handshake failed", {{"error", ec.message()}, {"sni", ch.sni}});
    beast::get_lowest_layer(tls).close();
    co_return;
  }
  worker.stats().tls_handshakes.Inc();
  hello.consume(used);
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(tls.native_handle(), &alpn, &alpn_len);
  if (alpn_len == 2 && alpn[0] == 'h' && alpn[1] == '2') {
    auto session = std::make_shared<H2Session<TlsStream>>(
        worker, std::move(runtime), std::move(tls), std::move(info), std::move(hello));
    co_await H2Session<TlsStream>::Run(std::move(session));
    co_return;
  }
  auto session = std::make_shared<Http1Session<TlsStream>>(
      worker, std::move(runtime), std::move(tls), std::move(info), std::move(hello));
  co_await Http1Session<TlsStream>::Run(std::move(session));
}

// Plaintext: HTTP/1.1, or HTTP/2 when the client opens with the h2c preface.
asio::awaitable<void> ServePlain(listener::Worker& worker,
                                 std::shared_ptr<listener::ListenerRuntime> runtime,
                                 asio::ip::tcp::socket socket) {
  ConnectionInfo info;
  info.client_ip = ClientIp(socket);
  info.scheme = "http";
  beast::tcp_stream tcp(std::move(socket));
  beast::flat_buffer buffer;
  tcp.expires_after(worker.limits().idle_timeout);
  while (buffer.size() < kH2Preface.size()) {
    auto data = buffer.cdata();
    std::string_view got(static_cast<const char*>(data.data()), data.size());
    if (kH2Preface.substr(0, got.size()) != got) break;  // not the preface: HTTP/1.x
    auto [ec, n] = co_await tcp.async_read_some(buffer.prepare(4096), kTuple);
    if (ec) co_return;
    buffer.commit(n);
  }
  auto data = buffer.cdata();
  std::string_view got(static_cast<const char*>(data.data()), data.size());
  if (got.substr(0, kH2Preface.size()) == kH2Preface) {
    auto session = std::make_shared<H2Session<beast::tcp_stream>>(
        worker, std::move(runtime), std::move(tcp), std::move(info), std::move(buffer));
    co_await H2Session<beast::tcp_stream>::Run(std::move(session));
    co_return;
  }
  auto session = std::make_shared<Http1Session<beast::tcp_stream>>(
      worker, std::move(runtime), std::move(tcp), std::move(info), std::move(buffer));
  co_await Http1Session<beast::tcp_stream>::Run(std::move(session));
}

}  // namespace

void ServeHttp(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime,
               asio::ip::tcp::socket socket) {
  worker.stats().downstream_connections_total.Inc();
  asio::co_spawn(worker.io(), ServePlain(worker, std::move(runtime), std::move(socket)), LogCrash);
}

void ServeHttps(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime,
                asio::ip::tcp::socket socket) {
  worker.stats().downstream_connections_total.Inc();
  asio::co_spawn(worker.io(), ServeTls(worker, std::move(runtime), std::move(socket)), LogCrash);
}

}  // namespace gatehouse::proxy::http
