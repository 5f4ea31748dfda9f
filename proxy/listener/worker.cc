#include "proxy/listener/worker.h"

#include <random>
#include <vector>

namespace gatehouse::proxy::listener {

void ListenerRuntime::StartDrain() {
  draining_ = true;
  boost::system::error_code ignored;
  if (acceptor) acceptor->close(ignored);
  if (udp) udp->close(ignored);
  // Drain() may remove the connection from the set; iterate over a copy.
  std::vector<Drainable*> copy(connections_.begin(), connections_.end());
  for (Drainable* d : copy) {
    if (connections_.count(d) != 0) d->Drain();
  }
}

void ListenerRuntime::AbortAll() {
  std::vector<Drainable*> copy(connections_.begin(), connections_.end());
  for (Drainable* d : copy) {
    if (connections_.count(d) != 0) d->Abort();
  }
}

Worker::Worker(int id, metrics::WorkerStats& stats, const config::TablesStore& store,
               const Limits& limits)
    : id_(id), stats_(stats), store_(store), limits_(limits), pool_(io_, stats) {
  std::random_device rd;
  rng_[0] = (uint64_t{rd()} << 32) ^ rd() ^ 0x9E3779B97F4A7C15ull;
  rng_[1] = (uint64_t{rd()} << 32) ^ rd() ^ static_cast<uint64_t>(id) * 0xBF58476D1CE4E5B9ull;
  if (rng_[0] == 0 && rng_[1] == 0) rng_[1] = 1;
}

Worker::~Worker() { Stop(); }

uint64_t Worker::Random() {
  // xorshift128+: fast, good enough for load balancing and sampling.
  uint64_t s1 = rng_[0];
  const uint64_t s0 = rng_[1];
  rng_[0] = s0;
  s1 ^= s1 << 23;
  rng_[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
  return rng_[1] + s0;
}

void Worker::Start() {
  guard_.emplace(io_.get_executor());
  pool_.Start();
  thread_ = std::thread([this] { io_.run(); });
}

void Worker::Stop() {
  if (!thread_.joinable()) return;
  // Connections still open after the drain keep the context busy; stop() ends them, and
  // their coroutine frames are destroyed with the io_context.
  boost::asio::post(io_, [this] {
    pool_.Shutdown();
    io_.stop();
  });
  guard_.reset();
  thread_.join();
}

}  // namespace gatehouse::proxy::listener
