#include "controller/resources/json_reader.h"

#include <limits>

namespace gatehouse::resources::internal {

namespace json = boost::json;

std::string Path::String() const {
  std::string prefix = parent_ ? parent_->String() : "";
  if (index_ >= 0) return prefix + "[" + std::to_string(index_) + "]";
  if (key_.empty()) return prefix;
  return prefix.empty() ? std::string(key_) : prefix + "." + std::string(key_);
}

void Fail(const Path& path, std::string message) {
  throw FieldError{path.String(), std::move(message)};
}

namespace {

const json::value* Field(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return (v == nullptr || v->is_null()) ? nullptr : v;
}

}  // namespace

const json::object* GetObject(const json::object& o, std::string_view key, const Path& path) {
  const json::value* v = Field(o, key);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) Fail(Path(&path, key), "expected an object");
  return &v->get_object();
}

const json::array* GetArray(const json::object& o, std::string_view key, const Path& path) {
  const json::value* v = Field(o, key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) Fail(Path(&path, key), "expected a list");
  return &v->get_array();
}

std::optional<std::string> GetString(const json::object& o, std::string_view key,
                                     const Path& path) {
  const json::value* v = Field(o, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) Fail(Path(&path, key), "expected a string");
  return std::string(v->get_string());
}

std::string GetStringOr(const json::object& o, std::string_view key, const Path& path,
                        std::string_view fallback) {
  auto s = GetString(o, key, path);
  return s ? *s : std::string(fallback);
}

std::optional<int64_t> GetInt(const json::object& o, std::string_view key, const Path& path) {
  const json::value* v = Field(o, key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  // JSON from some clients writes integers as 80.0.
  if (v->is_double()) {
    double d = v->get_double();
    if (d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
  }
  Fail(Path(&path, key), "expected an integer");
}

std::optional<int32_t> GetInt32(const json::object& o, std::string_view key, const Path& path) {
  auto v = GetInt(o, key, path);
  if (!v) return std::nullopt;
  if (*v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<int32_t>::max()) {
    Fail(Path(&path, key), "integer out of range");
  }
  return static_cast<int32_t>(*v);
}

std::optional<bool> GetBool(const json::object& o, std::string_view key, const Path& path) {
  const json::value* v = Field(o, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) Fail(Path(&path, key), "expected a boolean");
  return v->get_bool();
}

std::map<std::string, std::string> GetStringMap(const json::object& o, std::string_view key,
                                                const Path& path) {
  std::map<std::string, std::string> out;
  const json::object* m = GetObject(o, key, path);
  if (m == nullptr) return out;
  Path field(&path, key);
  for (const auto& kv : *m) {
    if (kv.value().is_null()) continue;
    if (!kv.value().is_string()) Fail(Path(&field, kv.key()), "expected a string");
    out.emplace(std::string(kv.key()), std::string(kv.value().get_string()));
  }
  return out;
}

std::vector<std::string> GetStringList(const json::object& o, std::string_view key,
                                       const Path& path) {
  std::vector<std::string> out;
  const json::array* arr = GetArray(o, key, path);
  if (arr == nullptr) return out;
  Path field(&path, key);
  out.reserve(arr->size());
  for (size_t i = 0; i < arr->size(); ++i) {
    if (!(*arr)[i].is_string()) Fail(Path(&field, i), "expected a string");
    out.emplace_back((*arr)[i].get_string());
  }
  return out;
}

}  // namespace gatehouse::resources::internal
