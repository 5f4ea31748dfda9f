#include "proxy/testing/echo_server.h"

#include "proxy/upstream/h2_connection.h"

#include <charconv>
#include <map>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace gatehouse::proxy::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

int QueryInt(std::string_view target, std::string_view key) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return 0;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    auto eq = kv.find('=');
    if (eq != std::string_view::npos && kv.substr(0, eq) == key) {
      int v = 0;
      std::from_chars(kv.data() + eq + 1, kv.data() + kv.size(), v);
      return v;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return 0;
}

std::string EchoJson(const std::string& name, std::string_view method, std::string_view path,
                     std::string_view host, size_t body_len,
                     const std::vector<std::pair<std::string, std::string>>& fields) {
  boost::json::object echo;
  echo["name"] = name;
  echo["method"] = std::string(method);
  echo["path"] = std::string(path);
  echo["host"] = std::string(host);
  echo["body_len"] = body_len;
  boost::json::object headers;
  for (const auto& [n, v] : fields) {
    std::string key(n);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = headers.find(key);
    if (it == headers.end()) {
      headers[key] = v;
    } else {
      it->value() = std::string(it->value().as_string()) + "," + v;
    }
  }
  echo["headers"] = std::move(headers);
  return boost::json::serialize(echo);
}

// h2c with prior knowledge: every stream gets the JSON echo once its request ends. A
// gRPC request (content-type application/grpc) gets its body back and a grpc-status
// trailer.
asio::awaitable<void> ServeH2(const std::string& name, std::atomic<int>& requests,
                              beast::tcp_stream stream, beast::flat_buffer initial) {
  auto ex = co_await asio::this_coro::executor;
  // Stream coroutines may outlive this frame: they share ownership of the connection.
  auto conn = std::make_shared<upstream::H2Connection>(ex, upstream::H2Connection::Role::kServer);
  conn->set_on_request([ex, weak = std::weak_ptr<upstream::H2Connection>(conn), name,
                        &requests](std::shared_ptr<upstream::H2Stream> s) {
    auto strong = weak.lock();
    if (!strong) return;
    asio::co_spawn(
        ex,
        [conn = strong, name, &requests, s]() -> asio::awaitable<void> {
          upstream::H2Connection& h2 = *conn;
          std::string body;
          while (!s->in_done && !s->closed) {
            h2.TakeData(*s, body);
            co_await s->signal.Wait();
          }
          h2.TakeData(*s, body);
          if (s->closed) co_return;
          ++requests;
          std::string method, path, host, content_type;
          std::vector<std::pair<std::string, std::string>> fields;
          for (const auto& [n, v] : s->headers) {
            if (n == ":method") method = v;
            if (n == ":path") path = v;
            if (n == ":authority") host = v;
            if (n == "content-type") content_type = v;
            if (!n.empty() && n[0] != ':') fields.emplace_back(n, v);
          }
          bool grpc = content_type.rfind("application/grpc", 0) == 0;
          upstream::HeaderList res = {{":status", "200"},
                                      {"content-type", grpc ? content_type : "application/json"},
                                      {"x-backend", name},
                                      {"x-protocol", "h2c"}};
          h2.SubmitResponse(*s, res, true);
          if (grpc) {
            h2.Send(*s, body, false);
            h2.SendTrailers(*s, {{"grpc-status", "0"}, {"grpc-message", "ok"}});
          } else {
            h2.Send(*s, EchoJson(name, method, path, host, body.size(), fields), true);
          }
        },
        asio::detached);
  });
  conn->Start(100);
  co_await upstream::RunH2(stream, *conn, initial, std::chrono::seconds(60));
}

}  // namespace

EchoServer::EchoServer(std::string name, std::string address)
    : name_(std::move(name)), address_(std::move(address)) {}

EchoServer::~EchoServer() { Stop(); }

int EchoServer::Start(int port) {
  asio::ip::tcp::endpoint ep(asio::ip::make_address(address_), static_cast<uint16_t>(port));
  acceptor_ = std::make_unique<asio::ip::tcp::acceptor>(io_);
  acceptor_->open(ep.protocol());
  acceptor_->set_option(asio::socket_base::reuse_address(true));
  acceptor_->bind(ep);
  acceptor_->listen();
  port_ = acceptor_->local_endpoint().port();

  auto session = [this](asio::ip::tcp::socket socket) -> asio::awaitable<void> {
    ++connections_;
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    static constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    while (buffer.size() < kPreface.size()) {
      std::string_view got(static_cast<const char*>(buffer.cdata().data()), buffer.size());
      if (kPreface.substr(0, got.size()) != got) break;
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
      if (ec) co_return;
      buffer.commit(n);
    }
    if (std::string_view(static_cast<const char*>(buffer.cdata().data()), buffer.size())
            .substr(0, kPreface.size()) == kPreface) {
      co_await ServeH2(name_, requests_, std::move(stream), std::move(buffer));
      co_return;
    }
    while (true) {
      bhttp::request<bhttp::string_body> req;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      if (ec) break;
      req = parser.release();
      ++requests_;
      std::string_view target = req.target();
      if (int delay = QueryInt(target, "delay_ms"); delay > 0) {
        asio::steady_timer t(io_, std::chrono::milliseconds(delay));
        co_await t.async_wait(kTuple);
      }
      if (bhttp::token_list(req[bhttp::field::upgrade]).exists("websocket")) {
        bhttp::response<bhttp::empty_body> res{bhttp::status::switching_protocols, 11};
        res.set(bhttp::field::upgrade, "websocket");
        res.set(bhttp::field::connection, "Upgrade");
        res.set("X-Backend", name_);
        auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
        if (wec) break;
        if (buffer.size() > 0) {
          co_await asio::async_write(stream, buffer.data(), kTuple);
          buffer.consume(buffer.size());
        }
        char buf[4096];
        while (true) {
          auto [rec, rn] = co_await stream.async_read_some(asio::buffer(buf), kTuple);
          if (rec) break;
          auto [xec, xn] = co_await asio::async_write(stream, asio::buffer(buf, rn), kTuple);
          if (xec) break;
        }
        break;
      }
      std::vector<std::pair<std::string, std::string>> fields;
      for (const auto& f : req) fields.emplace_back(f.name_string(), f.value());
      std::string body = EchoJson(name_, req.method_string(), target, req[bhttp::field::host],
                                  req.body().size(), fields);

      unsigned status = 200;
      if (int s = QueryInt(target, "status"); s > 0) status = s;
      if (int left = fail_count_.load(); left > 0) {
        fail_count_ = left - 1;
        status = fail_status_;
      }
      int chunks = QueryInt(target, "chunks");
      bool close = QueryInt(target, "close") == 1 || !req.keep_alive();
      if (chunks > 0) {
        bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), 11};
        res.set(bhttp::field::content_type, "application/json");
        res.chunked(true);
        bhttp::response_serializer<bhttp::empty_body> sr{res};
        auto [hec, hn] = co_await bhttp::async_write_header(stream, sr, kTuple);
        if (hec) break;
        for (int i = 0; i < chunks; ++i) {
          std::string piece = "chunk" + std::to_string(i) + "\n";
          auto [cec, cn] =
              co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(piece)), kTuple);
          if (cec) co_return;
          asio::steady_timer t(io_, std::chrono::milliseconds(20));
          co_await t.async_wait(kTuple);
        }
        co_await asio::async_write(stream, bhttp::make_chunk_last(), kTuple);
        if (close) break;
        continue;
      }
      bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), req.version()};
      res.set(bhttp::field::content_type, "application/json");
      res.set("X-Backend", name_);
      res.body() = std::move(body);
      if (close) {
        // No Content-Length: the body ends when the connection closes.
        res.keep_alive(false);
      } else {
        res.prepare_payload();
        res.keep_alive(true);
      }
      if (req.method() == bhttp::verb::head) res.body().clear();
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
      if (wec || close) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    stream.close();
  };

  asio::co_spawn(
      io_,
      [this, session]() -> asio::awaitable<void> {
        while (true) {
          auto [ec, socket] = co_await acceptor_->async_accept(kTuple);
          if (ec) break;
          asio::co_spawn(io_, session(std::move(socket)), asio::detached);
        }
      },
      asio::detached);
  thread_ = std::thread([this] { io_.run(); });
  return port_;
}

void EchoServer::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
    io_.stop();
  });
  thread_.join();
}

}  // namespace gatehouse::proxy::testing
