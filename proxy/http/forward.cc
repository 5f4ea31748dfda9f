#include "proxy/http/forward.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "proxy/admin/log.h"
#include "proxy/http/headers.h"
#include "proxy/router/actions.h"

namespace gatehouse::proxy::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxQueued = 256 * 1024;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Fields that HTTP/2 forbids (RFC 9113 8.2.2); "te" survives only as "trailers".
bool ConnectionSpecific(std::string_view lower_name, std::string_view value) {
  if (lower_name == "te") return value != "trailers";
  return lower_name == "connection" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "transfer-encoding" ||
         lower_name == "upgrade" || lower_name == "host";
}

Clock::time_point Later(Clock::time_point a, uint32_t ms) {
  return ms == 0 ? Clock::time_point::max() : a + std::chrono::milliseconds(ms);
}

struct Target {
  const config::EndpointRef* endpoint = nullptr;
  upstream::ConnectParams params;
};

Target PickEndpoint(listener::Worker& worker, const config::ClusterTable& cluster,
                    Clock::time_point deadline) {
  Target t;
  t.endpoint = cluster.NextEndpoint(worker.id());
  if (t.endpoint == nullptr) return t;
  t.params.key = &t.endpoint->pool_key;
  t.params.endpoint = t.endpoint->address;
  t.params.tls = cluster.tls.get();
  t.params.tls_config = cluster.proto->has_tls() ? &cluster.proto->tls() : nullptr;
  t.params.timeout = worker.limits().upstream_connect_timeout;
  if (cluster.proto->connect_timeout_ms() > 0) {
    t.params.timeout =
        std::min(t.params.timeout, std::chrono::milliseconds(cluster.proto->connect_timeout_ms()));
  }
  if (deadline != Clock::time_point::max()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    t.params.timeout = std::clamp(left, std::chrono::milliseconds(1), t.params.timeout);
  }
  return t;
}

// ---- HTTP/2 upstream ------------------------------------------------------------------

asio::awaitable<void> ForwardH2(listener::Worker& worker, const Plan& plan,
                                bhttp::request_header<>& req, Downstream& down,
                                const ForwardInfo& info, const Target& t,
                                Clock::time_point deadline) {
  auto [ec, client] = co_await worker.pool().AcquireH2(t.params);
  if (ec) {
    bool timeout = ec == beast::error::timeout && Clock::now() >= deadline;
    co_await ReplyVia(down, timeout ? 504 : 503, "upstream connect error\n", {}, &plan.response,
                      info.head);
    co_return;
  }
  upstream::HeaderList headers;
  headers.emplace_back(":method", std::string(req.method_string()));
  headers.emplace_back(":scheme", plan.cluster->tls ? "https" : "http");
  headers.emplace_back(":authority", std::string(req[bhttp::field::host]));
  headers.emplace_back(":path", std::string(req.target()));
  for (const auto& f : req) {
    std::string name = Lower(f.name_string());
    if (ConnectionSpecific(name, f.value())) continue;
    headers.emplace_back(std::move(name), std::string(f.value()));
  }
  const bool has_body = down.request_has_body();
  std::shared_ptr<upstream::H2Stream> stream = client->h2.SubmitRequest(headers, has_body);
  if (!stream) {
    co_await ReplyVia(down, 503, "upstream refused the stream\n", {}, &plan.response, info.head);
    co_return;
  }
  upstream::H2Connection& h2 = client->h2;

  auto pump_body = [&]() -> asio::awaitable<void> {
    if (!has_body) co_return;
    while (!stream->closed) {
      BodyChunk chunk = co_await down.ReadBody();
      if (chunk.error) {
        h2.Reset(*stream, NGHTTP2_CANCEL);
        co_return;
      }
      h2.Send(*stream, std::move(chunk.data), chunk.last);
      if (chunk.last) co_return;
      while (!stream->closed && stream->out_bytes > kMaxQueued) co_await stream->signal.Wait();
    }
  };

  auto relay_response = [&]() -> asio::awaitable<void> {
    while (!stream->headers_done && !stream->closed) {
      if (!co_await stream->signal.WaitUntil(deadline)) {
        h2.Reset(*stream, NGHTTP2_CANCEL);
        co_await ReplyVia(down, 504, "upstream timeout\n", {}, &plan.response, info.head);
        co_return;
      }
    }
    if (!stream->headers_done) {
      co_await ReplyVia(down, 502, "upstream reset the stream\n", {}, &plan.response, info.head);
      co_return;
    }
    bhttp::response_header<> res;
    res.version(11);
    for (const auto& [name, value] : stream->headers) {
      if (name == ":status") {
        res.result(static_cast<unsigned>(std::atoi(value.c_str())));
      } else if (!name.empty() && name[0] != ':') {
        res.insert(name, value);
      }
    }
    ApplyResponseFilters(plan.response, res);
    worker.stats().CountResponse(res.result_int());
    bool end = stream->in_done && stream->in.empty() && stream->trailers.empty();
    if (!co_await down.WriteHeader(res, end)) {
      h2.Reset(*stream, NGHTTP2_CANCEL);
      co_return;
    }
    if (end) co_return;
    while (true) {
      std::string data;
      h2.TakeData(*stream, data);
      bool finished = stream->in_done && stream->in.empty();
      if (!data.empty() || finished) {
        if (finished && !stream->trailers.empty()) {
          if (!data.empty() && !co_await down.WriteBody(std::move(data), false)) break;
          upstream::HeaderList trailers = stream->trailers;
          co_await down.WriteTrailers(std::move(trailers));
          co_return;
        }
        if (!co_await down.WriteBody(std::move(data), finished)) break;
        if (finished) co_return;
      }
      if (stream->closed && !stream->in_done) {
        // Reset mid-body: the client sees a truncated response.
        co_return;
      }
      co_await stream->signal.Wait();
    }
    h2.Reset(*stream, NGHTTP2_CANCEL);
  };

  using namespace asio::experimental::awaitable_operators;
  co_await (pump_body() && relay_response());
}

// ---- HTTP/1.1 upstream ----------------------------------------------------------------

// Errors on a reused upstream connection that mean "the upstream closed it while it
// sat in the pool": a request without a body is resent on a fresh connection.
bool IsStaleConnectionError(const boost::system::error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated;
}

asio::awaitable<void> ForwardH1(listener::Worker& worker, const Plan& plan,
                                bhttp::request_header<>& req, Downstream& down,
                                const ForwardInfo& info, Target t, Clock::time_point deadline) {
  const bool has_body = down.request_has_body();
  bhttp::request<bhttp::empty_body> up_req;
  up_req.base() = req;
  up_req.version(11);
  RemoveHopByHop(up_req.base(), false);
  SetForwardedHeaders(up_req.base(), info.client_ip, info.scheme);
  const bool chunked = has_body && !up_req.has_content_length();
  if (chunked) up_req.chunked(true);
  const auto step = worker.limits().body_timeout;
  auto expiry = [&] { return std::min(deadline, Clock::now() + step); };
  const pb::RetryPolicy& retry = plan.route->retry();
  uint32_t retries = 0;
  bool fresh_only = false;

  std::unique_ptr<upstream::Connection> conn;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  auto fresh_parser = [&] {
    parser.emplace();
    parser->header_limit(256 * 1024);
    parser->body_limit(boost::none);
    if (info.head) parser->skip(true);
  };

  enum class Outcome { kOk, kConnectError, kUpstreamError, kTimeout, kClientGone };
  while (true) {
    if (Clock::now() >= deadline) {
      co_await ReplyVia(down, 504, "upstream timeout\n", {}, &plan.response, info.head);
      co_return;
    }
    Outcome outcome = Outcome::kOk;
    boost::system::error_code last_ec;
    conn = fresh_only ? nullptr : worker.pool().TakeIdle(*t.params.key, has_body);
    fresh_only = false;
    if (!conn) {
      auto [ec, c] = co_await worker.pool().Connect(t.params);
      if (ec) {
        outcome = ec == beast::error::timeout && Clock::now() >= deadline ? Outcome::kTimeout
                                                                          : Outcome::kConnectError;
      } else {
        conn = std::move(c);
      }
    }
    if (conn) {
      outcome = co_await conn->Visit([&](auto& up) -> asio::awaitable<Outcome> {
        beast::get_lowest_layer(up).expires_at(expiry());
        bhttp::request_serializer<bhttp::empty_body> sr{up_req};
        auto [hec, hn] = co_await bhttp::async_write_header(up, sr, kTuple);
        last_ec = hec;
        if (hec)
          co_return hec == beast::error::timeout ? Outcome::kTimeout : Outcome::kUpstreamError;
        while (has_body) {
          BodyChunk chunk = co_await down.ReadBody();
          if (chunk.error) co_return Outcome::kClientGone;
          beast::get_lowest_layer(up).expires_at(expiry());
          boost::system::error_code wec;
          if (chunked) {
            if (!chunk.data.empty()) {
              auto [e, n] = co_await asio::async_write(
                  up, bhttp::make_chunk(asio::buffer(chunk.data)), kTuple);
              wec = e;
            }
            if (!wec && chunk.last) {
              auto [e, n] = co_await asio::async_write(up, bhttp::make_chunk_last(), kTuple);
              wec = e;
            }
          } else if (!chunk.data.empty()) {
            auto [e, n] = co_await asio::async_write(up, asio::buffer(chunk.data), kTuple);
            wec = e;
          }
          last_ec = wec;
          if (wec)
            co_return wec == beast::error::timeout ? Outcome::kTimeout : Outcome::kUpstreamError;
          if (chunk.last) break;
        }
        fresh_parser();
        while (true) {
          beast::get_lowest_layer(up).expires_at(
              std::min(deadline, Clock::now() + worker.limits().upstream_response_timeout));
          auto [ec, n] = co_await bhttp::async_read_header(up, conn->buffer(), *parser, kTuple);
          last_ec = ec;
          if (ec)
            co_return ec == beast::error::timeout ? Outcome::kTimeout : Outcome::kUpstreamError;
          if (parser->get().result_int() >= 200) break;
          fresh_parser();  // interim 1xx response: not forwarded
        }
        co_return Outcome::kOk;
      });
    }
    if (outcome == Outcome::kClientGone) co_return;
    if (outcome == Outcome::kUpstreamError && conn && conn->reused && !has_body &&
        IsStaleConnectionError(last_ec) && !(parser && parser->got_some())) {
      fresh_only = true;  // the pooled connection had been closed by the upstream
      continue;
    }
    if (outcome == Outcome::kTimeout) {
      co_await ReplyVia(down, 504, "upstream timeout\n", {}, &plan.response, info.head);
      co_return;
    }
    router::AttemptOutcome attempt;
    attempt.connection_error =
        outcome == Outcome::kConnectError ||
        (outcome == Outcome::kUpstreamError && IsStaleConnectionError(last_ec));
    if (outcome == Outcome::kOk) attempt.status = parser->get().result_int();
    if (!has_body && (outcome == Outcome::kOk || attempt.connection_error) &&
        router::ShouldRetry(retry, retries, attempt)) {
      uint32_t delay = router::RetryBackoffMs(retry, retries, worker.Random());
      ++retries;
      conn.reset();  // its response is not read: never reused
      if (delay > 0) {
        asio::steady_timer timer(
            worker.io(), std::min(deadline, Clock::now() + std::chrono::milliseconds(delay)));
        co_await timer.async_wait(kTuple);
      }
      Target next = PickEndpoint(worker, *plan.cluster, deadline);
      if (next.endpoint != nullptr) t = next;
      continue;
    }
    if (outcome == Outcome::kConnectError) {
      co_await ReplyVia(down, 503, "upstream connect error\n", {}, &plan.response, info.head);
      co_return;
    }
    if (outcome != Outcome::kOk) {
      co_await ReplyVia(down, 502, "bad upstream response\n", {}, &plan.response, info.head);
      co_return;
    }
    break;
  }

  bool reusable = co_await conn->Visit([&](auto& up) -> asio::awaitable<bool> {
    auto& rp = *parser;
    auto& res = rp.get();
    const bool upstream_keep_alive = rp.keep_alive();
    bhttp::response_header<> header = res.base();
    RemoveHopByHop(header, false);
    header.erase(bhttp::field::transfer_encoding);
    ApplyResponseFilters(plan.response, header);
    worker.stats().CountResponse(header.result_int());
    if (!co_await down.WriteHeader(header, rp.is_done())) co_return false;
    char buf[16 * 1024];
    while (!rp.is_done()) {
      res.body().data = buf;
      res.body().size = sizeof(buf);
      beast::get_lowest_layer(up).expires_at(expiry());
      auto [ec, n] = co_await bhttp::async_read_some(up, conn->buffer(), rp, kTuple);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) co_return false;
      size_t got = sizeof(buf) - res.body().size;
      if (got == 0 && !rp.is_done()) continue;
      if (!co_await down.WriteBody(std::string(buf, got), rp.is_done())) co_return false;
    }
    co_return upstream_keep_alive && conn->buffer().size() == 0;
  });
  if (reusable) worker.pool().Release(std::move(conn));
}

asio::awaitable<void> MirrorRequest(listener::Worker& worker,
                                    std::shared_ptr<const config::Tables> tables,
                                    const config::ClusterTable* cluster,
                                    std::shared_ptr<bhttp::request<bhttp::empty_body>> req) {
  Target t = PickEndpoint(worker, *cluster, Clock::time_point::max());
  if (t.endpoint == nullptr) co_return;
  auto conn = worker.pool().TakeIdle(*t.params.key);
  if (!conn) {
    auto [ec, c] = co_await worker.pool().Connect(t.params);
    if (ec) co_return;
    conn = std::move(c);
  }
  bool reusable = co_await conn->Visit([&](auto& up) -> asio::awaitable<bool> {
    conn->tcp().expires_after(std::chrono::seconds(10));
    auto [wec, wn] = co_await bhttp::async_write(up, *req, kTuple);
    if (wec) co_return false;
    bhttp::response_parser<bhttp::string_body> rp;
    rp.body_limit(1 << 20);
    if (req->method() == bhttp::verb::head) rp.skip(true);
    auto [rec, rn] = co_await bhttp::async_read(up, conn->buffer(), rp, kTuple);
    co_return !rec && rp.keep_alive() && conn->buffer().size() == 0;
  });
  if (reusable) worker.pool().Release(std::move(conn));
}

}  // namespace

void SpawnMirrors(listener::Worker& worker, const std::shared_ptr<const config::Tables>& tables,
                  const ResponsePlan& plan, const bhttp::request_header<>& req) {
  for (const pb::RequestMirror* mirror : plan.mirrors) {
    if (!router::ShouldMirror(*mirror, worker.Random())) continue;
    const config::ClusterTable* cluster = tables->FindCluster(mirror->cluster());
    if (cluster == nullptr) continue;
    auto copy = std::make_shared<bhttp::request<bhttp::empty_body>>();
    copy->base() = req;
    copy->version(11);
    copy->erase(bhttp::field::content_length);
    copy->erase(bhttp::field::transfer_encoding);
    asio::co_spawn(worker.io(), MirrorRequest(worker, tables, cluster, std::move(copy)),
                   asio::detached);
  }
}

bool UsesHttp2(const config::ClusterTable& cluster, const pb::Route& route) {
  auto p = cluster.proto->protocol();
  return p == pb::Cluster::H2C || p == pb::Cluster::H2 ||
         (route.has_forward() && route.forward().grpc());
}

asio::awaitable<void> ReplyVia(Downstream& down, unsigned status, const std::string& body,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const ResponsePlan* plan, bool head) {
  bhttp::response_header<> res;
  res.version(11);
  res.result(status);
  if (!body.empty()) res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  for (const auto& [k, v] : headers) res.set(k, v);
  if (plan != nullptr) {
    ResponsePlan modifiers_only;
    modifiers_only.response_modifiers = plan->response_modifiers;
    ApplyResponseFilters(modifiers_only, res);
  }
  res.set(bhttp::field::content_length, std::to_string(body.size()));
  const bool end = body.empty() || head;
  if (co_await down.WriteHeader(res, end) && !end) co_await down.WriteBody(body, true);
}

asio::awaitable<void> ForwardGeneric(listener::Worker& worker, const Plan& plan,
                                     bhttp::request_header<>& req, Downstream& down,
                                     const ForwardInfo& info) {
  const pb::Route& route = *plan.route;
  const auto deadline = std::min(Later(info.start, route.request_timeout_ms()),
                                 Later(Clock::now(), route.backend_request_timeout_ms()));
  Target t = PickEndpoint(worker, *plan.cluster, deadline);
  if (t.endpoint == nullptr) {
    co_await ReplyVia(down, 503, "no healthy upstream\n", {}, &plan.response, info.head);
    co_return;
  }
  if (UsesHttp2(*plan.cluster, route)) {
    SetForwardedHeaders(req, info.client_ip, info.scheme);
    co_await ForwardH2(worker, plan, req, down, info, t, deadline);
  } else {
    co_await ForwardH1(worker, plan, req, down, info, t, deadline);
  }
}

}  // namespace gatehouse::proxy::http
