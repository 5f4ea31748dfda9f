#include "controller/kube/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

extern char** environ;

namespace gatehouse::kube {
namespace {

struct Output {
  std::string out, err;
  int status = 0;
};

// Runs argv with extra environment, no stdin; collects stdout/stderr until both
// close or the deadline passes (then the child is killed).
absl::StatusOr<Output> Run(const std::vector<std::string>& argv,
                           const std::vector<std::string>& extra_env, absl::Duration timeout) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return absl::InternalError(std::strerror(errno));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return absl::InternalError(std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);

  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& e : extra_env) env_strings.push_back(e);
  std::vector<char*> envp, args;
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_copy = argv;
  for (auto& a : argv_copy) args.push_back(a.data());
  args.push_back(nullptr);

  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(rc)));
  }

  Output o;
  const absl::Time deadline = absl::Now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  bool timed_out = false;
  while (open_fds > 0) {
    const int64_t left = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t r = ::read(fds[i].fd, buf, sizeof(buf));
      if (r > 0) {
        (i == 0 ? o.out : o.err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  while (::waitpid(pid, &o.status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return absl::DeadlineExceededError(
        absl::StrCat(argv[0], " did not finish within ", absl::FormatDuration(timeout)));
  }
  return o;
}

std::string CacheKey(const ExecConfig& exec) {
  std::string key = absl::StrCat(exec.api_version, "\n", exec.command, "\n",
                                 absl::StrJoin(exec.args, "\n"), "\n");
  for (const auto& [k, v] : exec.env) absl::StrAppend(&key, k, "=", v, "\n");
  return key;
}

}  // namespace

absl::StatusOr<ExecToken> RunExecPlugin(const ExecConfig& exec, absl::Duration timeout) {
  if (exec.command.empty()) return absl::InvalidArgumentError("exec credential: no command");
  const std::string api_version =
      exec.api_version.empty() ? "client.authentication.k8s.io/v1" : exec.api_version;
  std::vector<std::string> argv = {exec.command};
  argv.insert(argv.end(), exec.args.begin(), exec.args.end());
  std::vector<std::string> env;
  for (const auto& [k, v] : exec.env) env.push_back(absl::StrCat(k, "=", v));
  env.push_back(absl::StrCat(R"(KUBERNETES_EXEC_INFO={"apiVersion":")", api_version,
                             R"(","kind":"ExecCredential","spec":{"interactive":false}})"));
  auto out = Run(argv, env, timeout);
  if (!out.ok()) return out.status();
  if (!WIFEXITED(out->status) || WEXITSTATUS(out->status) != 0) {
    return absl::UnauthenticatedError(
        absl::StrCat("exec credential plugin ", exec.command, " failed (status ",
                     WIFEXITED(out->status) ? WEXITSTATUS(out->status) : -1, "): ", out->err));
  }
  YAML::Node doc;
  try {
    doc = YAML::Load(out->out);  // JSON is YAML
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("exec credential plugin ", exec.command, ": output is not JSON: ", e.what()));
  }
  if (!doc.IsMap() || !doc["kind"] || doc["kind"].as<std::string>("") != "ExecCredential") {
    return absl::InvalidArgumentError(
        absl::StrCat("exec credential plugin ", exec.command, ": output is not an ExecCredential"));
  }
  const YAML::Node status = doc["status"];
  ExecToken t;
  if (status && status.IsMap() && status["token"] && status["token"].IsScalar()) {
    t.token = status["token"].as<std::string>();
  }
  if (t.token.empty()) {
    return absl::UnimplementedError(
        absl::StrCat("exec credential plugin ", exec.command,
                     " gave no status.token (client certificates from plugins are not supported)"));
  }
  if (status["expirationTimestamp"] && status["expirationTimestamp"].IsScalar()) {
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, status["expirationTimestamp"].as<std::string>(),
                         &t.expires, &err)) {
      return absl::InvalidArgumentError(absl::StrCat("exec credential plugin ", exec.command,
                                                     ": bad expirationTimestamp: ", err));
    }
  }
  return t;
}

struct TokenCache {
  std::mutex mu;
  std::map<std::string, ExecToken> tokens;
};

TokenCache& Cache() {
  static TokenCache* cache = new TokenCache();  // never destroyed: used until exit
  return *cache;
}

absl::StatusOr<std::string> ExecTokenCached(const ExecConfig& exec, absl::Duration max_age) {
  TokenCache& c = Cache();
  auto* cache = &c.tokens;
  const std::string key = CacheKey(exec);
  // One plugin run at a time: concurrent connections wait for the same token.
  std::lock_guard lock(c.mu);
  const absl::Time now = absl::Now();
  if (auto it = cache->find(key);
      it != cache->end() && it->second.expires - absl::Minutes(1) > now) {
    return it->second.token;
  }
  auto t = RunExecPlugin(exec);
  if (!t.ok()) {
    cache->erase(key);
    return t.status();
  }
  if (t->expires == absl::InfiniteFuture()) t->expires = now + max_age;
  (*cache)[key] = *t;
  return t->token;
}

void ForgetExecToken(const ExecConfig& exec) {
  TokenCache& c = Cache();
  std::lock_guard lock(c.mu);
  c.tokens.erase(CacheKey(exec));
}

}  // namespace gatehouse::kube
