// The pure heart of the controller: objects in, per-Gateway snapshots and
// desired status out. No I/O, no clocks except the injected `now`, no globals.
// It calls resources (decode), graph (validate and attach), status (conditions)
// and translate (graph -> snapshot).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/source/provider.h"
#include "controller/status/update.h"
#include "gatehouse/config/v1/config.pb.h"

namespace gatehouse::reconcile {

// What the infrastructure (proxy provisioner + config stream) reports for one
// Gateway, keyed by "namespace/name".
struct GatewayInfra {
  // Addresses the Gateway's proxies listen on, as published in status.addresses
  // ("IPAddress" or "Hostname" type, value).
  std::vector<std::pair<std::string, std::string>> addresses;
  // Latest snapshot version ACKed by the Gateway's proxy ("" if none).
  std::string acked_version;
  // Latest version NACKed and the error, if the latest sent version was rejected.
  std::string nacked_version;
  std::string nack_error;
  // Set by the provisioner when it cannot use the Gateway's requested addresses
  // (e.g. outside the address pool): Programmed=False/AddressNotUsable with this
  // message.
  std::string address_error;
};

struct Inputs {
  std::vector<source::ObjectPtr> objects;
  // spec.controllerName that Gatehouse owns.
  std::string controller_name = "gatehouse.dev/gateway-controller";
  // RFC 3339 time used as lastTransitionTime for conditions that change.
  std::string now;
  std::map<std::string, GatewayInfra> infra;
  // When true, listeners bind to the Gateway's status addresses; otherwise they
  // bind to all addresses (address "").
  bool bind_to_gateway_addresses = true;
  // When set, the conformance features Gatehouse claims, instead of the feature
  // registry's (tests use it to pin behaviour that depends on a claim).
  std::optional<std::vector<std::string>> claimed_features;
};

struct Outputs {
  // One snapshot per accepted Gateway of ours, keyed by "namespace/name". The
  // snapshot's version is a content hash: equal content, equal version.
  std::map<std::string, gatehouse::config::v1::Snapshot> snapshots;
  // Desired status for every object of ours whose status we own.
  std::vector<status::StatusUpdate> status;
  // Gateways of ours that need proxies ("namespace/name"), with their spec
  // addresses (static addresses requested by the user, possibly empty).
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> gateways;
  // Problems with individual objects that could not be decoded (for logs).
  std::vector<std::string> decode_errors;
};

Outputs Reconcile(const Inputs& in);

}  // namespace gatehouse::reconcile
