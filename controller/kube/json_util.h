// Small read helpers for Kubernetes-shaped JSON objects: a missing or
// wrongly-typed field reads as empty instead of throwing.
#pragma once

#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace gatehouse::kube {

inline const boost::json::object* ObjectField(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

inline std::string_view StringField(const boost::json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string_view(it->value().get_string())
                                                  : std::string_view();
}

// metadata.<key> as a string ("" if absent).
inline std::string_view MetaField(const boost::json::object& o, std::string_view key) {
  const boost::json::object* meta = ObjectField(o, "metadata");
  return meta != nullptr ? StringField(*meta, key) : std::string_view();
}

}  // namespace gatehouse::kube
