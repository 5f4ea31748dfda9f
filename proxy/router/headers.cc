// Header adapters (see headers.h).
#include "proxy/router/headers.h"

#include <algorithm>

namespace gatehouse::router {

bool HeaderNameEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x == y) continue;
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::optional<std::string_view> PairVectorHeaders::Get(std::string_view name) const {
  for (const auto& [n, v] : fields_) {
    if (HeaderNameEquals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

void PairVectorHeaders::Set(std::string_view name, std::string_view value) {
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const auto& f) { return HeaderNameEquals(f.first, name); });
  if (first == fields_.end()) {
    Add(name, value);
    return;
  }
  first->second.assign(value);
  fields_.erase(std::remove_if(first + 1, fields_.end(),
                               [&](const auto& f) { return HeaderNameEquals(f.first, name); }),
                fields_.end());
}

void PairVectorHeaders::Add(std::string_view name, std::string_view value) {
  // HTTP/2 requires lowercase field names on the wire; storing them lowercase keeps the
  // vector ready to hand to nghttp2.
  std::string lower(name);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  fields_.emplace_back(std::move(lower), std::string(value));
}

void PairVectorHeaders::Remove(std::string_view name) {
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const auto& f) { return HeaderNameEquals(f.first, name); }),
                fields_.end());
}

}  // namespace gatehouse::router
