#include "controller/kube/kinds.h"

#include "absl/strings/str_cat.h"

namespace gatehouse::kube {

std::string KindInfo::ApiVersion() const {
  return group.empty() ? version : absl::StrCat(group, "/", version);
}

std::string KindInfo::CollectionPath() const {
  return group.empty() ? absl::StrCat("/api/", version, "/", resource)
                       : absl::StrCat("/apis/", group, "/", version, "/", resource);
}

std::string KindInfo::ObjectPath(std::string_view ns, std::string_view name) const {
  const std::string base =
      group.empty() ? absl::StrCat("/api/", version) : absl::StrCat("/apis/", group, "/", version);
  // Debian's Abseil has its own string_view: convert before StrCat.
  const std::string n(name);
  if (namespaced) return absl::StrCat(base, "/namespaces/", std::string(ns), "/", resource, "/", n);
  return absl::StrCat(base, "/", resource, "/", n);
}

const std::vector<WatchedKind>& WatchedKinds() {
  static const auto* kinds = new std::vector<WatchedKind>{
      {std::string(kGatewayGroup), "gatewayclasses", "GatewayClass", false, {"v1", "v1beta1"}},
      {std::string(kGatewayGroup), "gateways", "Gateway", true, {"v1", "v1beta1"}},
      {std::string(kGatewayGroup), "httproutes", "HTTPRoute", true, {"v1", "v1beta1"}},
      {std::string(kGatewayGroup), "grpcroutes", "GRPCRoute", true, {"v1"}},
      {std::string(kGatewayGroup), "listenersets", "ListenerSet", true, {"v1"}},
      {std::string(kGatewayGroup), "referencegrants", "ReferenceGrant", true, {"v1", "v1beta1"}},
      {std::string(kGatewayGroup),
       "backendtlspolicies",
       "BackendTLSPolicy",
       true,
       {"v1", "v1alpha3"}},
      {std::string(kGatewayGroup), "tlsroutes", "TLSRoute", true, {"v1", "v1alpha3", "v1alpha2"}},
      {std::string(kGatewayGroup), "tcproutes", "TCPRoute", true, {"v1", "v1alpha2"}},
      {std::string(kGatewayGroup), "udproutes", "UDPRoute", true, {"v1", "v1alpha2"}},
      {"", "services", "Service", true, {"v1"}},
      {"", "secrets", "Secret", true, {"v1"}},
      {"", "configmaps", "ConfigMap", true, {"v1"}},
      {"", "namespaces", "Namespace", false, {"v1"}},
      {"discovery.k8s.io", "endpointslices", "EndpointSlice", true, {"v1"}},
  };
  return *kinds;
}

std::vector<KindInfo> ChooseKinds(const std::map<std::string, std::set<std::string>>& served) {
  std::vector<KindInfo> out;
  for (const WatchedKind& w : WatchedKinds()) {
    if (w.group != kGatewayGroup) {
      out.push_back({w.group, w.versions.front(), w.resource, w.kind, w.namespaced});
      continue;
    }
    for (const std::string& v : w.versions) {
      auto it = served.find(absl::StrCat(w.group, "/", v));
      if (it != served.end() && it->second.count(w.resource) > 0) {
        out.push_back({w.group, v, w.resource, w.kind, w.namespaced});
        break;
      }
    }
  }
  return out;
}

std::string_view GroupOf(std::string_view api_version) {
  const size_t slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

std::optional<KindInfo> FindKind(const std::vector<KindInfo>& kinds, std::string_view api_version,
                                 std::string_view kind) {
  const std::string_view group = GroupOf(api_version);
  for (const KindInfo& k : kinds) {
    if (k.group == group && k.kind == kind) return k;
  }
  return std::nullopt;
}

}  // namespace gatehouse::kube
