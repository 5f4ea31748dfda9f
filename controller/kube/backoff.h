// Exponential backoff with jitter for retries against the API server: the
// delay doubles per failure from `min` up to `max`, and each wait is drawn
// uniformly from [delay/2, delay] so many clients do not retry in lockstep.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace gatehouse::kube {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds min, std::chrono::milliseconds max,
          uint64_t seed = std::random_device{}())
      : min_(min), max_(max), rng_(seed) {}

  // The next wait; grows until max.
  std::chrono::milliseconds Next() {
    const auto ceiling = current_ == std::chrono::milliseconds::zero() ? min_ : current_;
    current_ = std::min(max_, ceiling * 2);
    std::uniform_int_distribution<int64_t> dist(ceiling.count() / 2, ceiling.count());
    return std::chrono::milliseconds(dist(rng_));
  }

  // After a success: the next failure waits about `min` again.
  void Reset() { current_ = std::chrono::milliseconds::zero(); }

 private:
  std::chrono::milliseconds min_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds current_{0};
  std::mt19937_64 rng_;
};

}  // namespace gatehouse::kube
