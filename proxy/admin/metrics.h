// Proxy counters and their Prometheus text exposition. Each worker thread owns one
// WorkerStats block (single writer, no locked instructions on the request path);
// the admin thread sums the blocks when /metrics is scraped.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gatehouse::proxy::metrics {

// Written by exactly one thread, read by any: a relaxed load+store is enough and
// compiles to plain moves.
class Counter {
 public:
  void Inc(uint64_t n = 1) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Gauge {
 public:
  void Add(int64_t n) {
    v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  int64_t Get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

struct alignas(64) WorkerStats {
  // Downstream responses by status class: [0] = no response sent, [1]..[5] = 1xx..5xx.
  Counter responses[6];
  Counter downstream_connections_total;
  Gauge downstream_connections_active;
  Counter tls_handshakes;
  Counter tls_handshake_failures;
  Counter upstream_connects;
  Counter upstream_connect_failures;
  Counter upstream_reuses;
  Gauge upstream_connections_idle;
  Counter l4_sessions_total;

  void CountResponse(unsigned status) {
    unsigned cls = status / 100;
    responses[cls >= 1 && cls <= 5 ? cls : 0].Inc();
  }
};

class Registry {
 public:
  explicit Registry(int workers);

  int workers() const { return static_cast<int>(workers_.size()); }
  WorkerStats& worker(int i) { return *workers_[i]; }

  // Config-thread events (any thread may call; rare).
  void SnapshotApplied(const std::string& version);
  void SnapshotRejected();
  void ControllerConnected(bool connected);

  // The whole registry as Prometheus text exposition format 0.0.4.
  std::string RenderPrometheus() const;

 private:
  std::vector<std::unique_ptr<WorkerStats>> workers_;
  mutable std::mutex mu_;
  std::string version_;
  uint64_t applied_ = 0;
  uint64_t rejected_ = 0;
  bool controller_connected_ = false;
  double last_applied_unix_ = 0;
};

}  // namespace gatehouse::proxy::metrics
