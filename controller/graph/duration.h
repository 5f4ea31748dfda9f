// Gateway API durations (GEP-2257): one to four <number><unit> parts with units
// h, m, s, ms, e.g. "1h30m", "500ms", "0s".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace gatehouse::graph {

// Milliseconds, or nullopt when `s` is not a valid duration.
std::optional<uint64_t> ParseDuration(std::string_view s);

}  // namespace gatehouse::graph
