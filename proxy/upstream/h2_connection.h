// HTTP/2 framing for both directions: a sans-I/O wrapper around an nghttp2 session
// (server for downstream connections, client for h2c/h2 upstreams) that keeps per-stream
// queues of received and pending data with flow control, plus the coroutine that moves
// bytes between it and a socket.
#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include "proxy/upstream/signal.h"

namespace gatehouse::proxy::upstream {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// One HTTP/2 stream. Owned by shared_ptr: the connection drops its reference when the
// stream closes, the coroutine serving it may keep using it.
struct H2Stream {
  explicit H2Stream(boost::asio::any_io_executor ex) : signal(ex) {}

  int32_t id = -1;
  // The first header block received (request on a server, response on a client) and
  // a trailing block, if any.
  HeaderList headers;
  HeaderList trailers;
  bool headers_done = false;
  // Interim (1xx) response blocks are dropped on the client side.
  bool in_trailers = false;

  // Received DATA not yet taken by the consumer.
  std::deque<std::string> in;
  size_t in_bytes = 0;
  bool in_done = false;  // END_STREAM received

  // DATA waiting to be sent; `out_done` ends the stream after it (with trailers if set).
  std::deque<std::string> out;
  size_t out_offset = 0;  // bytes of out.front() already sent
  size_t out_bytes = 0;
  bool out_done = false;
  bool out_deferred = false;
  bool has_out_trailers = false;
  HeaderList out_trailers;

  bool closed = false;      // the stream is gone (completed or reset)
  uint32_t error_code = 0;  // RST_STREAM / close error code
  Signal signal;            // any change above wakes the stream's coroutine
};

class H2Connection {
 public:
  enum class Role { kServer, kClient };
  // Server role: a request's header block is complete.
  using RequestFn = std::function<void(std::shared_ptr<H2Stream>)>;

  H2Connection(boost::asio::any_io_executor ex, Role role, RequestFn on_request = nullptr);
  ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  void set_on_request(RequestFn fn) { on_request_ = std::move(fn); }

  // Queues our SETTINGS (call once before the first output).
  void Start(uint32_t max_concurrent_streams);

  // Feeds received bytes. False on a protocol error (the connection must close after
  // flushing the GOAWAY that nghttp2 queued).
  bool Feed(const uint8_t* data, size_t size);
  // Appends the next pending frames to `out`. False when there are none.
  bool CollectOutput(std::string& out);
  // Neither side has anything more to say: close the socket.
  bool Done() const;

  // Client: opens a stream. `headers` must hold the pseudo-headers first. Returns
  // nullptr when the connection refuses new streams.
  std::shared_ptr<H2Stream> SubmitRequest(const HeaderList& headers, bool has_body);
  // Server: answers a stream. Data (if any) follows with Send().
  bool SubmitResponse(H2Stream& stream, const HeaderList& headers, bool has_body);
  // Queues DATA on a stream that was opened with a body; `last` ends it.
  void Send(H2Stream& stream, std::string data, bool last);
  // Ends the stream with trailers after the queued DATA.
  void SendTrailers(H2Stream& stream, HeaderList trailers);
  void Reset(H2Stream& stream, uint32_t error_code);
  // Returns received DATA to the peer's flow-control window.
  void Consume(H2Stream& stream, size_t n);
  // Takes all received DATA (consuming it) into `out`.
  size_t TakeData(H2Stream& stream, std::string& out);

  // Graceful shutdown: no new streams; existing ones finish.
  void GoAway();
  void Terminate(uint32_t error_code);

  bool accepting_streams() const;
  size_t stream_count() const { return streams_.size(); }
  // Wakes the writer coroutine.
  Signal& write_signal() { return write_signal_; }
  bool broken() const { return broken_; }
  void MarkBroken() { broken_ = true; }

 private:
  friend struct H2Callbacks;
  H2Stream* Find(int32_t id);

  boost::asio::any_io_executor ex_;
  Role role_;
  RequestFn on_request_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::shared_ptr<H2Stream>> streams_;
  Signal write_signal_;
  bool broken_ = false;
  bool going_away_ = false;
};

// Runs the connection's I/O on `stream` until it ends: reads feed the session, a writer
// flushes its output whenever it is signalled. `initial` holds bytes already read.
// `idle` bounds how long the connection may sit without any stream.
template <class Stream>
boost::asio::awaitable<void> RunH2(Stream& stream, H2Connection& h2,
                                   boost::beast::flat_buffer& initial,
                                   std::chrono::milliseconds idle) {
  namespace asio = boost::asio;
  using namespace asio::experimental::awaitable_operators;
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  bool reader_done = false;
  auto writer = [&]() -> asio::awaitable<void> {
    std::string out;
    while (true) {
      out.clear();
      while (out.size() < 64 * 1024 && h2.CollectOutput(out)) {
      }
      if (!out.empty()) {
        auto [ec, n] = co_await asio::async_write(stream, asio::buffer(out), kTuple);
        if (ec) {
          h2.MarkBroken();
          break;
        }
        continue;
      }
      if (h2.broken() || h2.Done() || reader_done) break;
      co_await h2.write_signal().Wait();
    }
    // Wakes the reader if it still waits.
    boost::system::error_code ignored;
    boost::beast::get_lowest_layer(stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both,
                                                             ignored);
  };
  auto reader = [&]() -> asio::awaitable<void> {
    if (initial.size() > 0) {
      auto data = initial.cdata();
      if (!h2.Feed(static_cast<const uint8_t*>(data.data()), data.size())) h2.MarkBroken();
      initial.consume(initial.size());
    }
    h2.write_signal().Notify();
    std::unique_ptr<uint8_t[]> buf(new uint8_t[16 * 1024]);
    while (!h2.broken() && !h2.Done()) {
      boost::beast::get_lowest_layer(stream).expires_after(
          h2.stream_count() == 0 ? idle : std::chrono::milliseconds(std::chrono::hours(24)));
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(buf.get(), 16 * 1024), kTuple);
      if (ec) break;
      bool ok = h2.Feed(buf.get(), n);
      h2.write_signal().Notify();
      if (!ok) break;  // nghttp2 queued a GOAWAY; the writer flushes it
    }
    reader_done = true;
    h2.write_signal().Notify();
  };
  co_await (reader() && writer());
  h2.MarkBroken();
}

}  // namespace gatehouse::proxy::upstream
