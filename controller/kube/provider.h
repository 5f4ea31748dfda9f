// The Kubernetes API server as a source::Provider: list+watch informers for the
// Gateway API and core kinds, status written through the status subresource, and
// optional leader election on a coordination.k8s.io Lease. `--source=kube`.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "controller/kube/kubeconfig.h"
#include "controller/source/provider.h"

namespace gatehouse::kube {

struct KubeOptions {
  KubeConfig config;

  // Leader election (`--leader-elect`). Without it the provider always leads.
  bool leader_elect = false;
  // Where the Lease lives. Empty: $POD_NAMESPACE, else the kubeconfig context's
  // namespace / the service account's namespace, else "gatehouse-system".
  std::string lease_namespace;
  std::string lease_name = "gatehouse-controller";
  // Empty: hostname + "_" + pid.
  std::string identity;
  std::chrono::milliseconds lease_duration{15000};
  std::chrono::milliseconds renew_interval{2000};
  // A leader that cannot renew for this long steps down.
  std::chrono::milliseconds renew_deadline{10000};

  // A watch event after this much quiet is reported at once; the events of the
  // following window are coalesced into one more on_change call at its end.
  std::chrono::milliseconds coalesce_window{50};
  // Server-side watch timeout; the informer re-watches when it ends. A random
  // jitter of up to the same amount is added, as client-go does.
  std::chrono::seconds watch_timeout{300};
  // Retry backoff for failed lists/watches/requests (exponential with jitter).
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{30000};
  // How often discovery is repeated so kinds whose CRDs appear later get watched.
  std::chrono::milliseconds rediscovery_interval{30000};
};

class KubeProvider : public source::Provider {
 public:
  // Start: `on_change` is called (from the provider's own thread) once after
  // every informer synced, after every coalesced burst of changes, and when
  // leadership is gained or lost. It must not block.
  //
  // WriteStatus: skips objects whose cached status already equals the desired
  // one, and writes nothing while any informer is resyncing, while this process
  // is not the leader, when the calling thread's last Objects() was read before
  // a resync or while unsynced, or when the update's resource_version is older
  // than the cache's (the next on_change recomputes). Call Objects() and
  // WriteStatus() from the same thread. It does not wait for the writes: they
  // run on the provider's thread.

  // True when this process may write status and provision proxies: always when
  // leader election is off; otherwise while it holds the Lease.
  virtual bool IsLeader() const = 0;

  // True once every watched kind has been listed and is not relisting.
  virtual bool HasSynced() const = 0;
};

// Fails only on unusable TLS material (CA, client certificate or key) or a bad
// server URL; an unreachable API server is retried in the background.
absl::StatusOr<std::unique_ptr<KubeProvider>> MakeKubeProvider(const KubeOptions& options);

}  // namespace gatehouse::kube
