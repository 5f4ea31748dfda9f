// Streams one HTTP/1.1 message body from a parser on one connection to another (through
// a serializer, or raw after a pre-serialized head), a buffer at a time, so bodies are never held
// whole in memory. Used for request bodies (client -> upstream) and response bodies (upstream ->
// client).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <string_view>
#include <type_traits>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

namespace gatehouse::proxy::http {

struct RelayResult {
  boost::system::error_code ec;
  bool read_side = false;  // the error came from the reading connection
};

using Clock = std::chrono::steady_clock;

// Advances `parser` over bytes already in `buffer`, without I/O. Small messages usually
// arrive whole with the read that brought their first byte, and parsing them here saves
// an asynchronous round trip per message. A parser that needs more input is left for
// the caller's asynchronous read; `ec` is set only for malformed input.
template <bool isRequest, class Body>
void ParseBuffered(boost::beast::http::parser<isRequest, Body>& parser,
                   boost::beast::flat_buffer& buffer, boost::system::error_code& ec) {
  namespace bhttp = boost::beast::http;
  while (buffer.size() > 0 && !parser.is_done()) {
    size_t n = parser.put(buffer.data(), ec);
    buffer.consume(n);
    if (ec == bhttp::error::need_more || ec == bhttp::error::need_buffer) {
      ec = {};
      return;
    }
    if (ec || n == 0 || (!parser.is_header_done())) return;
    if constexpr (std::is_same_v<Body, bhttp::buffer_body>) {
      if (parser.get().body().size == 0) return;  // the caller's buffer is full
    }
  }
}

// Relays the rest of `parser`'s body from `in` to `out`, a buffer at a time. With a
// serializer `sr` (over parser.get()) the body is re-framed by Beast, its header included
// when `sr` has not written it yet. Without one, `head` is the serialized header
// (AppendHead) and the body bytes go out as they are: the head and the first body bytes
// leave in one write, so a small message costs one syscall and no serializer walk.
// Every read and write must finish within `step` and before `deadline`.
template <bool isRequest, class In, class Out>
boost::asio::awaitable<RelayResult> RelayBodyImpl(
    In& in, boost::beast::flat_buffer& in_buffer,
    boost::beast::http::parser<isRequest, boost::beast::http::buffer_body>& parser, Out& out,
    boost::beast::http::serializer<isRequest, boost::beast::http::buffer_body>* sr,
    std::string_view head, char* buf, size_t size, std::chrono::milliseconds step,
    Clock::time_point deadline) {
  namespace bhttp = boost::beast::http;
  constexpr auto kTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  auto& body = parser.get().body();
  auto expiry = [&] { return std::min(deadline, Clock::now() + step); };
  bool head_sent = false;
  do {
    size_t got = 0;
    if (!parser.is_done()) {
      body.data = buf;
      body.size = size;
      boost::system::error_code pec;
      ParseBuffered(parser, in_buffer, pec);
      if (pec) co_return RelayResult{pec, true};
      if (body.size == size && !parser.is_done()) {
        boost::beast::get_lowest_layer(in).expires_at(expiry());
        // read_some, not read: forward whatever arrived (streaming responses must not
        // wait for a full buffer).
        auto [ec, n] = co_await bhttp::async_read_some(in, in_buffer, parser, kTuple);
        if (ec == bhttp::error::need_buffer) ec = {};
        if (ec) co_return RelayResult{ec, true};
      }
      got = size - body.size;
      if (got == 0 && !parser.is_done()) continue;
    }
    boost::system::error_code ec;
    if (sr != nullptr) {
      // An empty buffer would be serialized as a zero-length chunk, which is the
      // chunked terminator: pass no buffer at all instead.
      body.data = got == 0 ? nullptr : buf;
      body.size = got;
      body.more = !parser.is_done();
      boost::beast::get_lowest_layer(out).expires_at(expiry());
      auto [wec, n] = co_await bhttp::async_write(out, *sr, kTuple);
      ec = wec == bhttp::error::need_buffer ? boost::system::error_code{} : wec;
    } else if (got > 0 || !head_sent) {
      std::array<boost::asio::const_buffer, 2> bufs{
          boost::asio::buffer(head.data(), head_sent ? 0 : head.size()),
          boost::asio::buffer(buf, got)};
      boost::beast::get_lowest_layer(out).expires_at(expiry());
      auto [wec, n] = co_await boost::asio::async_write(out, bufs, kTuple);
      ec = wec;
      head_sent = true;
    }
    if (ec) co_return RelayResult{ec, false};
  } while (!parser.is_done() || (sr != nullptr && !sr->is_done()));
  co_return RelayResult{};
}

template <bool isRequest, class In, class Out>
boost::asio::awaitable<RelayResult> RelayBody(
    In& in, boost::beast::flat_buffer& in_buffer,
    boost::beast::http::parser<isRequest, boost::beast::http::buffer_body>& parser, Out& out,
    boost::beast::http::serializer<isRequest, boost::beast::http::buffer_body>& sr, char* buf,
    size_t size, std::chrono::milliseconds step, Clock::time_point deadline) {
  return RelayBodyImpl(in, in_buffer, parser, out, &sr, {}, buf, size, step, deadline);
}

// For a message sent without chunked framing: `head` is its serialized header.
template <bool isRequest, class In, class Out>
boost::asio::awaitable<RelayResult> RelayUnframedBody(
    In& in, boost::beast::flat_buffer& in_buffer,
    boost::beast::http::parser<isRequest, boost::beast::http::buffer_body>& parser, Out& out,
    std::string_view head, char* buf, size_t size, std::chrono::milliseconds step,
    Clock::time_point deadline) {
  return RelayBodyImpl<isRequest>(in, in_buffer, parser, out, nullptr, head, buf, size, step,
                                  deadline);
}

}  // namespace gatehouse::proxy::http
