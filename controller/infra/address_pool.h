// An IPv4 address range ("10.245.0.10-10.245.0.250") from which the host
// provisioner hands each Gateway an address.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace gatehouse::infra {

class AddressPool {
 public:
  // "FIRST-LAST" (inclusive), a single address, or "" for an empty pool.
  static absl::StatusOr<AddressPool> Parse(std::string_view range);

  bool empty() const { return last_ < first_; }
  bool Contains(std::string_view ip) const;
  // The lowest address not in `used`; nullopt when the pool is exhausted.
  std::optional<std::string> Allocate(const std::set<std::string>& used) const;

 private:
  uint32_t first_ = 1;
  uint32_t last_ = 0;
};

// Parses dotted IPv4; nullopt for anything else.
std::optional<uint32_t> ParseIpv4(std::string_view ip);
std::string FormatIpv4(uint32_t ip);

}  // namespace gatehouse::infra
