// Keeps child processes running: one per key, each in its own process group,
// restarted with exponential backoff when it exits, stopped with SIGTERM and
// then SIGKILL after a grace period. All process work runs on one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::infra {

struct SupervisorOptions {
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  // A child that ran this long resets its backoff when it exits.
  std::chrono::milliseconds stable_after{10000};
  // Time between SIGTERM and SIGKILL (proxies drain connections meanwhile).
  std::chrono::milliseconds stop_grace{5000};
  // How often exits are checked.
  std::chrono::milliseconds tick{50};
};

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options = {});
  ~Supervisor();

  // Keeps `argv` running under `key`. A different argv for a running key
  // replaces the process.
  void Run(const std::string& key, std::vector<std::string> argv);
  // Stops the key's process in the background (SIGTERM, SIGKILL after grace).
  void Stop(const std::string& key);
  // Stops everything and waits until every child has exited.
  void StopAll();

  struct Info {
    pid_t pid = 0;  // 0 while waiting for a restart
    int starts = 0;
  };
  std::optional<Info> Get(const std::string& key) const;
  // Children being stopped that have not exited yet.
  int Stopping() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Child {
    std::vector<std::string> argv;
    pid_t pid = 0;
    int starts = 0;
    Clock::time_point started;
    Clock::time_point restart_at;
    std::chrono::milliseconds backoff{0};
  };
  struct Dying {
    std::string key;
    pid_t pid;
    Clock::time_point kill_at;
    bool killed = false;
  };

  void Loop();
  void SpawnLocked(const std::string& key, Child& child);
  void TerminateLocked(const std::string& key, pid_t pid);
  void ReapLocked();

  const SupervisorOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Child> children_;
  std::vector<Dying> dying_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace gatehouse::infra
