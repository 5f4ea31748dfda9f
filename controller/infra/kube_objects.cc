#include "controller/infra/kube_objects.h"

#include <cstdio>
#include <set>

#include "controller/infra/address_pool.h"
#include "controller/kube/json_util.h"

namespace gatehouse::infra {
namespace {

namespace json = boost::json;
using kube::MetaField;
using kube::ObjectField;
using kube::StringField;

constexpr size_t kMaxLabel = 63;
constexpr char kManagedBy[] = "app.kubernetes.io/managed-by";
constexpr char kAppName[] = "app.kubernetes.io/name";
constexpr char kServiceNameLabel[] = "kubernetes.io/service-name";
constexpr char kSliceManagedBy[] = "endpointslice.kubernetes.io/managed-by";

// FNV-1a: stable across builds and platforms, unlike std::hash.
std::string Hash8(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  char buf[9];
  std::snprintf(buf, sizeof(buf), "%08x", h);
  return buf;
}

// Cut to `max` characters keeping it unique (hash suffix) and ending in an
// alphanumeric character.
std::string Shorten(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  std::string head = s.substr(0, max - 9);
  while (!head.empty() && !std::isalnum(static_cast<unsigned char>(head.back()))) head.pop_back();
  return head + "-" + Hash8(s);
}

json::object Metadata(const GatewayInfo& gw, const std::string& name, json::object labels) {
  json::object annotations;
  for (const auto& [k, v] : gw.annotations) annotations[k] = v;
  json::object meta{{"name", name}, {"namespace", gw.ns}, {"labels", std::move(labels)}};
  if (!annotations.empty()) meta["annotations"] = std::move(annotations);
  if (!gw.uid.empty()) {
    // No blockOwnerDeletion: it would need update rights on gateways/finalizers.
    meta["ownerReferences"] = json::array{json::object{{"apiVersion", gw.api_version},
                                                       {"kind", "Gateway"},
                                                       {"name", gw.name},
                                                       {"uid", gw.uid},
                                                       {"controller", true}}};
  }
  return meta;
}

std::string PortName(const GatewayPort& p) {
  std::string proto = p.protocol == "UDP" ? "udp" : "tcp";
  return proto + "-" + std::to_string(p.port);
}

json::array ServicePorts(const GatewayInfo& gw) {
  json::array ports;
  for (const GatewayPort& p : gw.ports) {
    ports.push_back(json::object{
        {"name", PortName(p)}, {"port", p.port}, {"targetPort", p.port}, {"protocol", p.protocol}});
  }
  return ports;
}

}  // namespace

std::string ObjectName(const std::string& gateway_name) {
  return Shorten("gatehouse-" + gateway_name, kMaxLabel);
}

std::string LabelValue(const std::string& name) { return Shorten(name, kMaxLabel); }

json::object SelectorLabels(const GatewayInfo& gw) {
  return {{kGatewayNameLabel, LabelValue(gw.name)}, {kAppName, "gatehouse-proxy"}};
}

json::object GatewayLabels(const GatewayInfo& gw) {
  json::object labels;
  for (const auto& [k, v] : gw.labels) labels[k] = v;
  for (const auto& [k, v] : SelectorLabels(gw)) labels[k] = v;
  labels[kManagedBy] = "gatehouse";
  return labels;
}

json::object ServiceAccountFor(const GatewayInfo& gw) {
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", Metadata(gw, ObjectName(gw.name), GatewayLabels(gw))},
          // The proxy never talks to the API server.
          {"automountServiceAccountToken", false}};
}

json::object DeploymentFor(const GatewayInfo& gw, const ProxyObjectOptions& o) {
  const std::string name = ObjectName(gw.name);
  json::array args{"--controller=" + o.controller_address, "--gateway=" + gw.key,
                   "--admin=0.0.0.0:" + std::to_string(o.admin_port), "--proxy-id=$(POD_NAME)"};
  if (o.proxy_workers > 0)
    args.push_back(json::string("--workers=" + std::to_string(o.proxy_workers)));
  json::array container_ports{
      json::object{{"name", "admin"}, {"containerPort", o.admin_port}, {"protocol", "TCP"}}};
  for (const GatewayPort& p : gw.ports) {
    container_ports.push_back(
        json::object{{"name", PortName(p)}, {"containerPort", p.port}, {"protocol", p.protocol}});
  }
  json::object template_meta{{"labels", GatewayLabels(gw)}};
  if (!gw.annotations.empty()) {
    json::object annotations;
    for (const auto& [k, v] : gw.annotations) annotations[k] = v;
    template_meta["annotations"] = std::move(annotations);
  }
  json::object container{
      {"name", "proxy"},
      {"image", o.image},
      // One image may hold both binaries (deploy/container/Dockerfile).
      {"command", json::array{"/usr/local/bin/gatehouse-proxy"}},
      {"imagePullPolicy", o.image_pull_policy},
      {"args", std::move(args)},
      {"env",
       json::array{json::object{{"name", "POD_NAME"},
                                {"valueFrom", {{"fieldRef", {{"fieldPath", "metadata.name"}}}}}}}},
      {"ports", std::move(container_ports)},
      {"readinessProbe",
       {{"httpGet", {{"path", "/ready"}, {"port", o.admin_port}}}, {"periodSeconds", 2}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false}, {"capabilities", {{"drop", json::array{"ALL"}}}}}}};
  return {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", Metadata(gw, name, GatewayLabels(gw))},
      {"spec",
       {{"replicas", o.replicas},
        {"selector", {{"matchLabels", SelectorLabels(gw)}}},
        {"template",
         {{"metadata", std::move(template_meta)},
          {"spec",
           {{"serviceAccountName", name},
            {"automountServiceAccountToken", false},
            {"terminationGracePeriodSeconds", 30},
            // Listeners on ports below 1024 without privileges (a safe sysctl).
            {"securityContext",
             {{"sysctls", json::array{json::object{{"name", "net.ipv4.ip_unprivileged_port_start"},
                                                   {"value", "0"}}}}}},
            {"containers", json::array{std::move(container)}}}}}}}}};
}

json::object ServiceFor(const GatewayInfo& gw, const ProxyObjectOptions& o) {
  if (gw.ports.empty()) return {};
  json::object spec{
      {"type", o.service_type}, {"selector", SelectorLabels(gw)}, {"ports", ServicePorts(gw)}};
  json::array external_ips;
  for (const auto& [type, value] : gw.spec_addresses) {
    if (IsIpAddressType(type)) external_ips.emplace_back(value);
  }
  if (!external_ips.empty()) spec["externalIPs"] = std::move(external_ips);
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", Metadata(gw, ObjectName(gw.name), GatewayLabels(gw))},
          {"spec", std::move(spec)}};
}

json::object HeadlessServiceFor(const GatewayInfo& gw) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", Metadata(gw, ObjectName(gw.name), GatewayLabels(gw))},
          {"spec", {{"clusterIP", "None"}, {"ports", ServicePorts(gw)}}}};
}

json::object EndpointSliceFor(const GatewayInfo& gw, const std::vector<Address>& addresses) {
  const std::string name = ObjectName(gw.name);
  json::object labels = GatewayLabels(gw);
  labels[kServiceNameLabel] = name;
  labels[kSliceManagedBy] = "gatehouse.dev";
  json::array endpoints;
  for (const auto& [type, value] : addresses) {
    if (!IsIpAddressType(type) || !ParseIpv4(value)) continue;  // the slice is IPv4
    endpoints.push_back(
        json::object{{"addresses", json::array{value}}, {"conditions", {{"ready", true}}}});
  }
  json::array ports;
  for (const GatewayPort& p : gw.ports) {
    ports.push_back(
        json::object{{"name", PortName(p)}, {"port", p.port}, {"protocol", p.protocol}});
  }
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata", Metadata(gw, name, std::move(labels))},
          {"addressType", "IPv4"},
          {"endpoints", std::move(endpoints)},
          {"ports", std::move(ports)}};
}

std::vector<Address> ServiceAddresses(const GatewayInfo& gw,
                                      const std::vector<source::ObjectPtr>& objects) {
  const std::string name = ObjectName(gw.name);
  std::vector<Address> ingress;
  std::set<std::string> pod_ips;
  for (const auto& obj : objects) {
    if (obj == nullptr || MetaField(*obj, "namespace") != gw.ns) continue;
    const std::string_view kind = StringField(*obj, "kind");
    if (kind == "Service" && MetaField(*obj, "name") == name) {
      const json::object* status = ObjectField(*obj, "status");
      const json::object* lb = status ? ObjectField(*status, "loadBalancer") : nullptr;
      auto it = lb ? lb->find("ingress") : nullptr;
      if (lb == nullptr || it == lb->end() || !it->value().is_array()) continue;
      for (const json::value& in : it->value().get_array()) {
        if (!in.is_object()) continue;
        if (auto ip = StringField(in.get_object(), "ip"); !ip.empty()) {
          ingress.emplace_back("IPAddress", std::string(ip));
        } else if (auto host = StringField(in.get_object(), "hostname"); !host.empty()) {
          ingress.emplace_back("Hostname", std::string(host));
        }
      }
    } else if (kind == "EndpointSlice") {
      const json::object* meta = ObjectField(*obj, "metadata");
      const json::object* labels = meta ? ObjectField(*meta, "labels") : nullptr;
      if (labels == nullptr || StringField(*labels, kServiceNameLabel) != name) continue;
      auto eps = obj->find("endpoints");
      if (eps == obj->end() || !eps->value().is_array()) continue;
      for (const json::value& ep : eps->value().get_array()) {
        if (!ep.is_object()) continue;
        const json::object* cond = ObjectField(ep.get_object(), "conditions");
        auto ready = cond ? cond->find("ready") : nullptr;
        // Unset means ready (EndpointSlice API).
        if (ready != nullptr && ready != cond->end() && ready->value().is_bool() &&
            !ready->value().get_bool()) {
          continue;
        }
        auto addrs = ep.get_object().find("addresses");
        if (addrs == ep.get_object().end() || !addrs->value().is_array()) continue;
        for (const json::value& a : addrs->value().get_array()) {
          if (a.is_string()) pod_ips.emplace(a.get_string());
        }
      }
    }
  }
  if (!ingress.empty()) return ingress;
  std::vector<Address> out;
  for (const auto& ip : pod_ips) out.emplace_back("IPAddress", ip);
  return out;
}

}  // namespace gatehouse::infra
