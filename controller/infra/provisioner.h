// Provisioners give each accepted Gateway the proxies that serve it and the
// addresses they listen on. The host provisioner runs proxies as child
// processes; a Kubernetes one (Deployment, Service, ServiceAccount per Gateway)
// implements the same interface.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "controller/source/provider.h"

namespace gatehouse::infra {

// (type, value) as in Gateway status.addresses, e.g. ("IPAddress", "10.0.0.7").
using Address = std::pair<std::string, std::string>;

// A port the Gateway's proxies listen on (from its snapshot's listeners).
struct GatewayPort {
  uint32_t port = 0;
  std::string protocol = "TCP";  // "TCP" or "UDP", as in a Service port
  bool operator==(const GatewayPort&) const = default;
};

// What a provisioner that creates Kubernetes objects needs to know about a
// Gateway besides its name: identity for owner references, the metadata of
// spec.infrastructure to propagate, and the ports to expose.
struct GatewayInfo {
  std::string key;  // "namespace/name"
  std::string ns;
  std::string name;
  std::string uid;
  std::string api_version = "gateway.networking.k8s.io/v1";
  std::vector<Address> spec_addresses;
  std::map<std::string, std::string> labels;       // spec.infrastructure.labels
  std::map<std::string, std::string> annotations;  // spec.infrastructure.annotations
  std::vector<GatewayPort> ports;                  // sorted, unique
  bool operator==(const GatewayInfo&) const = default;
};

class Provisioner {
 public:
  virtual ~Provisioner() = default;

  // Ensure() with everything known about the Gateway. Provisioners that only
  // need the name and addresses keep this default.
  virtual absl::Status EnsureGateway(const GatewayInfo& gateway) {
    return Ensure(gateway.key, gateway.spec_addresses);
  }

  // The cluster objects the controller currently sees (called before every
  // reconcile pass): provisioners that publish addresses from Services or
  // EndpointSlices read them here instead of polling the API.
  virtual void Observe(const std::vector<source::ObjectPtr>& /*objects*/) {}

  // Makes sure `gateway` ("namespace/name") has running proxies. `spec_addresses`
  // are the addresses the Gateway asks for (empty: the provisioner picks).
  // Idempotent and quick: process and API work happens in the background.
  // Returns FailedPrecondition (the spec's AddressNotUsable) when a requested
  // address cannot be used; the Gateway then has no proxies and no addresses.
  virtual absl::Status Ensure(const std::string& gateway,
                              const std::vector<Address>& spec_addresses) = 0;

  // Stops the Gateway's proxies and releases its addresses.
  virtual void Remove(const std::string& gateway) = 0;

  // Addresses the Gateway's proxies listen on (published in status.addresses);
  // empty when none is assigned.
  virtual std::vector<Address> Addresses(const std::string& gateway) const = 0;

  // Every Gateway Ensure()d and not Remove()d.
  virtual std::vector<std::string> Gateways() const = 0;

  // Stops every proxy (blocking until they are gone or killed).
  virtual void Stop() = 0;
};

// Proxies are run by someone else: Ensure only records the Gateway; its
// addresses are its spec's IPAddress entries.
std::unique_ptr<Provisioner> MakeNoopProvisioner();

// True for the spec's IP address type ("IPAddress", or unset, its default).
bool IsIpAddressType(const std::string& type);

}  // namespace gatehouse::infra
