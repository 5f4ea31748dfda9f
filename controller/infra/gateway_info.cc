#include "controller/infra/gateway_info.h"

#include <algorithm>

#include "controller/kube/json_util.h"

namespace gatehouse::infra {
namespace {

namespace json = boost::json;
using kube::MetaField;
using kube::ObjectField;
using kube::StringField;

std::map<std::string, std::string> StringMap(const json::object* o) {
  std::map<std::string, std::string> out;
  if (o == nullptr) return out;
  for (const auto& [k, v] : *o) {
    if (v.is_string()) out.emplace(std::string(k), std::string(v.get_string()));
  }
  return out;
}

}  // namespace

std::map<std::string, source::ObjectPtr> GatewaysByKey(
    const std::vector<source::ObjectPtr>& objects) {
  std::map<std::string, source::ObjectPtr> out;
  for (const auto& obj : objects) {
    if (obj == nullptr || StringField(*obj, "kind") != "Gateway") continue;
    if (StringField(*obj, "apiVersion").rfind("gateway.networking.k8s.io/", 0) != 0) continue;
    out[std::string(MetaField(*obj, "namespace")) + "/" + std::string(MetaField(*obj, "name"))] =
        obj;
  }
  return out;
}

GatewayInfo MakeGatewayInfo(const std::string& key, const json::object* gateway,
                            const gatehouse::config::v1::Snapshot* snapshot,
                            const std::vector<Address>& spec_addresses) {
  GatewayInfo info;
  info.key = key;
  auto slash = key.find('/');
  info.ns = key.substr(0, slash);
  info.name = slash == std::string::npos ? "" : key.substr(slash + 1);
  info.spec_addresses = spec_addresses;
  if (gateway != nullptr) {
    info.uid = std::string(MetaField(*gateway, "uid"));
    if (std::string_view v = StringField(*gateway, "apiVersion"); !v.empty()) {
      info.api_version = std::string(v);
    }
    if (const json::object* spec = ObjectField(*gateway, "spec")) {
      if (const json::object* infra = ObjectField(*spec, "infrastructure")) {
        info.labels = StringMap(ObjectField(*infra, "labels"));
        info.annotations = StringMap(ObjectField(*infra, "annotations"));
      }
    }
  }
  if (snapshot != nullptr) {
    for (const auto& l : snapshot->listeners()) {
      info.ports.push_back({l.port(), l.protocol() == gatehouse::config::v1::UDP ? "UDP" : "TCP"});
    }
    auto less = [](const GatewayPort& a, const GatewayPort& b) {
      return std::tie(a.port, a.protocol) < std::tie(b.port, b.protocol);
    };
    std::sort(info.ports.begin(), info.ports.end(), less);
    info.ports.erase(std::unique(info.ports.begin(), info.ports.end()), info.ports.end());
  }
  return info;
}

}  // namespace gatehouse::infra
