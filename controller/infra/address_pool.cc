#include "controller/infra/address_pool.h"

#include <arpa/inet.h>

#include "absl/strings/str_cat.h"

namespace gatehouse::infra {

std::optional<uint32_t> ParseIpv4(std::string_view ip) {
  std::string s(ip);
  in_addr addr{};
  if (::inet_pton(AF_INET, s.c_str(), &addr) != 1) return std::nullopt;
  return ntohl(addr.s_addr);
}

std::string FormatIpv4(uint32_t ip) {
  in_addr addr{};
  addr.s_addr = htonl(ip);
  char buf[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &addr, buf, sizeof(buf));
  return buf;
}

absl::StatusOr<AddressPool> AddressPool::Parse(std::string_view range) {
  AddressPool pool;
  if (range.empty()) return pool;
  auto dash = range.find('-');
  std::string_view first = range.substr(0, dash);
  std::string_view last = dash == std::string_view::npos ? first : range.substr(dash + 1);
  auto a = ParseIpv4(first);
  auto b = ParseIpv4(last);
  if (!a || !b || *b < *a) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address pool must be FIRST-LAST IPv4 addresses, got \"", std::string(range), "\""));
  }
  pool.first_ = *a;
  pool.last_ = *b;
  return pool;
}

bool AddressPool::Contains(std::string_view ip) const {
  auto v = ParseIpv4(ip);
  return v && *v >= first_ && *v <= last_;
}

std::optional<std::string> AddressPool::Allocate(const std::set<std::string>& used) const {
  if (empty()) return std::nullopt;
  for (uint64_t ip = first_; ip <= last_; ++ip) {
    std::string s = FormatIpv4(static_cast<uint32_t>(ip));
    if (!used.count(s)) return s;
  }
  return std::nullopt;
}

}  // namespace gatehouse::infra
