#include "proxy/admin/admin_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "absl/strings/str_cat.h"

namespace gatehouse::proxy::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

asio::awaitable<void> Serve(const AdminHandlers& h, beast::tcp_stream stream) {
  beast::flat_buffer buffer;
  while (true) {
    bhttp::request<bhttp::string_body> req;
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, kTuple);
    if (ec) break;
    bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
    std::string_view path = req.target();
    if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      res.result(bhttp::status::method_not_allowed);
      res.body() = "GET only\n";
    } else if (path == "/ready") {
      bool ready = h.ready && h.ready();
      res.result(ready ? bhttp::status::ok : bhttp::status::service_unavailable);
      res.body() = ready ? "ready\n" : "no snapshot yet\n";
    } else if (path == "/config_dump") {
      res.set(bhttp::field::content_type, "application/json");
      res.body() = h.config_dump ? h.config_dump() : "{}";
    } else if (path == "/metrics") {
      res.set(bhttp::field::content_type, "text/plain; version=0.0.4");
      res.body() = h.metrics ? h.metrics() : "";
    } else {
      res.result(bhttp::status::not_found);
      res.body() = "not found\n";
    }
    if (res[bhttp::field::content_type].empty()) res.set(bhttp::field::content_type, "text/plain");
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
    if (wec || !req.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace

AdminServer::AdminServer(AdminHandlers handlers) : handlers_(std::move(handlers)) {}

AdminServer::~AdminServer() { Stop(); }

absl::StatusOr<int> AdminServer::Start(const std::string& address, int port) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address, ec);
  if (ec)
    return absl::InvalidArgumentError(
        absl::StrCat("admin address \"", address, "\": ", ec.message()));
  asio::ip::tcp::endpoint ep(addr, static_cast<uint16_t>(port));
  acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(io_);
  acceptor_->open(ep.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(ep, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return absl::UnavailableError(
        absl::StrCat("admin listen ", address, ":", port, ": ", ec.message()));
  int bound = acceptor_->local_endpoint().port();
  asio::co_spawn(
      io_,
      [this]() -> asio::awaitable<void> {
        while (acceptor_->is_open()) {
          auto [aec, socket] = co_await acceptor_->async_accept(kTuple);
          if (aec) {
            if (aec == asio::error::operation_aborted) break;
            continue;
          }
          asio::co_spawn(io_, Serve(handlers_, beast::tcp_stream(std::move(socket))),
                         asio::detached);
        }
      },
      asio::detached);
  thread_ = std::thread([this] { io_.run(); });
  return bound;
}

void AdminServer::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    io_.stop();
  });
  thread_.join();
}

}  // namespace gatehouse::proxy::admin
