// Desired status stanzas from the graph: GatewayClass, Gateway (addresses,
// listeners, Programmed from the proxies' ACKs), ListenerSet, routes (our parent
// entries beside other controllers' untouched ones) and BackendTLSPolicy, each
// merged with the object's current status by the one merge rule.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controller/graph/graph.h"
#include "controller/resources/resources.h"
#include "controller/status/update.h"

namespace gatehouse::status {

// What the data plane says about one Gateway, and the snapshot computed for it now.
struct GatewayProgramming {
  // status.addresses entries (type, value).
  std::vector<std::pair<std::string, std::string>> addresses;
  std::string version;  // of the snapshot computed now ("" when none)
  std::string acked_version;
  std::string nacked_version;
  std::string nack_error;
  // Set when the provisioner cannot use the requested addresses.
  std::string address_error;
};

struct StatusOptions {
  std::string controller_name;
  std::string now;  // RFC 3339
  std::vector<std::string_view> supported_features;
  std::map<std::string, GatewayProgramming> programming;  // by Gateway "ns/name"
};

std::vector<StatusUpdate> BuildStatus(const resources::Resources& in, const graph::Graph& g,
                                      const StatusOptions& options);

}  // namespace gatehouse::status
