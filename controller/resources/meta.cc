#include "controller/resources/meta.h"

#include <algorithm>

namespace gatehouse::resources {

const boost::json::object* ObjectBase::Status() const {
  if (!raw) return nullptr;
  const auto* s = raw->if_contains("status");
  return s ? s->if_object() : nullptr;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const auto& [k, v] : match_labels) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& req : match_expressions) {
    auto it = labels.find(req.key);
    bool has = it != labels.end();
    bool in =
        has && std::find(req.values.begin(), req.values.end(), it->second) != req.values.end();
    if (req.op == "In") {
      if (!in) return false;
    } else if (req.op == "NotIn") {
      if (in) return false;
    } else if (req.op == "Exists") {
      if (!has) return false;
    } else if (req.op == "DoesNotExist") {
      if (has) return false;
    } else {
      return false;  // an unknown operator selects nothing
    }
  }
  return true;
}

}  // namespace gatehouse::resources
