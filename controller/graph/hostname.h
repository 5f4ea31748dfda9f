// Hostname rules of the Gateway API: wildcard matching ("*.example.com" matches
// any name with at least one more label), listener x route intersection, and the
// syntax check for hostnames the CRD would reject.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::graph {

// True when `host` (exact or wildcard) is covered by `pattern` ("" covers all).
bool HostnameCovers(std::string_view pattern, std::string_view host);

// The hostname a request must have to match both a listener hostname and a route
// hostname ("" = any), or nullopt when they do not intersect.
std::optional<std::string> IntersectHostnames(std::string_view listener, std::string_view route);

// The effective hostnames of a route on a listener: [listener] when the route
// has none; else every non-empty intersection (deduplicated, in route order).
std::vector<std::string> EffectiveHostnames(std::string_view listener,
                                            const std::vector<std::string>& route_hostnames);

// RFC 1123 subdomain, optionally with a leading "*." label; no IP addresses.
bool IsValidHostname(std::string_view host);

}  // namespace gatehouse::graph
