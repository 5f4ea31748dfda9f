// The Kubernetes objects that carry a Gateway's proxies, built as plain JSON
// for server-side apply: ServiceAccount, Deployment and Service (Kubernetes
// provisioner), or a headless Service with an EndpointSlice naming the proxy's
// address (proxies run elsewhere). Pure functions; every object is labelled
// with the Gateway's name, carries spec.infrastructure's labels and
// annotations and is owned by the Gateway so Kubernetes collects it.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "controller/infra/provisioner.h"

namespace gatehouse::infra {

inline constexpr char kGatewayNameLabel[] = "gateway.networking.k8s.io/gateway-name";
inline constexpr char kProxyImage[] = "gatehouse.dev/gatehouse-proxy:0.1.0";

struct ProxyObjectOptions {
  std::string image = kProxyImage;
  std::string image_pull_policy = "IfNotPresent";
  // HOST:PORT the proxies reach the controller's config stream on.
  std::string controller_address;
  int replicas = 1;
  // ClusterIP, NodePort or LoadBalancer.
  std::string service_type = "LoadBalancer";
  // --workers= for each proxy; 0 leaves the proxy's default.
  int proxy_workers = 0;
  // The proxy's admin port (readiness probe on /ready).
  int admin_port = 19000;
};

// "gatehouse-<gateway name>", shortened with a hash to a valid Service name.
std::string ObjectName(const std::string& gateway_name);
// A label value for a name (names may be longer than a label value).
std::string LabelValue(const std::string& name);

// The labels every object of the Gateway carries (infrastructure labels plus
// ours, ours win) and the Deployment's selector (a subset).
boost::json::object GatewayLabels(const GatewayInfo& gw);
boost::json::object SelectorLabels(const GatewayInfo& gw);

boost::json::object ServiceAccountFor(const GatewayInfo& gw);
boost::json::object DeploymentFor(const GatewayInfo& gw, const ProxyObjectOptions& options);
// The Service in front of the Deployment, with the Gateway's requested IP
// addresses as spec.externalIPs; no ports: nothing to build (empty object).
boost::json::object ServiceFor(const GatewayInfo& gw, const ProxyObjectOptions& options);
// Proxies that run outside the cluster's pods (host provisioner): a headless
// Service without selector and the EndpointSlice that names `addresses`.
boost::json::object HeadlessServiceFor(const GatewayInfo& gw);
boost::json::object EndpointSliceFor(const GatewayInfo& gw, const std::vector<Address>& addresses);

// The Gateway's addresses as its Service shows them: the LoadBalancer ingress
// (IP or hostname) when there is one, else the ready endpoints of the
// Service's EndpointSlices (the proxy pods' IPs). `objects` is everything the
// controller sees.
std::vector<Address> ServiceAddresses(const GatewayInfo& gw,
                                      const std::vector<source::ObjectPtr>& objects);

}  // namespace gatehouse::infra
