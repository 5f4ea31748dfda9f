// Upstream connections and the per-worker keep-alive pool. Each worker owns one Pool
// and touches it only from its own thread, so the request path takes no lock. Idle
// connections are checked for a peer close before reuse and expire after a while.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "gatehouse/config/v1/config.pb.h"
#include "proxy/admin/metrics.h"
#include "proxy/upstream/h2_connection.h"

namespace gatehouse::proxy::upstream {

using TcpStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// One connection to an upstream endpoint: plain TCP or TLS over TCP.
class Connection {
 public:
  Connection(boost::asio::any_io_executor ex, std::string key);
  Connection(boost::asio::any_io_executor ex, std::string key, boost::asio::ssl::context& tls);

  const std::string& key() const { return key_; }
  // The TCP layer (timeouts, close). For TLS connections it lies under tls().
  TcpStream& tcp();
  TcpStream* plain() { return plain_ ? &*plain_ : nullptr; }
  TlsStream* tls() { return tls_ ? &*tls_ : nullptr; }
  // Bytes read from the upstream but not yet consumed (kept across requests).
  boost::beast::flat_buffer& buffer() { return buffer_; }

  // Calls `f(stream)` with the concrete stream type.
  template <typename F>
  decltype(auto) Visit(F&& f) {
    if (tls_) return f(*tls_);
    return f(*plain_);
  }

  bool reused = false;  // true when it came out of the pool
  std::chrono::steady_clock::time_point idle_since;

 private:
  std::string key_;
  std::optional<TcpStream> plain_;
  std::optional<TlsStream> tls_;
  boost::beast::flat_buffer buffer_;
};

// A multiplexed HTTP/2 connection to one upstream endpoint (h2c, or h2 over TLS).
struct H2Client {
  H2Client(std::unique_ptr<Connection> c, boost::asio::any_io_executor ex)
      : connection(std::move(c)), h2(ex, H2Connection::Role::kClient) {}
  std::unique_ptr<Connection> connection;
  H2Connection h2;
};

struct ConnectParams {
  const std::string* key = nullptr;
  boost::asio::ip::tcp::endpoint endpoint;
  // TLS to the upstream when set.
  boost::asio::ssl::context* tls = nullptr;
  const ::gatehouse::config::v1::UpstreamTls* tls_config = nullptr;
  std::chrono::milliseconds timeout{5000};
};

struct PoolOptions {
  size_t max_idle_per_key = 1024;
  std::chrono::milliseconds max_idle_time{60000};
  std::chrono::milliseconds sweep_interval{5000};
  // Idle longer than this: check for a peer close before reuse.
  std::chrono::milliseconds check_after{1000};
};

class Pool {
 public:
  Pool(boost::asio::io_context& io, metrics::WorkerStats& stats, PoolOptions options = {});
  ~Pool();

  // An idle pooled connection for `key` that still looks alive, or nullptr.
  // `check_always`: also check connections idle only briefly (for requests that could
  // not be resent if the connection turns out to be closed).
  std::unique_ptr<Connection> TakeIdle(const std::string& key, bool check_always = false);

  // Opens a new connection (and TLS handshake with name verification when asked).
  boost::asio::awaitable<std::pair<boost::system::error_code, std::unique_ptr<Connection>>> Connect(
      const ConnectParams& params);

  // Returns a connection after a complete exchange the upstream agreed to keep alive.
  void Release(std::unique_ptr<Connection> connection);

  // An HTTP/2 connection to the endpoint that accepts new streams: the pooled one, or a
  // new one (connected, SETTINGS sent, I/O running on this worker).
  boost::asio::awaitable<std::pair<boost::system::error_code, std::shared_ptr<H2Client>>> AcquireH2(
      const ConnectParams& params);

  // Starts the idle sweeper (runs on the worker's io_context).
  void Start();
  // Closes every idle connection and stops the sweeper.
  void Shutdown();

  size_t idle_count() const;

 private:
  void Sweep();

  boost::asio::io_context& io_;
  metrics::WorkerStats& stats_;
  PoolOptions options_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Connection>>> idle_;
  std::unordered_map<std::string, std::shared_ptr<H2Client>> h2_;
  boost::asio::steady_timer sweeper_;
  bool stopped_ = false;
};

}  // namespace gatehouse::proxy::upstream
