// ReferenceGrant as a precomputed allow-set: one lookup per cross-namespace
// reference instead of a scan of every grant.
#pragma once

#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "controller/resources/gateway_api.h"

namespace gatehouse::graph {

struct RefFrom {
  std::string_view group;  // "" for core
  std::string_view kind;
  std::string_view ns;
};

struct RefTo {
  std::string_view group;
  std::string_view kind;
  std::string_view ns;
  std::string_view name;
};

class ReferenceGrants {
 public:
  explicit ReferenceGrants(const std::vector<resources::ReferenceGrant>& grants);

  // True when `from` may reference `to`: same namespace, or a ReferenceGrant in
  // to.ns names the source (group, kind, namespace) and the target kind (with this
  // name, or any name).
  bool Allowed(const RefFrom& from, const RefTo& to) const;

 private:
  std::unordered_set<std::string> allowed_;
};

}  // namespace gatehouse::graph
