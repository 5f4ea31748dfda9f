// State shared by the per-kind build steps of graph::Build: indexes over the
// inputs, the ReferenceGrant allow-set, and memoized certificate checks.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "controller/graph/graph.h"
#include "controller/graph/reference_grant.h"

namespace gatehouse::graph::internal {

class Context {
 public:
  Context(const resources::Resources& in, const Options& options, Graph& graph);

  const resources::Resources& in;
  const Options& options;
  Graph& g;
  ReferenceGrants grants;

  bool Claimed(std::string_view feature) const {
    return options.feature_claimed && options.feature_claimed(feature);
  }
  // Labels of a namespace, including kubernetes.io/metadata.name as the API
  // server sets it (also for namespaces the source does not list).
  const std::map<std::string, std::string>& NamespaceLabels(const std::string& ns);

  const resources::Service* FindService(const std::string& key) const;
  const resources::ConfigMap* FindConfigMap(const std::string& key) const;
  const std::vector<const resources::EndpointSlice*>& SlicesOf(
      const std::string& service_key) const;

  // Resolves a TLS Secret into Graph::secrets. Returns "" or why it is unusable.
  std::string UseTLSSecret(const std::string& key);
  // Resolves a ConfigMap's ca.crt into Graph::ca_bundles under `*bundle_key`.
  // Returns "" or why it is unusable.
  std::string UseCABundle(const std::string& configmap_key, std::string* bundle_key);

  std::unordered_map<std::string, Gateway*> gateways;           // ours, by key
  std::unordered_map<std::string, ListenerSet*> listener_sets;  // ours, by key

 private:
  std::unordered_map<std::string, const resources::Service*> services_;
  std::unordered_map<std::string, const resources::Secret*> secrets_;
  std::unordered_map<std::string, const resources::ConfigMap*> config_maps_;
  std::unordered_map<std::string, std::vector<const resources::EndpointSlice*>> slices_;
  std::unordered_map<std::string, std::map<std::string, std::string>> ns_labels_;
  std::unordered_map<std::string, std::string> secret_checks_;
  std::unordered_map<std::string, std::string> ca_checks_;
};

// Steps of Build, in order (each in its own file).
void BuildGatewayClasses(Context& ctx);
void BuildGateways(Context& ctx);
void BuildListenerSets(Context& ctx);
void ResolveListenerConflicts(Context& ctx);
void FinishGateways(Context& ctx);
void BuildRoutes(Context& ctx);
void BuildBackendTLSPolicies(Context& ctx);

// Shared by the route kinds.
void AttachRoute(Context& ctx, Route& route);

// Resolves a backendRef from a route of `route_kind` in `route_ns`. On failure
// the returned Backend has an empty cluster and `*failure` (if not yet set) says
// why, with a ResolvedRefs reason.
Backend ResolveBackend(Context& ctx, std::string_view route_kind, const std::string& route_ns,
                       const resources::ObjectRef& ref, int32_t weight, bool raw,
                       std::optional<Condition>* failure);

// Validates one listener of a Gateway or ListenerSet (everything except conflicts).
void ValidateListener(Context& ctx, Listener& l, std::string_view owner_kind,
                      const std::string& owner_ns);

}  // namespace gatehouse::graph::internal
