// The controller's reconcile loop: one thread that recomputes everything from
// the provider's objects and the infrastructure's state whenever something
// changed (a burst of triggers is one recompute), then publishes snapshots,
// provisions proxies and writes status.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "controller/infra/provisioner.h"
#include "controller/reconcile/reconcile.h"
#include "controller/source/provider.h"
#include "controller/stream/registry.h"

namespace gatehouse::cmd {

struct LoopOptions {
  source::Provider* provider = nullptr;
  stream::Registry* registry = nullptr;
  infra::Provisioner* provisioner = nullptr;
  // reconcile::Reconcile in production; tests inject a fake.
  std::function<reconcile::Outputs(const reconcile::Inputs&)> reconcile;
  std::string controller_name = "gatehouse.dev/gateway-controller";
  bool bind_to_gateway_addresses = true;
  // False while another replica leads: compute, but neither provision nor publish.
  std::function<bool()> may_act = [] { return true; };
  // RFC 3339 clock for condition timestamps (injected for tests).
  std::function<std::string()> now;
};

class Loop {
 public:
  explicit Loop(LoopOptions options);

  // Asks for a recompute; cheap, callable from any thread.
  void Trigger();
  // Runs passes until Stop(); blocks.
  void Run();
  void Stop();

  // One pass, synchronously; returns true when it asks for another pass
  // (the infrastructure changed under it, e.g. a new address was assigned).
  bool RunOnce();

  // The latest outputs, for the admin endpoint.
  std::map<std::string, gatehouse::config::v1::Snapshot> Snapshots() const;
  int Passes() const;

 private:
  reconcile::Inputs BuildInputs();

  LoopOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = false;
  bool stopping_ = false;
  int passes_ = 0;
  std::map<std::string, gatehouse::config::v1::Snapshot> snapshots_;
  // Last logged provisioning error and decode errors, to log changes only.
  std::map<std::string, std::string> ensure_errors_;
  // Per Gateway: why its requested addresses cannot be used ("" when they can).
  std::map<std::string, std::string> address_errors_;
  std::vector<std::string> decode_errors_;
};

}  // namespace gatehouse::cmd
