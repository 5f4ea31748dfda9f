#include "proxy/listener/manager.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "absl/strings/str_cat.h"
#include "proxy/admin/log.h"

namespace gatehouse::proxy::listener {
namespace {

namespace asio = boost::asio;
namespace pb = ::gatehouse::config::v1;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

void SetInt(int fd, int level, int opt, int value) {
  ::setsockopt(fd, level, opt, &value, sizeof(value));
}

// Opens one bound socket for `key`. Listeners may name an address that is not (yet)
// configured on the host (provisioned Gateway addresses); IP_FREEBIND lets the bind
// succeed and traffic flows once the address appears.
absl::StatusOr<int> OpenSocket(const config::ListenerKey& key) {
  bool udp = key.protocol == pb::UDP;
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET6;
  if (key.address.empty()) {
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    a6->sin6_family = AF_INET6;
    a6->sin6_addr = in6addr_any;
    a6->sin6_port = htons(static_cast<uint16_t>(key.port));
    len = sizeof(sockaddr_in6);
  } else {
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* a6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, key.address.c_str(), &a4->sin_addr) == 1) {
      family = AF_INET;
      a4->sin_family = AF_INET;
      a4->sin_port = htons(static_cast<uint16_t>(key.port));
      len = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, key.address.c_str(), &a6->sin6_addr) == 1) {
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons(static_cast<uint16_t>(key.port));
      len = sizeof(sockaddr_in6);
    } else {
      return absl::InvalidArgumentError(absl::StrCat(key.ToString(), ": invalid address"));
    }
  }
  int fd = ::socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 && key.address.empty() && errno == EAFNOSUPPORT) {
    // No IPv6 on this host: all IPv4 addresses instead.
    family = AF_INET;
    auto* a4 = reinterpret_cast<sockaddr_in*>(&ss);
    std::memset(&ss, 0, sizeof(ss));
    a4->sin_family = AF_INET;
    a4->sin_addr.s_addr = htonl(INADDR_ANY);
    a4->sin_port = htons(static_cast<uint16_t>(key.port));
    len = sizeof(sockaddr_in);
    fd = ::socket(family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) {
    return absl::InternalError(absl::StrCat(key.ToString(), ": socket: ", std::strerror(errno)));
  }
  SetInt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  SetInt(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  if (family == AF_INET6) {
    SetInt(fd, IPPROTO_IPV6, IPV6_V6ONLY, key.address.empty() ? 0 : 1);
    SetInt(fd, IPPROTO_IPV6, IPV6_FREEBIND, 1);
  } else {
    SetInt(fd, IPPROTO_IP, IP_FREEBIND, 1);
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    int err = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat(key.ToString(), ": bind: ", std::strerror(err)));
  }
  if (!udp && ::listen(fd, 4096) != 0) {
    int err = errno;
    ::close(fd);
    return absl::UnavailableError(absl::StrCat(key.ToString(), ": listen: ", std::strerror(err)));
  }
  return fd;
}

asio::awaitable<void> AcceptLoop(Worker& worker, std::shared_ptr<ListenerRuntime> rt,
                                 ListenerManager::TcpHandler handler) {
  asio::steady_timer backoff(worker.io());
  while (rt->acceptor && rt->acceptor->is_open()) {
    auto [ec, socket] = co_await rt->acceptor->async_accept(worker.io(), kTuple);
    if (ec == asio::error::operation_aborted || rt->draining()) break;
    if (ec) {
      // Out of descriptors or a transient error: do not spin.
      log::Warn("accept failed", {{"listener", rt->key().ToString()}, {"error", ec.message()}});
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kTuple);
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    handler(worker, rt, std::move(socket));
  }
}

}  // namespace

ListenerManager::ListenerManager(std::vector<Worker*> workers, TcpHandler tcp, UdpHandler udp)
    : workers_(std::move(workers)), tcp_(std::move(tcp)), udp_(std::move(udp)) {}

ListenerManager::~ListenerManager() { Abandon(); }

absl::Status ListenerManager::Prepare(const config::Tables& next) {
  std::lock_guard<std::mutex> lock(mu_);
  pending_add_.clear();
  pending_remove_.clear();
  for (const auto& l : next.listeners) {
    bool exists =
        std::any_of(open_.begin(), open_.end(), [&](const auto& o) { return o->key == l.key; });
    if (exists) continue;
    auto open = std::make_unique<Open>();
    open->key = l.key;
    for (size_t i = 0; i < workers_.size(); ++i) {
      auto fd = OpenSocket(l.key);
      if (!fd.ok()) {
        for (int f : open->fds) ::close(f);
        for (auto& p : pending_add_) {
          for (int f : p->fds) ::close(f);
        }
        pending_add_.clear();
        return fd.status();
      }
      open->fds.push_back(*fd);
    }
    pending_add_.push_back(std::move(open));
  }
  for (const auto& o : open_) {
    if (next.FindListener(o->key) == nullptr) pending_remove_.push_back(o->key);
  }
  return absl::OkStatus();
}

void ListenerManager::Abandon() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& p : pending_add_) {
    for (int f : p->fds) {
      if (f >= 0) ::close(f);
    }
  }
  pending_add_.clear();
  pending_remove_.clear();
}

void ListenerManager::Commit() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& open : pending_add_) {
    bool udp = open->key.protocol == pb::UDP;
    for (size_t i = 0; i < workers_.size(); ++i) {
      Worker* w = workers_[i];
      auto rt = std::make_shared<ListenerRuntime>(open->key);
      open->runtimes.push_back(rt);
      int fd = open->fds[i];
      open->fds[i] = -1;  // owned by the worker's socket from here on
      asio::post(w->io(), [this, w, rt, fd, udp] {
        boost::system::error_code ec;
        bool v6 = false;
        sockaddr_storage ss{};
        socklen_t len = sizeof(ss);
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
          v6 = ss.ss_family == AF_INET6;
        if (udp) {
          rt->udp.emplace(w->io());
          rt->udp->assign(v6 ? asio::ip::udp::v6() : asio::ip::udp::v4(), fd, ec);
          if (!ec) udp_(*w, rt);
        } else {
          rt->acceptor.emplace(w->io());
          rt->acceptor->assign(v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd, ec);
          if (!ec) asio::co_spawn(w->io(), AcceptLoop(*w, rt, tcp_), asio::detached);
        }
        if (ec) {
          ::close(fd);
          log::Error("listener assign failed",
                     {{"listener", rt->key().ToString()}, {"error", ec.message()}});
        }
      });
    }
    log::Info("listener opened", {{"listener", open->key.ToString()}});
    open_.push_back(std::move(open));
  }
  pending_add_.clear();
  for (const auto& key : pending_remove_) {
    auto it =
        std::find_if(open_.begin(), open_.end(), [&](const auto& o) { return o->key == key; });
    if (it == open_.end()) continue;
    std::unique_ptr<Open> gone = std::move(*it);
    open_.erase(it);
    log::Info("listener draining", {{"listener", key.ToString()}});
    Drain(std::move(gone));
  }
  pending_remove_.clear();
}

void ListenerManager::Drain(std::unique_ptr<Open> open) {
  for (size_t i = 0; i < open->runtimes.size() && i < workers_.size(); ++i) {
    Worker* w = workers_[i];
    auto rt = open->runtimes[i];
    asio::post(w->io(), [w, rt] {
      rt->StartDrain();
      auto timer = std::make_shared<asio::steady_timer>(w->io(), w->limits().drain_timeout);
      timer->async_wait([timer, rt](boost::system::error_code) {
        if (rt->connection_count() > 0) {
          log::Info("listener drain timeout",
                    {{"listener", rt->key().ToString()},
                     {"closed", static_cast<int64_t>(rt->connection_count())}});
        }
        rt->AbortAll();
      });
    });
  }
}

void ListenerManager::Shutdown() {
  std::vector<std::unique_ptr<Open>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all = std::move(open_);
    open_.clear();
  }
  for (auto& o : all) Drain(std::move(o));
}

std::vector<config::ListenerKey> ListenerManager::OpenKeys() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<config::ListenerKey> keys;
  for (const auto& o : open_) keys.push_back(o->key);
  return keys;
}

}  // namespace gatehouse::proxy::listener
