// Writes objects the controller owns (the proxies' Deployments, Services,
// ServiceAccounts, EndpointSlices): server-side apply with field manager
// "gatehouse", delete, and label-selected lists. Blocking calls for worker
// threads; the requests run on the client's own I/O thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "controller/kube/kinds.h"
#include "controller/kube/kubeconfig.h"

namespace gatehouse::kube {

inline constexpr std::string_view kFieldManager = "gatehouse";

// The kinds the provisioners write.
const KindInfo& ServiceAccountKind();
const KindInfo& ServiceKind();
const KindInfo& DeploymentKind();
const KindInfo& EndpointSliceKind();
// Finds one of the kinds above by apiVersion and kind (nullptr: not one of them).
const KindInfo* ManagedKind(std::string_view api_version, std::string_view kind);

// The query of a server-side apply PATCH.
std::string ApplyQuery();

class ObjectClient {
 public:
  // Fails when the TLS material in `config` cannot be loaded.
  static absl::StatusOr<std::unique_ptr<ObjectClient>> Create(const KubeConfig& config);
  virtual ~ObjectClient() = default;

  // Server-side apply of `obj` (apiVersion, kind, metadata.name/namespace set):
  // fields this manager applied before and `obj` lacks are removed; conflicts
  // with other managers are forced. Returns the stored object.
  virtual absl::StatusOr<boost::json::object> Apply(const boost::json::object& obj) = 0;
  // Deletes the object (background propagation); absent is success.
  virtual absl::Status Delete(const KindInfo& kind, std::string_view ns, std::string_view name) = 0;
  // Objects of `kind` in `ns` ("" = every namespace) matching `label_selector`.
  virtual absl::StatusOr<std::vector<boost::json::object>> List(
      const KindInfo& kind, std::string_view ns, std::string_view label_selector) = 0;
};

}  // namespace gatehouse::kube
