// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: the
// holder renews spec.renewTime every renew interval; a candidate takes the
// Lease over once it has seen the same record unchanged for a whole lease
// duration (measured on its own clock, so clock skew between nodes is harmless).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "controller/kube/api_client.h"

namespace gatehouse::kube {

struct LeaderOptions {
  std::string ns;
  std::string name;
  std::string identity;
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_interval{2000};
  std::chrono::milliseconds renew_deadline{10000};
};

class LeaderElector {
 public:
  LeaderElector(std::shared_ptr<ApiClient> client, LeaderOptions options,
                std::function<void(bool)> on_change);

  // Acquires and renews forever (until the executor stops).
  boost::asio::awaitable<void> Run();
  // Gives the Lease up if held, so a successor does not wait a lease duration.
  boost::asio::awaitable<void> Release();

  bool IsLeader() const { return leader_.load(); }

  // Formats a time as a Kubernetes MicroTime (RFC 3339, microseconds, UTC).
  static std::string MicroTime(std::chrono::system_clock::time_point t);

 private:
  enum class Attempt { kHeld, kHeldByOther, kFailed };
  boost::asio::awaitable<Attempt> TryAcquireOrRenew();
  std::string LeasePath() const;
  void SetLeader(bool leader, bool released = false);
  boost::json::object Lease(const std::string& resource_version, boost::json::object spec) const;

  std::shared_ptr<ApiClient> client_;
  LeaderOptions options_;
  std::function<void(bool)> on_change_;
  std::atomic<bool> leader_{false};
  // The last record seen from another holder and when (local clock) it changed.
  std::string observed_record_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::string acquire_time_;  // ours, kept across renewals
};

}  // namespace gatehouse::kube
