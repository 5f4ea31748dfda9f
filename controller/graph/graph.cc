#include "controller/graph/graph.h"

#include "controller/graph/build_context.h"
#include "controller/graph/pem.h"

namespace gatehouse::graph {

std::string_view RouteKindName(RouteKind kind) {
  switch (kind) {
    case RouteKind::kHTTP:
      return "HTTPRoute";
    case RouteKind::kGRPC:
      return "GRPCRoute";
    case RouteKind::kTLS:
      return "TLSRoute";
    case RouteKind::kTCP:
      return "TCPRoute";
    case RouteKind::kUDP:
      return "UDPRoute";
  }
  return "";
}

std::string Listener::QualifiedName() const {
  const resources::ObjectBase* owner =
      listener_set ? static_cast<const resources::ObjectBase*>(listener_set->res) : gateway->res;
  return owner->meta.ns + "/" + owner->meta.name + "/" + spec->name;
}

std::vector<Listener*> Gateway::AllListeners() {
  std::vector<Listener*> out;
  for (Listener& l : listeners) out.push_back(&l);
  for (ListenerSet* ls : listener_sets) {
    for (Listener& l : ls->listeners) out.push_back(&l);
  }
  return out;
}

std::vector<const Listener*> Gateway::AllListeners() const {
  std::vector<const Listener*> out;
  for (const Listener& l : listeners) out.push_back(&l);
  for (const ListenerSet* ls : listener_sets) {
    for (const Listener& l : ls->listeners) out.push_back(&l);
  }
  return out;
}

namespace internal {

Context::Context(const resources::Resources& in, const Options& options, Graph& graph)
    : in(in), options(options), g(graph), grants(in.reference_grants) {
  for (const auto& s : in.services) services_.emplace(s.Key(), &s);
  for (const auto& s : in.secrets) secrets_.emplace(s.Key(), &s);
  for (const auto& c : in.config_maps) config_maps_.emplace(c.Key(), &c);
  for (const auto& e : in.endpoint_slices) {
    if (!e.service_name.empty()) slices_[e.meta.ns + "/" + e.service_name].push_back(&e);
  }
  for (const auto& n : in.namespaces) {
    auto labels = n.meta.labels;
    labels.emplace("kubernetes.io/metadata.name", n.meta.name);
    ns_labels_.emplace(n.meta.name, std::move(labels));
  }
}

const std::map<std::string, std::string>& Context::NamespaceLabels(const std::string& ns) {
  auto it = ns_labels_.find(ns);
  if (it == ns_labels_.end()) {
    it = ns_labels_
             .emplace(ns, std::map<std::string, std::string>{{"kubernetes.io/metadata.name", ns}})
             .first;
  }
  return it->second;
}

const resources::Service* Context::FindService(const std::string& key) const {
  auto it = services_.find(key);
  return it == services_.end() ? nullptr : it->second;
}

const resources::ConfigMap* Context::FindConfigMap(const std::string& key) const {
  auto it = config_maps_.find(key);
  return it == config_maps_.end() ? nullptr : it->second;
}

const std::vector<const resources::EndpointSlice*>& Context::SlicesOf(
    const std::string& service_key) const {
  static const std::vector<const resources::EndpointSlice*> kNone;
  auto it = slices_.find(service_key);
  return it == slices_.end() ? kNone : it->second;
}

std::string Context::UseTLSSecret(const std::string& key) {
  auto memo = secret_checks_.find(key);
  if (memo != secret_checks_.end()) return memo->second;
  std::string error;
  auto it = secrets_.find(key);
  if (it == secrets_.end()) {
    error = "Secret " + key + " does not exist";
  } else {
    const auto& data = it->second->data;
    auto crt = data.find("tls.crt");
    auto k = data.find("tls.key");
    if (crt == data.end() || k == data.end()) {
      error = "Secret " + key + " has no tls.crt and tls.key";
    } else if (std::string why = CheckCertificateAndKey(crt->second, k->second); !why.empty()) {
      error = "Secret " + key + ": " + why;
    } else {
      g.secrets[key] = PemSecret{crt->second, k->second};
    }
  }
  secret_checks_.emplace(key, error);
  return error;
}

std::string Context::UseCABundle(const std::string& configmap_key, std::string* bundle_key) {
  *bundle_key = "configmap:" + configmap_key;
  auto memo = ca_checks_.find(configmap_key);
  if (memo != ca_checks_.end()) return memo->second;
  std::string error;
  const resources::ConfigMap* cm = FindConfigMap(configmap_key);
  if (cm == nullptr) {
    error = "ConfigMap " + configmap_key + " does not exist";
  } else if (auto it = cm->data.find("ca.crt"); it == cm->data.end()) {
    error = "ConfigMap " + configmap_key + " has no ca.crt";
  } else if (std::string why = CheckCABundle(it->second); !why.empty()) {
    error = "ConfigMap " + configmap_key + ": " + why;
  } else {
    g.ca_bundles[*bundle_key] = it->second;
  }
  ca_checks_.emplace(configmap_key, error);
  return error;
}

}  // namespace internal

Graph Build(const resources::Resources& in, const Options& options) {
  Graph g;
  internal::Context ctx(in, options, g);
  internal::BuildGatewayClasses(ctx);
  internal::BuildGateways(ctx);
  internal::BuildListenerSets(ctx);
  internal::ResolveListenerConflicts(ctx);
  internal::FinishGateways(ctx);
  internal::BuildRoutes(ctx);
  internal::BuildBackendTLSPolicies(ctx);
  return g;
}

}  // namespace gatehouse::graph
