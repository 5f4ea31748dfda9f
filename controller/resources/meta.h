// Typed Kubernetes object metadata and the reference shapes shared by Gateway API
// kinds. Decoded structs keep a pointer to the raw object so the current status
// (other controllers' entries, lastTransitionTime) stays available for merging.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

namespace gatehouse::resources {

inline constexpr std::string_view kGatewayGroup = "gateway.networking.k8s.io";

struct ObjectMeta {
  std::string name;
  std::string ns;  // empty for cluster-scoped kinds
  std::string uid;
  std::string resource_version;
  std::string creation_timestamp;  // RFC 3339, sorts lexicographically
  int64_t generation = 0;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

// Fields every decoded object carries.
struct ObjectBase {
  std::string api_version;
  std::string kind;
  ObjectMeta meta;
  std::shared_ptr<const boost::json::object> raw;

  // "namespace/name", or "name" for cluster-scoped objects.
  std::string Key() const { return meta.ns.empty() ? meta.name : meta.ns + "/" + meta.name; }
  // The object's current `status`, or nullptr.
  const boost::json::object* Status() const;
};

// A reference to a Gateway or ListenerSet from a route (ParentReference).
struct ParentRef {
  std::string group{kGatewayGroup};
  std::string kind = "Gateway";
  std::optional<std::string> ns;
  std::string name;
  std::optional<std::string> section_name;
  std::optional<int32_t> port;
};

// SecretObjectReference / ObjectReference / BackendObjectReference: group, kind,
// name and optional namespace; defaults depend on the field.
struct ObjectRef {
  std::string group;
  std::string kind;
  std::string name;
  std::optional<std::string> ns;
  std::optional<int32_t> port;  // BackendObjectReference only
};

struct LabelSelectorRequirement {
  std::string key;
  std::string op;  // In, NotIn, Exists, DoesNotExist
  std::vector<std::string> values;
};

struct LabelSelector {
  std::map<std::string, std::string> match_labels;
  std::vector<LabelSelectorRequirement> match_expressions;

  bool Matches(const std::map<std::string, std::string>& labels) const;
};

}  // namespace gatehouse::resources
