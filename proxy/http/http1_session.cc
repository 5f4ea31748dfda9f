#include "proxy/http/http1_session.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "proxy/admin/log.h"
#include "proxy/http/forward.h"
#include "proxy/http/headers.h"
#include "proxy/http/relay.h"
#include "proxy/router/actions.h"
#include "proxy/router/beast_headers.h"

namespace gatehouse::proxy::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kRelayBuffer = 16 * 1024;
constexpr size_t kFirstRead = 4096;
// Response bodies up to this size travel in the head buffer instead of the relay buffer.
constexpr size_t kSmallBody = 1024;
// A typical head (~200 bytes, plus a small body) stays allocated across keep-alive
// requests; a bigger one is given back like the other request state.
constexpr size_t kKeptHead = 2048;

bool IsHttpParseError(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::need_buffer;
}

// Errors on a reused upstream connection that mean "the upstream closed it while it
// sat in the pool": safe to resend a request without a body on a fresh connection.
bool IsStaleConnectionError(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated;
}

Clock::time_point Later(Clock::time_point a, std::chrono::milliseconds d) {
  return d.count() == 0 ? Clock::time_point::max() : a + d;
}

}  // namespace

template <class Stream>
Http1Session<Stream>::Http1Session(listener::Worker& worker,
                                   std::shared_ptr<listener::ListenerRuntime> runtime,
                                   Stream stream, ConnectionInfo info, beast::flat_buffer initial)
    : worker_(worker),
      runtime_(std::move(runtime)),
      stream_(std::move(stream)),
      info_(std::move(info)),
      buffer_(std::move(initial)) {
  runtime_->Add(this);
  worker_.stats().downstream_connections_active.Add(1);
}

template <class Stream>
Http1Session<Stream>::~Http1Session() {
  runtime_->Remove(this);
  worker_.stats().downstream_connections_active.Add(-1);
}

template <class Stream>
asio::awaitable<void> Http1Session<Stream>::Run(std::shared_ptr<Http1Session> self) {
  co_await self->Loop();
}

template <class Stream>
void Http1Session<Stream>::Drain() {
  draining_ = true;
  if (idle_) CloseSocket();
}

template <class Stream>
void Http1Session<Stream>::Abort() {
  aborted_ = true;
  CloseSocket();
  if (upstream_) {
    boost::system::error_code ignored;
    upstream_->tcp().socket().close(ignored);
  }
}

template <class Stream>
void Http1Session<Stream>::CloseSocket() {
  boost::system::error_code ignored;
  auto& sock = beast::get_lowest_layer(stream_).socket();
  sock.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

template <class Stream>
asio::awaitable<void> Http1Session<Stream>::Loop() {
  auto& tcp = beast::get_lowest_layer(stream_);
  const auto& limits = worker_.limits();
  while (!aborted_) {
    if (buffer_.size() == 0) {
      if (draining_ || runtime_->draining()) break;
      // Keep-alive wait: only the idle timeout applies until the first byte arrives.
      idle_ = true;
      tcp.expires_after(limits.idle_timeout);
      auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(kFirstRead), kTuple);
      idle_ = false;
      if (ec) break;
      buffer_.commit(n);
    }
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits.header_bytes));
    parser_->body_limit(boost::none);
    boost::system::error_code ec;
    ParseBuffered(*parser_, buffer_, ec);
    if (!ec && !parser_->is_header_done()) {
      // From the first byte to the end of the header: a slow client is cut off here.
      tcp.expires_after(limits.header_timeout);
      auto [rec, n] = co_await bhttp::async_read_header(stream_, buffer_, *parser_, kTuple);
      ec = rec;
    }
    if (ec) {
      if (ec == bhttp::error::header_limit) {
        co_await Reply(431, "request header too large\n", false);
      } else if (IsHttpParseError(ec)) {
        co_await Reply(400, "bad request\n", false);
      }
      break;
    }
    responded_ = false;
    bool keep = co_await HandleRequest();
    if (!responded_) worker_.stats().CountResponse(0);
    upstream_.reset();
    if (!keep) break;
    // An idle keep-alive connection holds no request state: what a big request grew
    // (header fields, a large read buffer, the body relay buffer) is given back.
    parser_.reset();
    response_parser_.reset();
    relay_buf_.reset();
    if (buffer_.size() == 0 && buffer_.capacity() > kFirstRead) buffer_.shrink_to_fit();
    if (head_.capacity() > kKeptHead) head_ = std::string();
  }
  if (!aborted_) {
    // Half-close first so a client that is still sending does not get an RST that
    // could destroy the response it has not read yet.
    boost::system::error_code ignored;
    tcp.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }
  tcp.close();
}

template <class Stream>
asio::awaitable<bool> Http1Session<Stream>::Reply(
    unsigned status, std::string_view body, bool keep_alive, const ResponsePlan* plan,
    const std::vector<std::pair<std::string, std::string>>& extra) {
  // A body we did not read would be taken for the next request: close instead.
  if (parser_ && !parser_->is_done()) keep_alive = false;
  if (draining_ || runtime_->draining()) keep_alive = false;
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status),
                                          request_version_ == 10 ? 10 : 11};
  if (!body.empty()) res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  for (const auto& [name, value] : extra) res.set(name, value);
  if (plan != nullptr) {
    router::BeastHeaders headers(res.base());
    for (const auto* m : plan->response_modifiers) router::ApplyHeaderModifier(*m, headers);
  }
  if (!request_is_head_) res.body() = std::string(body);
  res.prepare_payload();
  if (request_is_head_ && !body.empty()) res.content_length(body.size());
  res.keep_alive(keep_alive);
  beast::get_lowest_layer(stream_).expires_after(worker_.limits().body_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream_, res, kTuple);
  responded_ = true;
  worker_.stats().CountResponse(status);
  co_return !ec && keep_alive;
}

template <class Stream>
asio::awaitable<bool> Http1Session<Stream>::HandleRequest() {
  auto& req = parser_->get();
  const auto& limits = worker_.limits();
  request_start_ = Clock::now();
  request_version_ = req.version();
  request_is_head_ = req.method() == bhttp::verb::head;
  expect_continue_ = false;
  bad_request_body_ = false;

  if (const char* err = RequestShapeError(req.base(), parser_->chunked(), limits.max_headers,
                                          limits.max_target)) {
    log::Debug("bad request", {{"error", err}});
    co_return co_await Reply(400, std::string(err) + "\n", false);
  }
  bool client_keep_alive = req.keep_alive();

  // The tables current now serve this whole request, even if a new snapshot lands
  // while it is in flight. A listener that left the snapshot is draining: its
  // connections finish on the tables they had.
  auto tables = worker_.store().Load();
  const config::ListenerTable* lt = tables ? tables->FindListener(runtime_->key()) : nullptr;
  if (lt != nullptr) {
    tables_ = std::move(tables);
    listener_ = lt;
  } else {
    client_keep_alive = false;
  }
  if (listener_ == nullptr || !listener_->routes)
    co_return co_await Reply(503, "no configuration\n", false);

  RequestContext ctx;
  ctx.scheme = info_.scheme;
  ctx.sni = info_.sni;
  ctx.listener_port = runtime_->key().port;
  Plan plan = MakePlan(*tables_, *listener_, req.base(), ctx, scratch_, worker_.Random());
  if (plan.kind == Plan::Kind::kReply) {
    co_return co_await Reply(plan.status, plan.body, client_keep_alive && !plan.close,
                             &plan.response, plan.headers);
  }
  if (UsesHttp2(*plan.cluster, *plan.route))
    co_return co_await ForwardGenericPath(plan, client_keep_alive);
  co_return co_await Forward(*tables_, *plan.route, *plan.cluster, plan.response,
                             client_keep_alive);
}

// Adapts this connection to the Downstream interface: the request body comes from the
// Beast parser, the response is written with Beast (chunked when its length is unknown).
template <class Stream>
class Http1Session<Stream>::GenericDownstream final : public Downstream {
 public:
  GenericDownstream(Http1Session& s, bool keep_alive) : s_(s), keep_alive_(keep_alive) {}

  bool request_has_body() const override { return !s_.parser_->is_done(); }

  asio::awaitable<BodyChunk> ReadBody() override {
    BodyChunk chunk;
    auto& p = *s_.parser_;
    if (!s_.relay_buf_) s_.relay_buf_.reset(new char[kRelayBuffer]);
    while (!p.is_done()) {
      p.get().body().data = s_.relay_buf_.get();
      p.get().body().size = kRelayBuffer;
      beast::get_lowest_layer(s_.stream_).expires_after(s_.worker_.limits().body_timeout);
      auto [ec, n] = co_await bhttp::async_read_some(s_.stream_, s_.buffer_, p, kTuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) {
        chunk.error = true;
        co_return chunk;
      }
      size_t got = kRelayBuffer - p.get().body().size;
      chunk.data.assign(s_.relay_buf_.get(), got);
      if (got > 0 || p.is_done()) break;
    }
    chunk.last = p.is_done();
    co_return chunk;
  }

  asio::awaitable<bool> WriteHeader(bhttp::response_header<>& header, bool end) override {
    bhttp::response<bhttp::empty_body> res;
    res.base() = header;
    res.version(s_.request_version_ >= 11 ? 11 : 10);
    bool keep = keep_alive_ && !s_.draining_ && !s_.runtime_->draining();
    if (!end && !res.has_content_length()) {
      if (s_.request_version_ >= 11) {
        chunked_ = true;
        res.chunked(true);
      } else {
        keep = false;
      }
    }
    if (end && !res.has_content_length() && !s_.request_is_head_) res.content_length(0);
    res.keep_alive(keep);
    keep_alive_ = keep;
    s_.responded_ = true;
    bhttp::response_serializer<bhttp::empty_body> sr{res};
    beast::get_lowest_layer(s_.stream_).expires_after(s_.worker_.limits().body_timeout);
    auto [ec, n] = co_await bhttp::async_write_header(s_.stream_, sr, kTuple);
    ok_ = !ec;
    complete_ = ok_ && end;
    co_return ok_;
  }

  asio::awaitable<bool> WriteBody(std::string data, bool last) override {
    if (!ok_) co_return false;
    boost::system::error_code ec;
    beast::get_lowest_layer(s_.stream_).expires_after(s_.worker_.limits().body_timeout);
    if (chunked_) {
      if (!data.empty()) {
        auto [e, n] =
            co_await asio::async_write(s_.stream_, bhttp::make_chunk(asio::buffer(data)), kTuple);
        ec = e;
      }
      if (!ec && last) {
        auto [e, n] = co_await asio::async_write(s_.stream_, bhttp::make_chunk_last(), kTuple);
        ec = e;
      }
    } else if (!data.empty()) {
      auto [e, n] = co_await asio::async_write(s_.stream_, asio::buffer(data), kTuple);
      ec = e;
    }
    ok_ = !ec;
    complete_ = ok_ && last;
    co_return ok_;
  }

  asio::awaitable<bool> WriteTrailers(upstream::HeaderList trailers) override {
    if (!ok_) co_return false;
    if (!chunked_) {
      // No way to carry trailers without chunked framing: end the body here.
      complete_ = true;
      co_return true;
    }
    bhttp::fields fields;
    for (const auto& [k, v] : trailers) fields.insert(k, v);
    beast::get_lowest_layer(s_.stream_).expires_after(s_.worker_.limits().body_timeout);
    auto [ec, n] = co_await asio::async_write(s_.stream_, bhttp::make_chunk_last(fields), kTuple);
    ok_ = !ec;
    complete_ = ok_;
    co_return ok_;
  }

  bool reusable() const { return ok_ && complete_ && keep_alive_ && s_.parser_->is_done(); }

 private:
  Http1Session& s_;
  bool keep_alive_;
  bool chunked_ = false;
  bool ok_ = true;
  bool complete_ = false;
};

template <class Stream>
asio::awaitable<bool> Http1Session<Stream>::ForwardGenericPath(Plan& plan, bool client_keep_alive) {
  auto& req = parser_->get();
  RemoveHopByHop(req.base(), false);
  if (auto it = req.find(bhttp::field::expect); it != req.end()) {
    expect_continue_ = beast::iequals(it->value(), "100-continue");
    req.erase(bhttp::field::expect);
  }
  if (expect_continue_ && !parser_->is_done()) {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    beast::get_lowest_layer(stream_).expires_after(worker_.limits().body_timeout);
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(kContinue), kTuple);
    if (ec) co_return false;
  }
  if (parser_->is_done()) SpawnMirrors(worker_, tables_, plan.response, req.base());
  GenericDownstream down(*this, client_keep_alive);
  ForwardInfo info;
  info.client_ip = info_.client_ip;
  info.scheme = info_.scheme;
  info.start = request_start_;
  info.head = request_is_head_;
  co_await ForwardGeneric(worker_, plan, req.base(), down, info);
  co_return down.reusable();
}

template <class Stream>
asio::awaitable<bool> Http1Session<Stream>::Forward(const config::Tables& tables,
                                                    const pb::Route& route,
                                                    const config::ClusterTable& cluster,
                                                    ResponsePlan& plan, bool client_keep_alive) {
  auto& req = parser_->get();
  const auto& limits = worker_.limits();
  bool upgrade = IsWebSocketUpgrade(req.base());
  RemoveHopByHop(req.base(), upgrade);
  if (upgrade) req.set(bhttp::field::connection, "upgrade");
  SetForwardedHeaders(req.base(), info_.client_ip, info_.scheme);
  if (auto it = req.find(bhttp::field::expect); it != req.end()) {
    expect_continue_ = beast::iequals(it->value(), "100-continue");
    req.erase(bhttp::field::expect);
  }
  req.version(11);
  if (parser_->is_done()) {
    SpawnMirrors(worker_, tables_, plan, req.base());
  } else if (!plan.mirrors.empty()) {
    log::Debug("mirror skipped: request has a body", {});
  }

  const bool replayable = parser_->is_done();
  const auto request_deadline =
      Later(request_start_, std::chrono::milliseconds(route.request_timeout_ms()));
  const auto backend_timeout = std::chrono::milliseconds(route.backend_request_timeout_ms());
  const pb::RetryPolicy& retry = route.retry();
  uint32_t retries = 0;
  bool fresh_only = false;

  while (true) {
    const config::EndpointRef* ep = cluster.NextEndpoint(worker_.id());
    if (ep == nullptr)
      co_return co_await Reply(503, "no healthy upstream\n", client_keep_alive, &plan);
    const auto attempt_start = Clock::now();
    if (attempt_start >= request_deadline) {
      // Retries (and their backoff) used up the route's request timeout.
      co_return co_await Reply(504, "upstream timeout\n", client_keep_alive && parser_->is_done(),
                               &plan);
    }
    const auto deadline = std::min(request_deadline, Later(attempt_start, backend_timeout));
    const auto response_deadline =
        std::min(deadline, attempt_start + limits.upstream_response_timeout);

    router::AttemptOutcome outcome;
    bool timed_out = false;
    upstream_ = fresh_only ? nullptr : worker_.pool().TakeIdle(ep->pool_key, !replayable);
    fresh_only = false;
    if (!upstream_) {
      upstream::ConnectParams params;
      params.key = &ep->pool_key;
      params.endpoint = ep->address;
      params.tls = cluster.tls.get();
      params.tls_config = cluster.proto->has_tls() ? &cluster.proto->tls() : nullptr;
      auto connect_budget =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      params.timeout = deadline == Clock::time_point::max()
                           ? limits.upstream_connect_timeout
                           : std::clamp(connect_budget, 1ms, limits.upstream_connect_timeout);
      if (cluster.proto->connect_timeout_ms() > 0) {
        params.timeout = std::min(params.timeout,
                                  std::chrono::milliseconds(cluster.proto->connect_timeout_ms()));
      }
      auto [ec, c] = co_await worker_.pool().Connect(params);
      if (ec) {
        outcome.connection_error = true;
        timed_out = ec == beast::error::timeout && Clock::now() >= deadline;
        log::Debug("upstream connect failed",
                   {{"endpoint", ep->pool_key}, {"error", ec.message()}});
      } else {
        upstream_ = std::move(c);
      }
    }

    if (upstream_) {
      boost::system::error_code ec =
          co_await upstream_->Visit([&](auto& up) { return SendRequest(up, deadline); });
      if (bad_request_body_) {
        upstream_.reset();
        co_return co_await Reply(400, "bad request body\n", false);
      }
      if (!ec) {
        response_parser_.emplace();
        response_parser_->header_limit(256 * 1024);
        response_parser_->body_limit(boost::none);
        if (request_is_head_) response_parser_->skip(true);
        // Informational responses (100, 103) are not forwarded; 101 is the upgrade.
        while (true) {
          ec = co_await upstream_->Visit(
              [&](auto& up) -> asio::awaitable<boost::system::error_code> {
                beast::get_lowest_layer(up).expires_at(response_deadline);
                auto [rec, rn] = co_await bhttp::async_read_header(up, upstream_->buffer(),
                                                                   *response_parser_, kTuple);
                co_return rec;
              });
          if (ec) break;
          unsigned s = response_parser_->get().result_int();
          if (s >= 200 || s == 101) break;
          response_parser_.emplace();
          response_parser_->header_limit(256 * 1024);
          response_parser_->body_limit(boost::none);
          if (request_is_head_) response_parser_->skip(true);
        }
      }
      if (ec == asio::error::operation_aborted && aborted_) co_return false;
      if (ec) {
        bool nothing_received = !response_parser_ || !response_parser_->got_some();
        if (upstream_->reused && nothing_received && replayable && IsStaleConnectionError(ec)) {
          // The pooled connection had been closed by the upstream; not a real failure.
          upstream_.reset();
          fresh_only = true;
          continue;
        }
        if (ec == beast::error::timeout) {
          timed_out = true;
        } else if (ec == bhttp::error::end_of_stream || IsStaleConnectionError(ec) ||
                   ec == asio::error::connection_refused) {
          outcome.connection_error = true;
        } else {
          upstream_.reset();
          co_return co_await Reply(502, "bad upstream response\n", false, &plan);
        }
        upstream_.reset();
      } else {
        outcome.status = response_parser_->get().result_int();
      }
    }

    if (timed_out) {
      upstream_.reset();
      co_return co_await Reply(504, "upstream timeout\n", client_keep_alive && parser_->is_done(),
                               &plan);
    }
    if (replayable && router::ShouldRetry(retry, retries, outcome)) {
      uint32_t delay = router::RetryBackoffMs(retry, retries, worker_.Random());
      ++retries;
      upstream_.reset();  // its response body is not read; do not reuse it
      if (delay > 0) {
        asio::steady_timer timer(
            worker_.io(),
            std::min(request_deadline, Clock::now() + std::chrono::milliseconds(delay)));
        co_await timer.async_wait(kTuple);
      }
      continue;
    }
    if (outcome.connection_error) {
      co_return co_await Reply(503, "upstream connect error\n",
                               client_keep_alive && parser_->is_done(), &plan);
    }
    break;
  }
  co_return co_await upstream_->Visit([&](auto& up) {
    return RelayResponse(up, *upstream_, plan, client_keep_alive, request_deadline);
  });
}

template <class Stream>
template <class Up>
asio::awaitable<boost::system::error_code> Http1Session<Stream>::SendRequest(
    Up& up, Clock::time_point deadline) {
  auto& req = parser_->get();
  const auto& limits = worker_.limits();
  if (parser_->is_done() && !req.chunked()) {
    // No body: the header goes out as one buffer.
    head_.clear();
    AppendHead(req.base(), head_);
    beast::get_lowest_layer(up).expires_at(std::min(deadline, Clock::now() + limits.body_timeout));
    auto [ec, n] = co_await asio::async_write(up, asio::buffer(head_), kTuple);
    co_return ec;
  }
  bhttp::serializer<true, bhttp::buffer_body> sr{req};
  if (parser_->is_done()) {
    req.body().data = nullptr;
    req.body().size = 0;
    req.body().more = false;
    beast::get_lowest_layer(up).expires_at(std::min(deadline, Clock::now() + limits.body_timeout));
    auto [ec, n] = co_await bhttp::async_write(up, sr, kTuple);
    co_return ec;
  }
  if (expect_continue_) {
    expect_continue_ = false;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    beast::get_lowest_layer(stream_).expires_after(limits.body_timeout);
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(kContinue), kTuple);
    if (ec) co_return ec;
  }
  if (!relay_buf_)
    relay_buf_.reset(new char[kRelayBuffer]);  // not zeroed: it is written before read
  RelayResult r = co_await RelayBody(stream_, buffer_, *parser_, up, sr, relay_buf_.get(),
                                     kRelayBuffer, limits.body_timeout, deadline);
  if (r.ec && r.read_side) {
    if (IsHttpParseError(r.ec)) {
      // A malformed body (bad chunk framing): the upstream got a truncated request and
      // is dropped; the client gets 400.
      bad_request_body_ = true;
      co_return r.ec;
    }
    // The client went away: nothing sensible to answer.
    aborted_ = true;
    co_return asio::error::operation_aborted;
  }
  co_return r.ec;
}

template <class Stream>
template <class Up>
asio::awaitable<bool> Http1Session<Stream>::RelayResponse(Up& up, upstream::Connection& conn,
                                                          ResponsePlan& plan,
                                                          bool client_keep_alive,
                                                          Clock::time_point deadline) {
  auto& rp = *response_parser_;
  auto& res = rp.get();
  const auto& limits = worker_.limits();
  const unsigned status = res.result_int();
  const bool upstream_keep_alive = rp.keep_alive();
  const bool upgraded = status == 101;

  RemoveHopByHop(res.base(), upgraded);
  ApplyResponseFilters(plan, res.base());

  bool keep = client_keep_alive && parser_->is_done() && !draining_ && !runtime_->draining();
  if (!upgraded) {
    const bool body_follows = !rp.is_done();
    if (body_follows && !rp.chunked() && !rp.content_length()) {
      // Close-delimited upstream body: chunk it for HTTP/1.1 clients, else close after.
      if (request_version_ >= 11) {
        res.chunked(true);
      } else {
        keep = false;
      }
    } else if (rp.chunked() && request_version_ < 11) {
      res.chunked(false);
      keep = false;
    }
    res.version(request_version_ >= 11 ? 11 : 10);
    res.keep_alive(keep);
  }

  responded_ = true;
  worker_.stats().CountResponse(status);
  RelayResult r;
  if (!upgraded && !res.chunked()) {
    head_.clear();
    AppendHead(res.base(), head_);
    const size_t head_size = head_.size();
    const auto length = rp.content_length();  // the body bytes still to come, when known
    if (!rp.is_done() && length && *length <= kSmallBody) {
      // A small body is parsed into the head buffer behind the head: no relay buffer
      // to allocate, and head and body leave in one write.
      head_.resize(head_size + std::max<std::uint64_t>(*length, 1));
      r = co_await RelayUnframedBody(
          up, conn.buffer(), rp, stream_, std::string_view(head_.data(), head_size),
          head_.data() + head_size, head_.size() - head_size, limits.body_timeout, deadline);
    } else {
      if (!relay_buf_) relay_buf_.reset(new char[kRelayBuffer]);  // not zeroed: written first
      r = co_await RelayUnframedBody(up, conn.buffer(), rp, stream_, head_, relay_buf_.get(),
                                     kRelayBuffer, limits.body_timeout, deadline);
    }
  } else {
    if (!relay_buf_) relay_buf_.reset(new char[kRelayBuffer]);  // not zeroed: written first
    bhttp::serializer<false, bhttp::buffer_body> sr{res};
    r = co_await RelayBody(up, conn.buffer(), rp, stream_, sr, relay_buf_.get(), kRelayBuffer,
                           limits.body_timeout, deadline);
  }
  if (r.ec) {
    log::Debug("response relay failed",
               {{"error", r.ec.message()}, {"upstream_side", r.read_side}});
    upstream_.reset();
    co_return false;
  }
  if (upgraded) {
    co_await Tunnel(up, conn);
    upstream_.reset();
    co_return false;
  }
  if (upstream_keep_alive && rp.is_done() && conn.buffer().size() == 0) {
    worker_.pool().Release(std::move(upstream_));
  } else {
    upstream_.reset();
  }
  co_return keep;
}

template <class Stream>
template <class Up>
asio::awaitable<void> Http1Session<Stream>::Tunnel(Up& up, upstream::Connection& conn) {
  using namespace asio::experimental::awaitable_operators;
  // Bytes that arrived with the headers belong to the tunnel.
  if (buffer_.size() > 0) {
    auto [ec, n] = co_await asio::async_write(up, buffer_.data(), kTuple);
    if (ec) co_return;
    buffer_.consume(buffer_.size());
  }
  if (conn.buffer().size() > 0) {
    auto [ec, n] = co_await asio::async_write(stream_, conn.buffer().data(), kTuple);
    if (ec) co_return;
    conn.buffer().consume(conn.buffer().size());
  }
  const auto idle = worker_.limits().idle_timeout;
  auto pump = [idle](auto& from, auto& to) -> asio::awaitable<void> {
    char buf[16 * 1024];
    while (true) {
      beast::get_lowest_layer(from).expires_after(idle);
      auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kTuple);
      if (ec) co_return;
      beast::get_lowest_layer(to).expires_after(idle);
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf, n), kTuple);
      if (wec) co_return;
    }
  };
  co_await (pump(stream_, up) || pump(up, stream_));
}

template class Http1Session<beast::tcp_stream>;
template class Http1Session<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace gatehouse::proxy::http
