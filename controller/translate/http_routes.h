// HTTPRoute and GRPCRoute rules -> snapshot routes: one Route per (rule, match),
// filters and actions mapped 1:1, sorted by the Gateway API precedence rules.
#pragma once

#include <string>
#include <vector>

#include "controller/graph/graph.h"
#include "gatehouse/config/v1/config.pb.h"

namespace gatehouse::translate {

// A snapshot route with what it takes to order it among the others.
struct SortableRoute {
  gatehouse::config::v1::Route route;
  // The route's own hostname behind the effective one: exact before wildcard
  // before none, longer first (GatewayRouteHostnameIntersectionPrecedence).
  int host_rank = 2;
  size_t host_length = 0;
  int path_rank = 0;       // exact, regex, prefix
  size_t path_length = 0;  // longer first
  bool has_method = false;
  size_t headers = 0;
  size_t query_params = 0;
  const resources::Route* owner = nullptr;
  size_t rule = 0;
  size_t match = 0;
};

// Appends the routes of every valid rule of `route`.
void AppendRoutes(const graph::Graph& g, const graph::Route& route,
                  std::vector<SortableRoute>& out);

// Sorts by precedence: the route's own hostname, path kind and length, method,
// header count, query count, then the oldest route, namespace/name, rule and
// match order.
void SortByPrecedence(std::vector<SortableRoute>& routes);

}  // namespace gatehouse::translate
