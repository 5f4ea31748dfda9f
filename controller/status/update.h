// A desired status for one Kubernetes object, as the status writer sends it.
// Produced by the pure reconcile step; written by a Provider (the API server's
// status subresource, or a file for the directory source).
#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace gatehouse::status {

struct StatusUpdate {
  std::string api_version;  // e.g. "gateway.networking.k8s.io/v1"
  std::string kind;         // e.g. "Gateway"
  std::string ns;           // empty for cluster-scoped kinds
  std::string name;
  // The object's metadata.resourceVersion the status was computed from (optional
  // precondition for the writer).
  std::string resource_version;
  // The complete desired `status` stanza (not a diff). For route kinds it keeps
  // the parents entries of other controllers unchanged.
  boost::json::value status;
};

}  // namespace gatehouse::status
