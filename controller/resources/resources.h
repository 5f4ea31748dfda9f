// The typed view of every input object: decode each raw object once (JSON from the
// API server, or YAML converted by yaml.h), keep the ones that decode, and report
// the ones that do not, without letting one bad object affect the others.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "absl/status/status.h"
#include "controller/resources/core.h"
#include "controller/resources/gateway_api.h"

namespace gatehouse::resources {

struct DecodeError {
  std::string kind;
  std::string key;  // "namespace/name"
  std::string message;
};

// Every watched kind, each list sorted by namespace/name.
struct Resources {
  std::vector<GatewayClass> gateway_classes;
  std::vector<Gateway> gateways;
  std::vector<ListenerSet> listener_sets;
  std::vector<HTTPRoute> http_routes;
  std::vector<GRPCRoute> grpc_routes;
  std::vector<L4Route> tls_routes;
  std::vector<L4Route> tcp_routes;
  std::vector<L4Route> udp_routes;
  std::vector<ReferenceGrant> reference_grants;
  std::vector<BackendTLSPolicy> backend_tls_policies;
  std::vector<Service> services;
  std::vector<EndpointSlice> endpoint_slices;
  std::vector<Secret> secrets;
  std::vector<ConfigMap> config_maps;
  std::vector<Namespace> namespaces;
  std::vector<DecodeError> errors;
};

using RawObject = std::shared_ptr<const boost::json::object>;

// Decodes one object into `out`. Kinds the controller does not watch are ignored
// (OK). A malformed object is not added and the error says which field is wrong.
absl::Status Decode(const RawObject& object, Resources& out);

// Decodes all objects; errors are collected in Resources::errors.
Resources Load(const std::vector<RawObject>& objects);

}  // namespace gatehouse::resources
