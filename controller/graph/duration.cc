#include "controller/graph/duration.h"

#include <cctype>

namespace gatehouse::graph {

std::optional<uint64_t> ParseDuration(std::string_view s) {
  uint64_t total = 0;
  int parts = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    uint64_t n = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])))
      n = n * 10 + (s[i++] - '0');
    size_t digits = i - start;
    if (digits == 0 || digits > 5) return std::nullopt;
    uint64_t unit;
    if (s.substr(i, 2) == "ms") {
      unit = 1, i += 2;
    } else if (i < s.size() && s[i] == 'h') {
      unit = 3600000, ++i;
    } else if (i < s.size() && s[i] == 'm') {
      unit = 60000, ++i;
    } else if (i < s.size() && s[i] == 's') {
      unit = 1000, ++i;
    } else {
      return std::nullopt;
    }
    total += n * unit;
    if (++parts > 4) return std::nullopt;
  }
  if (parts == 0) return std::nullopt;
  return total;
}

}  // namespace gatehouse::graph
