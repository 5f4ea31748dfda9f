#include "controller/graph/reference_grant.h"

#include <gtest/gtest.h>

namespace gatehouse::graph {
namespace {

resources::ReferenceGrant Grant(std::string ns, std::string from_kind, std::string from_ns,
                                std::string to_kind, std::optional<std::string> to_name) {
  resources::ReferenceGrant g;
  g.meta.ns = std::move(ns);
  g.from.push_back({"gateway.networking.k8s.io", std::move(from_kind), std::move(from_ns)});
  g.to.push_back({"", std::move(to_kind), std::move(to_name)});
  return g;
}

TEST(ReferenceGrants, SameNamespaceNeedsNoGrant) {
  ReferenceGrants grants({});
  EXPECT_TRUE(
      grants.Allowed({"gateway.networking.k8s.io", "HTTPRoute", "a"}, {"", "Service", "a", "svc"}));
  EXPECT_FALSE(
      grants.Allowed({"gateway.networking.k8s.io", "HTTPRoute", "a"}, {"", "Service", "b", "svc"}));
}

TEST(ReferenceGrants, NamedAndWildcardTargets) {
  ReferenceGrants grants({Grant("b", "HTTPRoute", "a", "Service", "svc"),
                          Grant("c", "Gateway", "a", "Secret", std::nullopt)});
  RefFrom route{"gateway.networking.k8s.io", "HTTPRoute", "a"};
  EXPECT_TRUE(grants.Allowed(route, {"", "Service", "b", "svc"}));
  EXPECT_FALSE(grants.Allowed(route, {"", "Service", "b", "other"}));
  EXPECT_FALSE(grants.Allowed(route, {"", "Service", "c", "svc"}));
  EXPECT_FALSE(
      grants.Allowed({"gateway.networking.k8s.io", "GRPCRoute", "a"}, {"", "Service", "b", "svc"}));
  RefFrom gw{"gateway.networking.k8s.io", "Gateway", "a"};
  EXPECT_TRUE(grants.Allowed(gw, {"", "Secret", "c", "any"}));
  EXPECT_TRUE(grants.Allowed(gw, {"core", "Secret", "c", "any"}));
  EXPECT_FALSE(
      grants.Allowed({"gateway.networking.k8s.io", "Gateway", "x"}, {"", "Secret", "c", "any"}));
}

}  // namespace
}  // namespace gatehouse::graph
