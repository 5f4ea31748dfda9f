// The table of kinds Gatehouse watches (group, resource, kind, scope, versions in
// preference order) and the choice of served versions from API discovery. The
// same table maps a kind to the REST paths the informers and the status writer
// use.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::kube {

inline constexpr std::string_view kGatewayGroup = "gateway.networking.k8s.io";

struct KindInfo {
  std::string group;  // "" for the core group
  std::string version;
  std::string resource;  // plural, lower case
  std::string kind;
  bool namespaced = true;

  // "v1" or "group/version", as in an object's apiVersion.
  std::string ApiVersion() const;
  // /api/v1/services or /apis/g/v/resource (all namespaces).
  std::string CollectionPath() const;
  // The object's path; `ns` is ignored for cluster-scoped kinds.
  std::string ObjectPath(std::string_view ns, std::string_view name) const;
};

struct WatchedKind {
  std::string group;
  std::string resource;
  std::string kind;
  bool namespaced;
  // Preferred first. Core kinds are assumed served (every cluster has them).
  std::vector<std::string> versions;
};

// Every kind the controller reads.
const std::vector<WatchedKind>& WatchedKinds();

// Picks one served version per watched kind. `served` maps a Gateway API
// group-version ("gateway.networking.k8s.io/v1") to the resources it serves
// (discovery). Core and discovery.k8s.io kinds are always included; Gateway API
// kinds only when served.
std::vector<KindInfo> ChooseKinds(const std::map<std::string, std::set<std::string>>& served);

// Finds the kind in `kinds` with the API group of `api_version` and `kind`.
std::optional<KindInfo> FindKind(const std::vector<KindInfo>& kinds, std::string_view api_version,
                                 std::string_view kind);

// The group of an apiVersion ("v1" -> "", "g/v" -> "g").
std::string_view GroupOf(std::string_view api_version);

}  // namespace gatehouse::kube
