#include "controller/kube/leader.h"

#include <ctime>
#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "controller/kube/json_util.h"
#include "controller/source/log.h"

namespace gatehouse::kube {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http_verb = boost::beast::http::verb;

int64_t IntField(const json::object& o, std::string_view key, int64_t fallback) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().get_int64() : fallback;
}

}  // namespace

LeaderElector::LeaderElector(std::shared_ptr<ApiClient> client, LeaderOptions options,
                             std::function<void(bool)> on_change)
    : client_(std::move(client)), options_(std::move(options)), on_change_(std::move(on_change)) {}

std::string LeaderElector::MicroTime(std::chrono::system_clock::time_point t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                         static_cast<int>(micros % 1000000));
}

std::string LeaderElector::LeasePath() const {
  return absl::StrCat("/apis/coordination.k8s.io/v1/namespaces/", options_.ns, "/leases/",
                      options_.name);
}

json::object LeaderElector::Lease(const std::string& resource_version, json::object spec) const {
  json::object meta{{"name", options_.name}, {"namespace", options_.ns}};
  if (!resource_version.empty()) meta["resourceVersion"] = resource_version;
  return {{"apiVersion", "coordination.k8s.io/v1"},
          {"kind", "Lease"},
          {"metadata", std::move(meta)},
          {"spec", std::move(spec)}};
}

void LeaderElector::SetLeader(bool leader, bool released) {
  if (leader_.exchange(leader) == leader) return;
  if (released) {
    log::Info("released lease",
              {{"lease", options_.ns + "/" + options_.name}, {"identity", options_.identity}});
  } else if (leader) {
    log::Info("became leader",
              {{"lease", options_.ns + "/" + options_.name}, {"identity", options_.identity}});
  } else {
    log::Warn("lost leadership",
              {{"lease", options_.ns + "/" + options_.name}, {"identity", options_.identity}});
  }
  if (on_change_) on_change_(leader);
}

asio::awaitable<LeaderElector::Attempt> LeaderElector::TryAcquireOrRenew() {
  const auto now_wall = std::chrono::system_clock::now();
  const auto now = std::chrono::steady_clock::now();
  const int64_t duration_s =
      std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count();
  auto got = co_await client_->Request(http_verb::get, LeasePath());
  if (!got.ok()) co_return Attempt::kFailed;

  if (got->status == 404) {
    acquire_time_ = MicroTime(now_wall);
    json::object spec{{"holderIdentity", options_.identity},
                      {"leaseDurationSeconds", duration_s},
                      {"acquireTime", acquire_time_},
                      {"renewTime", acquire_time_},
                      {"leaseTransitions", 0}};
    auto created = co_await client_->Request(
        http_verb::post,
        absl::StrCat("/apis/coordination.k8s.io/v1/namespaces/", options_.ns, "/leases"),
        json::serialize(Lease("", std::move(spec))), "application/json");
    co_return created.ok() && (created->status == 201 || created->status == 200) ? Attempt::kHeld
                                                                                 : Attempt::kFailed;
  }
  if (got->status != 200) co_return Attempt::kFailed;

  json::error_code ec;
  json::value v = json::parse(got->body, ec);
  if (ec || !v.is_object()) co_return Attempt::kFailed;
  const std::string rv(MetaField(v.get_object(), "resourceVersion"));
  const json::object* spec_in = ObjectField(v.get_object(), "spec");
  json::object spec = spec_in != nullptr ? *spec_in : json::object();
  const std::string holder(StringField(spec, "holderIdentity"));
  int64_t transitions = IntField(spec, "leaseTransitions", 0);

  if (holder != options_.identity) {
    const std::string record = json::serialize(spec);
    if (record != observed_record_) {
      observed_record_ = record;
      observed_at_ = now;
    }
    const auto their_duration =
        std::chrono::seconds(IntField(spec, "leaseDurationSeconds", duration_s));
    if (!holder.empty() && now < observed_at_ + their_duration) co_return Attempt::kHeldByOther;
    acquire_time_ = MicroTime(now_wall);
    ++transitions;
  } else if (acquire_time_.empty()) {
    acquire_time_ = std::string(StringField(spec, "acquireTime"));
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = duration_s;
  spec["acquireTime"] = acquire_time_;
  spec["renewTime"] = MicroTime(now_wall);
  spec["leaseTransitions"] = transitions;
  // The resourceVersion makes this a compare-and-swap: two candidates taking
  // over at once cannot both succeed.
  auto put = co_await client_->Request(
      http_verb::put, LeasePath(), json::serialize(Lease(rv, std::move(spec))), "application/json");
  if (put.ok() && put->status == 200) co_return Attempt::kHeld;
  co_return put.ok() && put->status == 409 ? Attempt::kHeldByOther : Attempt::kFailed;
}

asio::awaitable<void> LeaderElector::Run() {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(1.0, 1.2);
  auto last_renew = std::chrono::steady_clock::now();
  bool failing = false;
  for (;;) {
    const Attempt a = co_await TryAcquireOrRenew();
    const auto now = std::chrono::steady_clock::now();
    // Logged on the transition only: a missing RBAC rule would fail every tick.
    if ((a == Attempt::kFailed) != failing) {
      failing = a == Attempt::kFailed;
      if (failing) {
        log::Warn("lease request failing", {{"lease", options_.ns + "/" + options_.name}});
      } else {
        log::Info("lease requests work again", {{"lease", options_.ns + "/" + options_.name}});
      }
    }
    if (a == Attempt::kHeld) {
      last_renew = now;
      SetLeader(true);
    } else if (a == Attempt::kHeldByOther ||
               (IsLeader() && now - last_renew >= options_.renew_deadline)) {
      SetLeader(false);
    }
    auto wait = options_.renew_interval;
    if (!IsLeader()) {
      wait = std::chrono::duration_cast<std::chrono::milliseconds>(wait * jitter(rng));
    }
    asio::steady_timer timer(co_await asio::this_coro::executor, wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> LeaderElector::Release() {
  if (!IsLeader()) co_return;
  auto got = co_await client_->Request(http_verb::get, LeasePath());
  if (got.ok() && got->status == 200) {
    json::error_code ec;
    json::value v = json::parse(got->body, ec);
    const json::object* spec_in =
        !ec && v.is_object() ? ObjectField(v.get_object(), "spec") : nullptr;
    if (spec_in != nullptr && StringField(*spec_in, "holderIdentity") == options_.identity) {
      json::object spec = *spec_in;
      spec.erase("holderIdentity");
      spec["leaseDurationSeconds"] = 1;
      spec["renewTime"] = MicroTime(std::chrono::system_clock::now());
      co_await client_->Request(
          http_verb::put, LeasePath(),
          json::serialize(
              Lease(std::string(MetaField(v.get_object(), "resourceVersion")), std::move(spec))),
          "application/json");
    }
  }
  SetLeader(false, /*released=*/true);
}

}  // namespace gatehouse::kube
