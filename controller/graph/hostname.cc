#include "controller/graph/hostname.h"

#include <algorithm>
#include <cctype>

namespace gatehouse::graph {

namespace {

bool IsWildcard(std::string_view h) { return h.size() > 2 && h[0] == '*' && h[1] == '.'; }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// `*.suffix` covers names ending in ".suffix" with at least one label before it.
bool WildcardCovers(std::string_view wildcard, std::string_view host) {
  std::string_view dot_suffix = wildcard.substr(1);  // ".example.com"
  return host.size() > dot_suffix.size() && EndsWith(host, dot_suffix);
}

}  // namespace

bool HostnameCovers(std::string_view pattern, std::string_view host) {
  if (pattern.empty()) return true;
  if (!IsWildcard(pattern)) return pattern == host;
  if (IsWildcard(host)) return host == pattern || WildcardCovers(pattern, host.substr(2));
  return WildcardCovers(pattern, host);
}

std::optional<std::string> IntersectHostnames(std::string_view listener, std::string_view route) {
  if (listener.empty()) return std::string(route);
  if (route.empty()) return std::string(listener);
  if (HostnameCovers(listener, route)) return std::string(route);
  if (HostnameCovers(route, listener)) return std::string(listener);
  return std::nullopt;
}

std::vector<std::string> EffectiveHostnames(std::string_view listener,
                                            const std::vector<std::string>& route_hostnames) {
  std::vector<std::string> out;
  if (route_hostnames.empty()) {
    out.emplace_back(listener);
    return out;
  }
  for (const std::string& r : route_hostnames) {
    auto h = IntersectHostnames(listener, r);
    if (h && std::find(out.begin(), out.end(), *h) == out.end()) out.push_back(*h);
  }
  return out;
}

bool IsValidHostname(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::string_view rest = host;
  if (IsWildcard(rest)) rest.remove_prefix(2);
  bool all_numeric = true;
  size_t start = 0;
  while (start <= rest.size()) {
    size_t dot = rest.find('.', start);
    std::string_view label =
        rest.substr(start, dot == std::string_view::npos ? rest.npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!(std::islower(static_cast<unsigned char>(c)) ||
            std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
        return false;
      }
      if (!std::isdigit(static_cast<unsigned char>(c))) all_numeric = false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // Dotted all-digit names are IP addresses, which listeners and routes may not use.
  return !all_numeric;
}

}  // namespace gatehouse::graph
