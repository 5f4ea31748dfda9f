#include "e2e/backend.h"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace gatehouse::e2e {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const std::string& name, std::atomic<int>* requests)
      : stream_(std::move(socket)), name_(name), requests_(requests) {}

  void Read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (!ec) self->Respond();
                     });
  }

 private:
  void Respond() {
    ++*requests_;
    response_ = {};
    response_.version(request_.version());
    response_.result(http::status::ok);
    response_.keep_alive(request_.keep_alive());
    response_.set(http::field::content_type, "text/plain");
    response_.set("X-Backend", name_);
    response_.set("X-Path", std::string(request_.target()));
    response_.set("X-Host", std::string(request_[http::field::host]));
    response_.body() = name_ + "\n";
    response_.prepare_payload();
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return;
                        if (self->response_.keep_alive()) {
                          self->Read();
                        } else {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        }
                      });
  }

  beast::tcp_stream stream_;
  const std::string& name_;
  std::atomic<int>* requests_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
};

}  // namespace

Backend::Backend(std::string name, std::string address)
    : name_(std::move(name)), address_(std::move(address)), acceptor_(io_) {}

Backend::~Backend() {
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

bool Backend::Start() {
  beast::error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address(address_), 0);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return false;
  port_ = acceptor_.local_endpoint().port();
  Accept();
  thread_ = std::thread([this] { io_.run(); });
  return true;
}

void Backend::Accept() {
  acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) return;
    std::make_shared<Session>(std::move(socket), name_, &requests_)->Read();
    Accept();
  });
}

}  // namespace gatehouse::e2e
