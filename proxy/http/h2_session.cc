#include "proxy/http/h2_session.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "proxy/admin/log.h"
#include "proxy/http/forward.h"

namespace gatehouse::proxy::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using upstream::H2Connection;
using upstream::H2Stream;
constexpr size_t kMaxQueued = 256 * 1024;

// The Downstream side of one HTTP/2 request stream.
class H2Downstream final : public Downstream {
 public:
  H2Downstream(H2Connection& h2, std::shared_ptr<H2Stream> stream)
      : h2_(h2), s_(std::move(stream)), has_body_(!s_->in_done) {}

  bool request_has_body() const override { return has_body_; }

  asio::awaitable<BodyChunk> ReadBody() override {
    while (s_->in.empty() && !s_->in_done && !s_->closed) co_await s_->signal.Wait();
    BodyChunk chunk;
    if (s_->in.empty() && !s_->in_done) {
      chunk.error = true;
      co_return chunk;
    }
    h2_.TakeData(*s_, chunk.data);
    chunk.last = s_->in_done && s_->in.empty();
    co_return chunk;
  }

  asio::awaitable<bool> WriteHeader(bhttp::response_header<>& header, bool end) override {
    if (s_->closed) co_return false;
    upstream::HeaderList list;
    list.emplace_back(":status", std::to_string(header.result_int()));
    for (const auto& f : header) {
      std::string name(f.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "connection" || name == "keep-alive" || name == "proxy-connection" ||
          name == "transfer-encoding" || name == "upgrade") {
        continue;
      }
      list.emplace_back(std::move(name), std::string(f.value()));
    }
    co_return h2_.SubmitResponse(*s_, list, !end);
  }

  asio::awaitable<bool> WriteBody(std::string data, bool last) override {
    while (!s_->closed && s_->out_bytes > kMaxQueued) co_await s_->signal.Wait();
    if (s_->closed) co_return false;
    h2_.Send(*s_, std::move(data), last);
    co_return true;
  }

  asio::awaitable<bool> WriteTrailers(upstream::HeaderList trailers) override {
    if (s_->closed) co_return false;
    h2_.SendTrailers(*s_, std::move(trailers));
    co_return true;
  }

 private:
  H2Connection& h2_;
  std::shared_ptr<H2Stream> s_;
  bool has_body_;
};

}  // namespace

template <class Stream>
H2Session<Stream>::H2Session(listener::Worker& worker,
                             std::shared_ptr<listener::ListenerRuntime> runtime, Stream stream,
                             ConnectionInfo info, beast::flat_buffer initial)
    : worker_(worker),
      runtime_(std::move(runtime)),
      stream_(std::move(stream)),
      info_(std::move(info)),
      initial_(std::move(initial)),
      h2_(worker.io().get_executor(), H2Connection::Role::kServer) {
  runtime_->Add(this);
  worker_.stats().downstream_connections_active.Add(1);
}

template <class Stream>
H2Session<Stream>::~H2Session() {
  runtime_->Remove(this);
  worker_.stats().downstream_connections_active.Add(-1);
}

template <class Stream>
void H2Session<Stream>::Drain() {
  h2_.GoAway();
}

template <class Stream>
void H2Session<Stream>::Abort() {
  boost::system::error_code ignored;
  beast::get_lowest_layer(stream_).socket().close(ignored);
}

template <class Stream>
asio::awaitable<void> H2Session<Stream>::Run(std::shared_ptr<H2Session> self) {
  std::weak_ptr<H2Session> weak = self;
  // The connection holds the callback; a weak reference avoids a cycle.
  self->h2_.set_on_request([weak](std::shared_ptr<H2Stream> stream) {
    if (auto s = weak.lock())
      asio::co_spawn(s->worker_.io(), Serve(s, std::move(stream)), asio::detached);
  });
  self->h2_.Start(256);
  if (self->runtime_->draining()) self->h2_.GoAway();
  co_await upstream::RunH2(self->stream_, self->h2_, self->initial_,
                           self->worker_.limits().idle_timeout);
  beast::get_lowest_layer(self->stream_).close();
}

template <class Stream>
asio::awaitable<void> H2Session<Stream>::Serve(std::shared_ptr<H2Session> self,
                                               std::shared_ptr<H2Stream> stream) {
  H2Session& s = *self;
  H2Downstream down(s.h2_, stream);
  bhttp::request_header<> req;
  req.version(11);
  std::string method, path, authority;
  for (const auto& [name, value] : stream->headers) {
    if (name == ":method") {
      method = value;
    } else if (name == ":path") {
      path = value;
    } else if (name == ":authority") {
      authority = value;
    } else if (!name.empty() && name[0] != ':') {
      req.insert(name, value);
    }
  }
  ForwardInfo info;
  info.client_ip = s.info_.client_ip;
  info.scheme = s.info_.scheme;
  info.start = std::chrono::steady_clock::now();
  info.head = method == "HEAD";
  if (method.empty() || path.empty() || method == "CONNECT") {
    co_await ReplyVia(down, 400, "bad request\n", {}, nullptr, info.head);
    co_return;
  }
  req.method_string(method);
  req.target(path);
  if (!authority.empty()) req.set(bhttp::field::host, authority);

  auto tables = s.worker_.store().Load();
  const config::ListenerTable* lt = tables ? tables->FindListener(s.runtime_->key()) : nullptr;
  if (lt != nullptr) {
    s.tables_ = std::move(tables);
    s.listener_ = lt;
  }
  if (s.listener_ == nullptr) {
    co_await ReplyVia(down, 503, "no configuration\n", {}, nullptr, info.head);
    co_return;
  }
  // Hold this request's tables even if the session moves on to newer ones.
  std::shared_ptr<const config::Tables> held = s.tables_;
  RequestContext ctx;
  ctx.scheme = s.info_.scheme;
  ctx.sni = s.info_.sni;
  ctx.listener_port = s.runtime_->key().port;
  Plan plan = MakePlan(*held, *s.listener_, req, ctx, s.scratch_, s.worker_.Random());
  if (plan.kind == Plan::Kind::kReply) {
    s.worker_.stats().CountResponse(plan.status);
    co_await ReplyVia(down, plan.status, plan.body, plan.headers, &plan.response, info.head);
    co_return;
  }
  if (!down.request_has_body()) SpawnMirrors(s.worker_, held, plan.response, req);
  co_await ForwardGeneric(s.worker_, plan, req, down, info);
}

template class H2Session<beast::tcp_stream>;
template class H2Session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace gatehouse::proxy::http
