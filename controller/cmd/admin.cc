#include "controller/cmd/admin.h"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controller/source/log.h"

namespace gatehouse::cmd {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One request per connection; the admin endpoint is for humans and probes.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const AdminServer::Handlers& handlers)
      : stream_(std::move(socket)), handlers_(handlers) {}

  void Start() {
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->Respond();
                     });
  }

 private:
  void Respond() {
    response_.version(request_.version());
    response_.keep_alive(false);
    response_.set(http::field::server, "gatehouse-controller");
    std::string_view target = request_.target();
    if (request_.method() != http::verb::get) {
      Set(http::status::method_not_allowed, "text/plain", "GET only\n");
    } else if (target == "/ready") {
      bool ready = handlers_.ready();
      Set(ready ? http::status::ok : http::status::service_unavailable, "text/plain",
          ready ? "ready\n" : "not ready\n");
    } else if (target == "/debug/snapshots") {
      Set(http::status::ok, "application/json", handlers_.snapshots_json());
    } else {
      Set(http::status::not_found, "text/plain", "not found\n");
    }
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code, size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  void Set(http::status status, std::string_view type, std::string body) {
    response_.result(status);
    response_.set(http::field::content_type, type);
    response_.body() = std::move(body);
    response_.prepare_payload();
  }

  beast::tcp_stream stream_;
  const AdminServer::Handlers& handlers_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

AdminServer::AdminServer(std::string listen, Handlers handlers)
    : listen_(std::move(listen)), handlers_(std::move(handlers)) {}

AdminServer::~AdminServer() { Stop(); }

absl::Status AdminServer::Start() {
  auto colon = listen_.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen_.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(absl::StrCat("--admin-listen must be ADDR:PORT: ", listen_));
  }
  std::string host = listen_.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad admin address: ", host));
  acceptor_ = std::make_unique<tcp::acceptor>(io_);
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("admin listen ", listen_, ": ", ec.message()));
  }
  port_ = acceptor_->local_endpoint().port();
  log::Info("admin listening", {{"address", host}, {"port", port_}});
  Accept();
  thread_ = std::thread([this] { io_.run(); });
  return absl::OkStatus();
}

void AdminServer::Accept() {
  acceptor_->async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;  // closed on Stop
    std::make_shared<Session>(std::move(socket), handlers_)->Start();
    Accept();
  });
}

void AdminServer::Stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

}  // namespace gatehouse::cmd
