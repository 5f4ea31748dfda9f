// Graph -> one config snapshot per Gateway (api/gatehouse/config/v1/config.proto):
// listeners merged by port, one virtual host per Gateway/ListenerSet listener,
// routes grouped by effective hostname and sorted by the spec's precedence,
// clusters with ready endpoints, and the PEM material they reference.
#pragma once

#include <string>
#include <vector>

#include "controller/graph/graph.h"
#include "gatehouse/config/v1/config.pb.h"

namespace gatehouse::translate {

struct TranslateOptions {
  // Addresses the Gateway's listeners bind to; empty binds to all addresses.
  std::vector<std::string> bind_addresses;
};

// The snapshot for `gw` (an accepted Gateway of `g`), with its version set.
gatehouse::config::v1::Snapshot Translate(const graph::Graph& g, const graph::Gateway& gw,
                                          const TranslateOptions& options);

// Hex SHA-256 prefix of the deterministic serialization of `snapshot` without its
// version: equal content, equal version.
std::string ContentVersion(const gatehouse::config::v1::Snapshot& snapshot);

}  // namespace gatehouse::translate
