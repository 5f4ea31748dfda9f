// Typed field access on boost::json for the decoders. A field of the wrong type
// throws FieldError (caught at the per-object boundary in Decode, never escaping
// this package), carrying the field path for the decode error message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace gatehouse::resources::internal {

struct FieldError {
  std::string path;
  std::string message;
};

// A cheap field path: each level points at its parent, text is built on error only.
class Path {
 public:
  Path() = default;
  Path(const Path* parent, std::string_view key) : parent_(parent), key_(key) {}
  Path(const Path* parent, size_t index) : parent_(parent), index_(static_cast<int64_t>(index)) {}
  std::string String() const;

 private:
  const Path* parent_ = nullptr;
  std::string_view key_;
  int64_t index_ = -1;
};

[[noreturn]] void Fail(const Path& path, std::string message);

// Each getter returns nullptr / nullopt when the field is absent or null, and
// throws FieldError when it is present with another type.
const boost::json::object* GetObject(const boost::json::object& o, std::string_view key,
                                     const Path& path);
const boost::json::array* GetArray(const boost::json::object& o, std::string_view key,
                                   const Path& path);
std::optional<std::string> GetString(const boost::json::object& o, std::string_view key,
                                     const Path& path);
std::optional<int64_t> GetInt(const boost::json::object& o, std::string_view key, const Path& path);
std::optional<bool> GetBool(const boost::json::object& o, std::string_view key, const Path& path);
std::string GetStringOr(const boost::json::object& o, std::string_view key, const Path& path,
                        std::string_view fallback);
// Integer fields that must fit an int32 (ports, weights, codes).
std::optional<int32_t> GetInt32(const boost::json::object& o, std::string_view key,
                                const Path& path);
std::map<std::string, std::string> GetStringMap(const boost::json::object& o, std::string_view key,
                                                const Path& path);
std::vector<std::string> GetStringList(const boost::json::object& o, std::string_view key,
                                       const Path& path);

// Array elements must be objects; calls fn(element, element_path) for each.
template <typename Fn>
void ForEachObject(const boost::json::object& o, std::string_view key, const Path& path, Fn fn) {
  const boost::json::array* arr = GetArray(o, key, path);
  if (arr == nullptr) return;
  Path field(&path, key);
  for (size_t i = 0; i < arr->size(); ++i) {
    Path item(&field, i);
    const auto* obj = (*arr)[i].if_object();
    if (obj == nullptr) Fail(item, "expected an object");
    fn(*obj, item);
  }
}

}  // namespace gatehouse::resources::internal
