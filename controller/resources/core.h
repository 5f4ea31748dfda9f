// Typed core Kubernetes objects the controller reads: Services and EndpointSlices
// (backends), Secrets and ConfigMaps (certificates, CA bundles), Namespaces
// (labels for allowedRoutes selectors).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controller/resources/meta.h"

namespace gatehouse::resources {

struct ServicePort {
  std::string name;
  std::string protocol = "TCP";
  int32_t port = 0;
  // int-or-string: a number, or the name of a container port.
  std::optional<int32_t> target_port_number;
  std::optional<std::string> target_port_name;
  std::optional<std::string> app_protocol;
};

struct Service : ObjectBase {
  std::string type = "ClusterIP";
  std::string cluster_ip;
  std::vector<ServicePort> ports;
};

struct EndpointSlice : ObjectBase {
  struct Port {
    std::string name;
    std::string protocol = "TCP";
    std::optional<int32_t> port;
    std::optional<std::string> app_protocol;
  };
  struct Endpoint {
    std::vector<std::string> addresses;
    // Per the API, a missing `ready` means ready.
    bool ready = true;
  };
  std::string service_name;  // label kubernetes.io/service-name
  std::string address_type;  // IPv4, IPv6, FQDN
  std::vector<Endpoint> endpoints;
  std::vector<Port> ports;
};

struct Secret : ObjectBase {
  std::string type = "Opaque";
  // Decoded bytes (data is base64 in the API; stringData is plain and wins).
  std::map<std::string, std::string> data;
};

struct ConfigMap : ObjectBase {
  std::map<std::string, std::string> data;
};

struct Namespace : ObjectBase {};

}  // namespace gatehouse::resources
