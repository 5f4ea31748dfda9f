// A worker: one thread running one io_context, with everything a connection on that
// thread needs (upstream pool, counters, random numbers, the connections it may have to
// drain). Nothing in a Worker is touched from another thread except through post().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "proxy/admin/metrics.h"
#include "proxy/config/tables.h"
#include "proxy/upstream/pool.h"

namespace gatehouse::proxy::listener {

// Limits and timeouts every downstream connection obeys.
struct Limits {
  size_t header_bytes = 64 * 1024;                  // request line + headers
  size_t max_headers = 100;                         // header fields per request
  size_t max_target = 8 * 1024;                     // request-target length
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive wait for the next request
  std::chrono::milliseconds header_timeout{10000};  // first byte -> end of header (slowloris)
  std::chrono::milliseconds body_timeout{60000};    // between body reads/writes
  std::chrono::milliseconds tls_handshake_timeout{10000};
  std::chrono::milliseconds upstream_connect_timeout{5000};
  std::chrono::milliseconds upstream_response_timeout{300000};  // when the route sets none
  std::chrono::milliseconds drain_timeout{10000};
  std::chrono::milliseconds l4_idle_timeout{3600000};  // TCP / TLS tunnels
  std::chrono::milliseconds udp_idle_timeout{60000};   // UDP sessions per client
};

class ListenerRuntime;

// A connection a worker may be asked to finish (listener removed, shutdown).
class Drainable {
 public:
  virtual ~Drainable() = default;
  // Finish the request in flight, then close; close at once when idle.
  virtual void Drain() = 0;
  // Close now.
  virtual void Abort() = 0;
};

// One listener socket as seen by one worker: its acceptor (or UDP socket) and the
// connections it accepted. Lives on the worker's thread.
class ListenerRuntime {
 public:
  explicit ListenerRuntime(config::ListenerKey key) : key_(std::move(key)) {}

  const config::ListenerKey& key() const { return key_; }
  bool draining() const { return draining_; }

  void Add(Drainable* d) { connections_.insert(d); }
  void Remove(Drainable* d) { connections_.erase(d); }
  size_t connection_count() const { return connections_.size(); }

  // Stops accepting and asks every connection to finish. Worker thread only.
  void StartDrain();
  void AbortAll();

  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  std::optional<boost::asio::ip::udp::socket> udp;

 private:
  config::ListenerKey key_;
  bool draining_ = false;
  std::unordered_set<Drainable*> connections_;
};

class Worker {
 public:
  Worker(int id, metrics::WorkerStats& stats, const config::TablesStore& store,
         const Limits& limits);
  ~Worker();

  int id() const { return id_; }
  boost::asio::io_context& io() { return io_; }
  metrics::WorkerStats& stats() { return stats_; }
  upstream::Pool& pool() { return pool_; }
  const config::TablesStore& store() const { return store_; }
  const Limits& limits() const { return limits_; }

  // Uniform 64-bit random numbers (xoshiro-style), per worker so no lock is taken.
  uint64_t Random();

  // Runs the io_context on a new thread until Stop().
  void Start();
  void Stop();

 private:
  int id_;
  metrics::WorkerStats& stats_;
  const config::TablesStore& store_;
  const Limits& limits_;
  boost::asio::io_context io_{1};
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> guard_;
  upstream::Pool pool_;
  std::thread thread_;
  uint64_t rng_[2];
};

}  // namespace gatehouse::proxy::listener
