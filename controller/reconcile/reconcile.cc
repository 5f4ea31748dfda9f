#include "controller/reconcile/reconcile.h"

#include <algorithm>

#include "controller/graph/graph.h"
#include "controller/resources/resources.h"
#include "controller/status/status.h"
#include "controller/translate/translate.h"
#include "features/supported_features.h"

namespace gatehouse::reconcile {

Outputs Reconcile(const Inputs& in) {
  Outputs out;
  resources::Resources res = resources::Load(in.objects);
  for (const auto& e : res.errors) {
    out.decode_errors.push_back(e.kind + " " + e.key + ": " + e.message);
  }
  graph::Options options;
  options.controller_name = in.controller_name;
  std::vector<std::string_view> claimed(features::SupportedFeatures());
  if (in.claimed_features) claimed.assign(in.claimed_features->begin(), in.claimed_features->end());
  std::sort(claimed.begin(), claimed.end());
  options.feature_claimed = [&claimed](std::string_view f) {
    return std::binary_search(claimed.begin(), claimed.end(), f);
  };
  graph::Graph g = graph::Build(res, options);

  status::StatusOptions sopt;
  sopt.controller_name = in.controller_name;
  sopt.now = in.now;
  sopt.supported_features = claimed;
  for (const graph::Gateway& gw : g.gateways) {
    std::string key = gw.Key();
    status::GatewayProgramming& p = sopt.programming[key];
    auto infra = in.infra.find(key);
    if (infra != in.infra.end()) {
      p.addresses = infra->second.addresses;
      p.acked_version = infra->second.acked_version;
      p.nacked_version = infra->second.nacked_version;
      p.nack_error = infra->second.nack_error;
      p.address_error = infra->second.address_error;
    }
    // Without a provisioner's word, a Gateway is reachable on its static addresses.
    if (p.addresses.empty()) {
      for (const std::string& a : gw.static_addresses) p.addresses.emplace_back("IPAddress", a);
    }
    if (!gw.accepted) continue;
    translate::TranslateOptions topt;
    if (in.bind_to_gateway_addresses) {
      for (const auto& [type, value] : p.addresses) {
        if (type == "IPAddress") topt.bind_addresses.push_back(value);
      }
    }
    auto& snapshot = out.snapshots[key] = translate::Translate(g, gw, topt);
    p.version = snapshot.version();
    auto& spec_addresses = out.gateways[key];
    for (const auto& a : gw.res->addresses) spec_addresses.emplace_back(a.type, a.value);
  }
  out.status = status::BuildStatus(res, g, sopt);
  return out;
}

}  // namespace gatehouse::reconcile
