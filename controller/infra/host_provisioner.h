// The host provisioner: one gatehouse-proxy child process per Gateway on this
// machine, each Gateway with an address from a configured IPv4 pool (or its
// own static spec.addresses when they lie inside the pool).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/infra/provisioner.h"
#include "controller/infra/supervisor.h"

namespace gatehouse::infra {

struct HostOptions {
  std::string proxy_binary = "gatehouse-proxy";
  // The config stream address the proxies connect to (--controller=).
  std::string controller_address = "127.0.0.1:18000";
  // --workers= for each proxy; 0 leaves the proxy's default.
  int proxy_workers = 0;
  // "FIRST-LAST"; empty: no addresses are handed out (proxies bind to all
  // addresses) and static addresses are used as given.
  std::string address_pool;
  // Extra arguments appended to every proxy's command line.
  std::vector<std::string> extra_args;
  SupervisorOptions supervisor;
};

// Fails when the pool does not parse.
absl::StatusOr<std::unique_ptr<Provisioner>> MakeHostProvisioner(HostOptions options);

// The proxy command line for one Gateway (exposed for tests and logs).
std::vector<std::string> ProxyArgv(const HostOptions& options, const std::string& gateway);

}  // namespace gatehouse::infra
