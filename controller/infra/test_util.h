// Helpers shared by the infra tests, which watch real child processes.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <thread>

namespace gatehouse::infra::testing {

// Polls `cond` for up to 10 s; true as soon as it holds.
inline bool Eventually(const std::function<bool()>& cond) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

// True while `pid` exists (a zombie counts: it has not been reaped yet).
inline bool Alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

}  // namespace gatehouse::infra::testing
