#include "controller/cmd/loop.h"

#include <set>
#include <utility>

#include "controller/infra/gateway_info.h"
#include "controller/source/log.h"

namespace gatehouse::cmd {

Loop::Loop(LoopOptions options) : options_(std::move(options)) {
  if (!options_.now) options_.now = [] { return log::NowRfc3339(); };
}

void Loop::Trigger() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
  }
  cv_.notify_all();
}

void Loop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
}

void Loop::Run() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return dirty_ || stopping_; });
      if (stopping_) return;
      dirty_ = false;  // triggers from now on ask for one more pass
    }
    if (RunOnce()) Trigger();
  }
}

std::map<std::string, gatehouse::config::v1::Snapshot> Loop::Snapshots() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshots_;
}

int Loop::Passes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return passes_;
}

reconcile::Inputs Loop::BuildInputs() {
  reconcile::Inputs in;
  in.objects = options_.provider->Objects();
  in.controller_name = options_.controller_name;
  in.now = options_.now();
  in.bind_to_gateway_addresses = options_.bind_to_gateway_addresses;
  // Provisioners that publish addresses from Services read them here.
  options_.provisioner->Observe(in.objects);
  for (const auto& gw : options_.provisioner->Gateways()) {
    in.infra[gw].addresses = options_.provisioner->Addresses(gw);
  }
  for (const auto& [gw, err] : address_errors_) {
    if (!err.empty()) in.infra[gw].address_error = err;
  }
  for (const auto& [gw, st] : options_.registry->States()) {
    reconcile::GatewayInfra& infra = in.infra[gw];
    infra.acked_version = st.acked_version;
    infra.nacked_version = st.nacked_version;
    infra.nack_error = st.nack_error;
  }
  return in;
}

bool Loop::RunOnce() {
  reconcile::Inputs in = BuildInputs();
  reconcile::Outputs out = options_.reconcile(in);
  bool again = false;

  if (out.decode_errors != decode_errors_) {
    for (const auto& e : out.decode_errors) log::Warn("object not decoded", {{"error", e}});
    decode_errors_ = out.decode_errors;
  }

  if (options_.may_act()) {
    // Proxies for every Gateway of ours; none for the rest.
    const auto gateway_objects = infra::GatewaysByKey(in.objects);
    for (const auto& [gw, spec_addresses] : out.gateways) {
      auto object = gateway_objects.find(gw);
      auto snapshot = out.snapshots.find(gw);
      absl::Status st = options_.provisioner->EnsureGateway(infra::MakeGatewayInfo(
          gw, object == gateway_objects.end() ? nullptr : object->second.get(),
          snapshot == out.snapshots.end() ? nullptr : &snapshot->second, spec_addresses));
      std::string err = st.ok() ? "" : std::string(st.message());
      // Requested addresses this provisioner cannot use: AddressNotUsable.
      std::string address_error =
          st.code() == absl::StatusCode::kFailedPrecondition ? err : std::string();
      if (address_errors_[gw] != address_error) again = true;
      address_errors_[gw] = address_error;
      if (ensure_errors_[gw] != err) {
        if (st.ok()) {
          log::Info("gateway provisioned", {{"gateway", gw}});
        } else {
          log::Warn("gateway not provisioned", {{"gateway", gw}, {"error", err}});
        }
        ensure_errors_[gw] = err;
      }
      // A new or changed address feeds the listeners and status.addresses.
      auto before = in.infra.find(gw);
      auto now = options_.provisioner->Addresses(gw);
      if (before == in.infra.end() ? !now.empty() : before->second.addresses != now) again = true;
    }
    for (const auto& gw : options_.provisioner->Gateways()) {
      if (out.gateways.count(gw)) continue;
      log::Info("gateway deprovisioned", {{"gateway", gw}});
      options_.provisioner->Remove(gw);
      ensure_errors_.erase(gw);
      address_errors_.erase(gw);
      again = true;
    }

    for (const auto& [gw, snapshot] : out.snapshots) {
      auto current = options_.registry->Current(gw);
      if (current && current->version() == snapshot.version()) continue;
      log::Info("snapshot published", {{"gateway", gw},
                                       {"version", snapshot.version()},
                                       {"listeners", snapshot.listeners_size()},
                                       {"clusters", snapshot.clusters_size()}});
      options_.registry->Publish(gw, std::make_shared<gatehouse::config::v1::Snapshot>(snapshot));
    }
    for (const auto& [gw, st] : options_.registry->States()) {
      if (!st.current_version.empty() && !out.snapshots.count(gw)) options_.registry->Remove(gw);
    }
  }

  options_.provider->WriteStatus(out.status);

  std::lock_guard<std::mutex> lock(mu_);
  ++passes_;
  snapshots_ = std::move(out.snapshots);
  return again;
}

}  // namespace gatehouse::cmd
