#include "controller/kube/provider.h"

#include <unistd.h>

#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>

#include "absl/strings/str_cat.h"
#include "controller/kube/api_client.h"
#include "controller/kube/backoff.h"
#include "controller/kube/informer.h"
#include "controller/kube/json_util.h"
#include "controller/kube/kinds.h"
#include "controller/kube/leader.h"
#include "controller/kube/status_writer.h"
#include "controller/source/log.h"

namespace gatehouse::kube {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

using ServedResources = std::map<std::string, std::set<std::string>>;

// Epoch 0 marks objects read while some informer was resyncing: status
// computed from them is never written.
constexpr uint64_t kUnsyncedEpoch = 0;

std::string DefaultIdentity() {
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrCat(host[0] != '\0' ? host : "gatehouse", "_", getpid());
}

std::string DefaultLeaseNamespace(const KubeConfig& config) {
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns != nullptr && *ns != '\0') return ns;
  if (!config.ns.empty()) return config.ns;
  return "gatehouse-system";
}

// Names of the resources in an APIResourceList, without subresources.
std::set<std::string> ResourceNames(const json::object& list) {
  std::set<std::string> out;
  auto it = list.find("resources");
  if (it == list.end() || !it->value().is_array()) return out;
  for (const json::value& r : it->value().get_array()) {
    if (!r.is_object()) continue;
    const std::string_view name = StringField(r.get_object(), "name");
    if (!name.empty() && name.find('/') == std::string_view::npos) out.emplace(name);
  }
  return out;
}

class KubeProviderImpl final : public KubeProvider {
 public:
  KubeProviderImpl(KubeOptions options, std::unique_ptr<asio::io_context> ioc,
                   std::shared_ptr<ApiClient> client)
      : options_(std::move(options)), ioc_(std::move(ioc)), client_(std::move(client)) {
    writer_ = std::make_unique<StatusWriter>(
        ioc_->get_executor(), client_,
        StatusWriter::Hooks{
            .find_kind = [this](std::string_view api_version,
                                std::string_view kind) { return FindWatched(api_version, kind); },
            .get = [this](const KindInfo& k, std::string_view ns,
                          std::string_view name) { return GetCached(k, ns, name); },
            .may_write =
                [this](uint64_t epoch) {
                  return IsLeader() && HasSynced() && epoch == epoch_.load();
                }},
        options_.backoff_min, options_.backoff_max);
    if (options_.leader_elect) {
      LeaderOptions lo{
          .ns = options_.lease_namespace.empty() ? DefaultLeaseNamespace(options_.config)
                                                 : options_.lease_namespace,
          .name = options_.lease_name,
          .identity = options_.identity.empty() ? DefaultIdentity() : options_.identity,
          .lease_duration = options_.lease_duration,
          .renew_interval = options_.renew_interval,
          .renew_deadline = options_.renew_deadline};
      // Gaining or losing the Lease changes what the controller may do.
      leader_ = std::make_unique<LeaderElector>(client_, std::move(lo), [this](bool) { Poke(); });
    }
  }

  ~KubeProviderImpl() override { Stop(); }

  void Start(std::function<void()> on_change) override {
    std::lock_guard lock(state_mu_);
    if (started_ || stopped_) return;
    started_ = true;
    on_change_ = std::move(on_change);
    coalesce_timer_ = std::make_unique<asio::steady_timer>(*ioc_);
    Spawn(Main(), "main");
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(*ioc_);
      ioc_->run();
    });
  }

  std::vector<source::ObjectPtr> Objects() const override {
    const uint64_t epoch = epoch_.load();
    const bool synced = HasSynced();
    std::vector<source::ObjectPtr> out;
    {
      std::lock_guard lock(informers_mu_);
      for (const auto& inf : informers_) inf->AppendObjects(out);
    }
    // Remembered per thread: the controller reads objects, reconciles and
    // writes status on one thread, and other readers must not change the tag.
    std::lock_guard lock(epochs_mu_);
    objects_epoch_[std::this_thread::get_id()] =
        synced && epoch == epoch_.load() ? epoch : kUnsyncedEpoch;
    return out;
  }

  void WriteStatus(const std::vector<status::StatusUpdate>& updates) override {
    if (!IsLeader() || updates.empty()) return;
    uint64_t epoch = kUnsyncedEpoch;
    {
      std::lock_guard lock(epochs_mu_);
      auto it = objects_epoch_.find(std::this_thread::get_id());
      if (it != objects_epoch_.end()) epoch = it->second;
    }
    std::lock_guard lock(state_mu_);
    if (!started_ || stopped_) return;
    asio::post(*ioc_,
               [this, updates, epoch]() mutable { writer_->Enqueue(std::move(updates), epoch); });
  }

  void Stop() override {
    {
      std::lock_guard lock(state_mu_);
      if (!started_ || stopped_) {
        stopped_ = true;
        return;
      }
      stopped_ = true;
    }
    if (leader_ && leader_->IsLeader()) {
      // Hand the Lease over promptly; bounded so a dead API server cannot hang Stop.
      auto done = std::make_shared<std::promise<void>>();
      asio::co_spawn(*ioc_, leader_->Release(), [done](std::exception_ptr) { done->set_value(); });
      done->get_future().wait_for(std::chrono::seconds(2));
    }
    ioc_->stop();
    if (thread_.joinable()) thread_.join();
    // I/O objects must go before their io_context; destroying the io_context
    // then destroys the suspended coroutines while everything they point to is
    // still alive.
    coalesce_timer_.reset();
    client_->CloseIdle();
    ioc_.reset();
  }

  bool IsLeader() const override { return !leader_ || leader_->IsLeader(); }

  bool HasSynced() const override {
    if (!discovered_.load()) return false;
    std::lock_guard lock(informers_mu_);
    for (const auto& inf : informers_) {
      if (!inf->HasSynced()) return false;
    }
    return true;
  }

 private:
  template <class Awaitable>
  void Spawn(Awaitable a, std::string what) {
    asio::co_spawn(*ioc_, std::move(a), [what = std::move(what)](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log::Error("kube task ended", {{"task", what}, {"error", ex.what()}});
      }
    });
  }

  asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
    asio::steady_timer timer(co_await asio::this_coro::executor, d);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }

  asio::awaitable<absl::StatusOr<ServedResources>> Discover() {
    ServedResources out;
    const std::string group_path = absl::StrCat("/apis/", std::string(kGatewayGroup));
    auto group = co_await client_->Request(boost::beast::http::verb::get, group_path);
    if (!group.ok()) co_return group.status();
    if (group->status == 404) co_return out;  // Gateway API CRDs not installed (yet)
    if (group->status != 200) {
      co_return absl::UnavailableError(absl::StrCat("discovery: HTTP ", group->status));
    }
    json::error_code ec;
    json::value g = json::parse(group->body, ec);
    if (ec || !g.is_object()) co_return absl::DataLossError("discovery: bad APIGroup");
    auto versions = g.get_object().find("versions");
    if (versions == g.get_object().end() || !versions->value().is_array()) co_return out;
    for (const json::value& v : versions->value().get_array()) {
      if (!v.is_object()) continue;
      const std::string gv(StringField(v.get_object(), "groupVersion"));
      if (gv.empty()) continue;
      auto list = co_await client_->Request(boost::beast::http::verb::get, "/apis/" + gv);
      if (!list.ok()) co_return list.status();
      if (list->status == 404) continue;
      if (list->status != 200) {
        co_return absl::UnavailableError(absl::StrCat("discovery ", gv, ": HTTP ", list->status));
      }
      json::value l = json::parse(list->body, ec);
      if (ec || !l.is_object()) co_return absl::DataLossError("discovery: bad APIResourceList");
      out[gv] = ResourceNames(l.get_object());
    }
    co_return out;
  }

  asio::awaitable<void> Main() {
    Backoff backoff(options_.backoff_min, options_.backoff_max);
    for (;;) {
      auto served = co_await Discover();
      if (served.ok()) {
        AddKinds(ChooseKinds(*served));
        break;
      }
      const auto wait = backoff.Next();
      log::Warn("discovery failed",
                {{"error", served.status().ToString()}, {"retry_ms", wait.count()}});
      co_await Sleep(wait);
    }
    discovered_.store(true);
    if (leader_) Spawn(leader_->Run(), "leader election");
    Poke();
    // CRDs installed after start (or a newly served version) get informers too.
    for (;;) {
      co_await Sleep(options_.rediscovery_interval);
      auto served = co_await Discover();
      if (served.ok()) AddKinds(ChooseKinds(*served));
    }
  }

  // Executor thread.
  void AddKinds(const std::vector<KindInfo>& kinds) {
    InformerOptions io{.watch_timeout = options_.watch_timeout,
                       .backoff_min = options_.backoff_min,
                       .backoff_max = options_.backoff_max};
    for (const KindInfo& k : kinds) {
      Informer* added = nullptr;
      {
        std::lock_guard lock(informers_mu_);
        bool known = false;
        for (const auto& inf : informers_) {
          known = known || (inf->kind().group == k.group && inf->kind().resource == k.resource);
        }
        if (known) continue;
        informers_.push_back(
            std::make_unique<Informer>(k, client_, io,
                                       Informer::Hooks{.on_change = [this] { Poke(); },
                                                       .on_synced =
                                                           [this](bool synced) {
                                                             if (!synced) ++epoch_;
                                                             Poke();
                                                           }}));
        added = informers_.back().get();
      }
      log::Info("watching", {{"resource", k.resource}, {"apiVersion", k.ApiVersion()}});
      Spawn(added->Run(), "informer " + k.resource);
    }
  }

  // Executor thread. A change after a quiet window is reported at once (no
  // added latency); changes within the window after a report are coalesced into
  // one more on_change at its end. Nothing is reported until every informer synced.
  void Poke() {
    if (!HasSynced() || coalesce_armed_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now >= quiet_until_) {
      Report(now);
      return;
    }
    coalesce_armed_ = true;
    coalesce_timer_->expires_at(quiet_until_);
    coalesce_timer_->async_wait([this](boost::system::error_code ec) {
      coalesce_armed_ = false;
      if (!ec && HasSynced()) Report(std::chrono::steady_clock::now());
    });
  }

  void Report(std::chrono::steady_clock::time_point now) {
    quiet_until_ = now + options_.coalesce_window;
    if (on_change_) on_change_();
  }

  std::optional<KindInfo> FindWatched(std::string_view api_version, std::string_view kind) const {
    std::lock_guard lock(informers_mu_);
    for (const auto& inf : informers_) {
      if (inf->kind().group == GroupOf(api_version) && inf->kind().kind == kind) {
        return inf->kind();
      }
    }
    return std::nullopt;
  }

  ObjectPtr GetCached(const KindInfo& k, std::string_view ns, std::string_view name) const {
    std::lock_guard lock(informers_mu_);
    for (const auto& inf : informers_) {
      if (inf->kind().group == k.group && inf->kind().resource == k.resource) {
        return inf->Get(ns, name);
      }
    }
    return nullptr;
  }

  const KubeOptions options_;
  std::unique_ptr<asio::io_context> ioc_;
  std::shared_ptr<ApiClient> client_;
  std::unique_ptr<StatusWriter> writer_;
  std::unique_ptr<LeaderElector> leader_;
  std::function<void()> on_change_;

  mutable std::mutex informers_mu_;
  std::vector<std::unique_ptr<Informer>> informers_;
  std::atomic<bool> discovered_{false};
  // Incremented whenever an informer loses sync (events may have been missed).
  std::atomic<uint64_t> epoch_{1};
  // The epoch each thread's last Objects() call saw.
  mutable std::mutex epochs_mu_;
  mutable std::map<std::thread::id, uint64_t> objects_epoch_;

  std::unique_ptr<asio::steady_timer> coalesce_timer_;
  bool coalesce_armed_ = false;                        // executor thread only
  std::chrono::steady_clock::time_point quiet_until_;  // executor thread only

  std::mutex state_mu_;
  bool started_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<KubeProvider>> MakeKubeProvider(const KubeOptions& options) {
  auto ioc = std::make_unique<asio::io_context>(1);
  auto client = ApiClient::Create(ioc->get_executor(), options.config);
  if (!client.ok()) return client.status();
  return std::make_unique<KubeProviderImpl>(options, std::move(ioc), *std::move(client));
}

}  // namespace gatehouse::kube
