#include "controller/status/conditions.h"

#include <algorithm>

#include <boost/json/object.hpp>

namespace gatehouse::status {

namespace json = boost::json;

Condition True(std::string_view type, std::string_view reason, std::string message) {
  return Condition{std::string(type), "True", std::string(reason), std::move(message)};
}

Condition False(std::string_view type, std::string_view reason, std::string message) {
  return Condition{std::string(type), "False", std::string(reason), std::move(message)};
}

namespace {

std::string_view StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

}  // namespace

const json::array* ConditionsOf(const json::object* status_like) {
  if (status_like == nullptr) return nullptr;
  const json::value* c = status_like->if_contains("conditions");
  return c ? c->if_array() : nullptr;
}

json::array MergeConditions(const std::vector<Condition>& desired, const json::array* previous,
                            int64_t generation, std::string_view now,
                            const std::vector<std::string_view>& owned) {
  auto find_previous = [&](std::string_view type) -> const json::object* {
    if (previous == nullptr) return nullptr;
    for (const json::value& v : *previous) {
      const json::object* o = v.if_object();
      if (o != nullptr && StringField(*o, "type") == type) return o;
    }
    return nullptr;
  };
  json::array out;
  out.reserve(desired.size() + (previous ? previous->size() : 0));
  for (const Condition& c : desired) {
    std::string_view transition = now;
    if (const json::object* prev = find_previous(c.type)) {
      std::string_view prev_time = StringField(*prev, "lastTransitionTime");
      if (StringField(*prev, "status") == c.status && !prev_time.empty()) transition = prev_time;
    }
    json::object o;
    o["type"] = c.type;
    o["status"] = c.status;
    o["observedGeneration"] = generation;
    o["lastTransitionTime"] = transition;
    o["reason"] = c.reason;
    o["message"] = c.message;
    out.push_back(std::move(o));
  }
  if (previous != nullptr) {
    for (const json::value& v : *previous) {
      const json::object* o = v.if_object();
      if (o == nullptr) continue;
      std::string_view t = StringField(*o, "type");
      bool ours = std::any_of(desired.begin(), desired.end(),
                              [&](const Condition& c) { return c.type == t; }) ||
                  std::find(owned.begin(), owned.end(), t) != owned.end();
      if (!ours) out.push_back(v);
    }
  }
  return out;
}

}  // namespace gatehouse::status
