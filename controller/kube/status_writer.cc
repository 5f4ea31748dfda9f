#include "controller/kube/status_writer.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "controller/kube/backoff.h"
#include "controller/kube/json_util.h"
#include "controller/source/log.h"

namespace gatehouse::kube {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr int kMaxAttempts = 5;

// A missing status and an empty one are the same thing to the API server.
bool SameStatus(const json::value& a, const json::value& b) {
  auto empty = [](const json::value& v) {
    return v.is_null() || (v.is_object() && v.get_object().empty());
  };
  if (empty(a) || empty(b)) return empty(a) && empty(b);
  return a == b;
}

json::value StatusOf(const json::object& obj) {
  auto it = obj.find("status");
  return it == obj.end() ? json::value() : it->value();
}

std::string Key(const status::StatusUpdate& u) {
  return absl::StrCat(std::string(GroupOf(u.api_version)), "/", u.kind, "/", u.ns, "/", u.name);
}

}  // namespace

WriteDecision DecideWrite(const json::object* cached, const status::StatusUpdate& update,
                          const LastWrite* last) {
  if (cached == nullptr) return WriteDecision::kGone;
  if (!update.resource_version.empty() &&
      MetaField(*cached, "resourceVersion") != update.resource_version) {
    return WriteDecision::kStale;
  }
  const json::value current = StatusOf(*cached);
  if (SameStatus(current, update.status)) return WriteDecision::kEqual;
  if (last != nullptr && SameStatus(last->desired, update.status) &&
      SameStatus(last->stored, current)) {
    return WriteDecision::kAlreadyWritten;
  }
  return WriteDecision::kWrite;
}

json::object StatusPatch(const json::value& current, const json::value& desired,
                         std::string_view resource_version) {
  json::object patch;
  if (!resource_version.empty()) patch["metadata"] = {{"resourceVersion", resource_version}};
  if (!desired.is_object()) {
    patch["status"] = desired;
    return patch;
  }
  json::object status = desired.get_object();
  if (current.is_object()) {
    for (const auto& [key, value] : current.get_object()) {
      if (!status.contains(key)) status[key] = nullptr;
    }
  }
  patch["status"] = std::move(status);
  return patch;
}

StatusWriter::StatusWriter(asio::any_io_executor ex, std::shared_ptr<ApiClient> client, Hooks hooks,
                           std::chrono::milliseconds backoff_min,
                           std::chrono::milliseconds backoff_max)
    : ex_(std::move(ex)),
      client_(std::move(client)),
      hooks_(std::move(hooks)),
      backoff_min_(backoff_min),
      backoff_max_(backoff_max) {}

StatusWriter::Stats StatusWriter::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void StatusWriter::Enqueue(std::vector<status::StatusUpdate> updates, uint64_t epoch) {
  for (auto& u : updates) {
    std::string key = Key(u);
    const uint64_t seq = ++seq_;
    latest_seq_[key] = seq;
    auto [it, inserted] = queue_.insert_or_assign(key, Pending{std::move(u), epoch, seq});
    if (inserted) order_.push_back(std::move(key));
  }
  if (!draining_ && !order_.empty()) {
    draining_ = true;
    asio::co_spawn(ex_, Drain(), asio::detached);
  }
}

asio::awaitable<void> StatusWriter::Drain() {
  while (!order_.empty()) {
    const std::string key = std::move(order_.front());
    order_.pop_front();
    auto it = queue_.find(key);
    if (it == queue_.end()) continue;
    Pending p = std::move(it->second);
    queue_.erase(it);
    co_await WriteOne(std::move(p));
  }
  draining_ = false;
}

asio::awaitable<void> StatusWriter::WriteOne(Pending p) {
  const status::StatusUpdate& u = p.update;
  const std::string key = Key(u);
  auto count = [this](int Stats::*field) {
    std::lock_guard lock(stats_mu_);
    ++(stats_.*field);
  };
  auto kind = hooks_.find_kind(u.api_version, u.kind);
  if (!kind) {
    log::Warn("status for a kind that is not watched", {{"kind", u.kind}, {"name", u.name}});
    count(&Stats::failed);
    co_return;
  }
  Backoff backoff(backoff_min_, backoff_max_);
  for (int attempt = 1;; ++attempt) {
    // Rechecked before every attempt: leadership or sync may have been lost, or
    // a newer desired status for this object may be queued.
    if (!hooks_.may_write(p.epoch) || latest_seq_[key] != p.seq) {
      count(&Stats::stale);
      co_return;
    }
    ObjectPtr cached = hooks_.get(*kind, u.ns, u.name);
    auto last = last_.find(key);
    const WriteDecision decision =
        DecideWrite(cached.get(), u, last == last_.end() ? nullptr : &last->second);
    if (decision == WriteDecision::kEqual || decision == WriteDecision::kAlreadyWritten) {
      count(&Stats::skipped);
      co_return;
    }
    if (decision != WriteDecision::kWrite) {
      count(&Stats::stale);
      co_return;
    }
    const json::value current = StatusOf(*cached);
    const std::string body = json::serialize(StatusPatch(current, u.status, u.resource_version));
    const std::string path = kind->ObjectPath(u.ns, u.name) + "/status";
    auto res = co_await client_->Request(boost::beast::http::verb::patch, path, body,
                                         "application/merge-patch+json");
    if (res.ok() && res->status == 200) {
      json::error_code ec;
      json::value stored = json::parse(res->body, ec);
      last_[key] = LastWrite{
          u.status, !ec && stored.is_object() ? StatusOf(stored.get_object()) : json::value()};
      count(&Stats::written);
      log::Info("status written", {{"kind", u.kind}, {"namespace", u.ns}, {"name", u.name}});
      co_return;
    }
    if (res.ok() && res->status == 409) {
      // The object changed after the status was computed; its watch event
      // triggers a recompute from the new object, which writes instead.
      count(&Stats::conflicts);
      log::Info("status conflict, awaiting recompute",
                {{"kind", u.kind}, {"namespace", u.ns}, {"name", u.name}});
      co_return;
    }
    const bool retryable = !res.ok() || res->status == 429 || res->status >= 500;
    const std::string error =
        res.ok() ? absl::StrCat("HTTP ", res->status, ": ", res->body.substr(0, 300))
                 : res.status().ToString();
    if (!retryable || attempt >= kMaxAttempts) {
      count(&Stats::failed);
      log::Error("status write failed",
                 {{"kind", u.kind}, {"namespace", u.ns}, {"name", u.name}, {"error", error}});
      co_return;
    }
    const auto wait = backoff.Next();
    log::Warn("status write retry", {{"kind", u.kind},
                                     {"namespace", u.ns},
                                     {"name", u.name},
                                     {"error", error},
                                     {"retry_ms", wait.count()}});
    asio::steady_timer timer(ex_, wait);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace gatehouse::kube
