#include "controller/infra/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "controller/source/log.h"

namespace gatehouse::infra {
namespace {

std::string ExitDescription(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

boost::json::value ArgvJson(const std::vector<std::string>& argv) {
  boost::json::array a;
  for (const auto& s : argv) a.emplace_back(s);
  return a;
}

}  // namespace

Supervisor::Supervisor(SupervisorOptions options) : options_(options) {
  thread_ = std::thread([this] { Loop(); });
}

Supervisor::~Supervisor() {
  StopAll();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Supervisor::Run(const std::string& key, std::vector<std::string> argv) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = children_.try_emplace(key);
  Child& child = it->second;
  if (!inserted && child.argv == argv) return;
  if (!inserted && child.pid > 0) {
    TerminateLocked(key, child.pid);
    child.pid = 0;
  }
  child.argv = std::move(argv);
  child.backoff = std::chrono::milliseconds(0);
  // Spawned by the loop thread: PR_SET_PDEATHSIG ties children to the thread
  // that forked them, and that thread lives as long as the supervisor.
  child.restart_at = Clock::now();
  cv_.notify_all();
}

void Supervisor::Stop(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = children_.find(key);
  if (it == children_.end()) return;
  if (it->second.pid > 0) TerminateLocked(key, it->second.pid);
  children_.erase(it);
  cv_.notify_all();
}

void Supervisor::StopAll() {
  std::unique_lock<std::mutex> lock(mu_);
  for (auto& [key, child] : children_) {
    if (child.pid > 0) TerminateLocked(key, child.pid);
  }
  children_.clear();
  cv_.notify_all();
  // The loop reaps and escalates to SIGKILL after the grace period.
  cv_.wait(lock, [this] { return dying_.empty(); });
}

std::optional<Supervisor::Info> Supervisor::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = children_.find(key);
  if (it == children_.end()) return std::nullopt;
  return Info{it->second.pid, it->second.starts};
}

int Supervisor::Stopping() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(dying_.size());
}

void Supervisor::SpawnLocked(const std::string& key, Child& child) {
  std::vector<char*> args;
  for (auto& a : child.argv) args.push_back(a.data());
  args.push_back(nullptr);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // Child: async-signal-safe calls only.
    ::setpgid(0, 0);
    // Die with the supervisor instead of lingering if the controller crashes.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (devnull >= 0) ::close(devnull);
  ++child.starts;
  if (pid < 0) {
    log::Error("proxy spawn failed", {{"key", key}, {"error", std::strerror(errno)}});
    child.pid = 0;
    child.backoff = std::clamp(child.backoff * 2, options_.backoff_min, options_.backoff_max);
    child.restart_at = Clock::now() + child.backoff;
    return;
  }
  // Also set from the parent so a signal to the group cannot race the child's setpgid.
  ::setpgid(pid, pid);
  child.pid = pid;
  child.started = Clock::now();
  log::Info("process started", {{"key", key}, {"pid", pid}, {"argv", ArgvJson(child.argv)}});
}

void Supervisor::TerminateLocked(const std::string& key, pid_t pid) {
  ::kill(-pid, SIGTERM);
  dying_.push_back(Dying{key, pid, Clock::now() + options_.stop_grace});
  log::Info("process stopping", {{"key", key}, {"pid", pid}});
}

void Supervisor::ReapLocked() {
  auto now = Clock::now();
  for (auto& [key, child] : children_) {
    if (child.pid <= 0) continue;
    int status = 0;
    pid_t r = ::waitpid(child.pid, &status, WNOHANG);
    if (r != child.pid) continue;
    // Take the rest of the group down too: nothing of a dead proxy may linger.
    ::kill(-child.pid, SIGKILL);
    bool stable = now - child.started >= options_.stable_after;
    child.backoff = stable
                        ? options_.backoff_min
                        : std::clamp(child.backoff * 2, options_.backoff_min, options_.backoff_max);
    child.restart_at = now + child.backoff;
    log::Warn("process exited, restarting",
              {{"key", key},
               {"pid", child.pid},
               {"how", ExitDescription(status)},
               {"restart_in_ms", static_cast<int64_t>(child.backoff.count())}});
    child.pid = 0;
  }
  for (auto it = dying_.begin(); it != dying_.end();) {
    int status = 0;
    pid_t r = ::waitpid(it->pid, &status, WNOHANG);
    if (r == it->pid || (r < 0 && errno == ECHILD)) {
      ::kill(-it->pid, SIGKILL);  // leftovers in its group
      log::Info("process stopped", {{"key", it->key}, {"pid", it->pid}});
      it = dying_.erase(it);
      continue;
    }
    if (!it->killed && now >= it->kill_at) {
      log::Warn("process ignored SIGTERM, killing", {{"key", it->key}, {"pid", it->pid}});
      ::kill(-it->pid, SIGKILL);
      it->killed = true;
    }
    ++it;
  }
}

void Supervisor::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    ReapLocked();
    auto now = Clock::now();
    for (auto& [key, child] : children_) {
      if (child.pid == 0 && now >= child.restart_at) SpawnLocked(key, child);
    }
    if (dying_.empty()) cv_.notify_all();  // StopAll waits for this
    cv_.wait_for(lock, options_.tick);
  }
}

}  // namespace gatehouse::infra
