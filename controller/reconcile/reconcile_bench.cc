// The cost of a full reconcile at scale: 10,000 HTTPRoutes on 10 Gateways over
// 100 Services. Run: bazel run -c opt //controller/reconcile:reconcile_bench
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "controller/reconcile/reconcile.h"

namespace gatehouse::reconcile {
namespace {

namespace json = boost::json;

source::ObjectPtr Obj(json::object o) { return std::make_shared<const json::object>(std::move(o)); }

json::object Meta(const std::string& ns, const std::string& name, int index) {
  char ts[32];
  snprintf(ts, sizeof ts, "2024-01-01T%02d:%02d:%02dZ", index / 3600 % 24, index / 60 % 60,
           index % 60);
  json::object m{
      {"name", name}, {"generation", 1}, {"resourceVersion", "1"}, {"creationTimestamp", ts}};
  if (!ns.empty()) m["namespace"] = ns;
  return m;
}

Inputs MakeInputs(int routes, int gateways, int services) {
  Inputs in;
  in.now = "2024-06-01T00:00:00Z";
  in.objects.push_back(Obj({{"apiVersion", "gateway.networking.k8s.io/v1"},
                            {"kind", "GatewayClass"},
                            {"metadata", Meta("", "gatehouse", 0)},
                            {"spec", {{"controllerName", "gatehouse.dev/gateway-controller"}}}}));
  for (int g = 0; g < gateways; ++g) {
    json::array listeners{json::object{{"name", "http"},
                                       {"port", 80},
                                       {"protocol", "HTTP"},
                                       {"allowedRoutes", {{"namespaces", {{"from", "All"}}}}}},
                          json::object{{"name", "http-wild"},
                                       {"port", 80},
                                       {"protocol", "HTTP"},
                                       {"hostname", "*.gw" + std::to_string(g) + ".example.com"},
                                       {"allowedRoutes", {{"namespaces", {{"from", "All"}}}}}}};
    in.objects.push_back(
        Obj({{"apiVersion", "gateway.networking.k8s.io/v1"},
             {"kind", "Gateway"},
             {"metadata", Meta("infra", "gw-" + std::to_string(g), g)},
             {"spec", {{"gatewayClassName", "gatehouse"}, {"listeners", listeners}}}}));
    in.infra["infra/gw-" + std::to_string(g)].addresses = {
        {"IPAddress", "10.0.0." + std::to_string(g + 1)}};
  }
  for (int s = 0; s < services; ++s) {
    std::string ns = "app-" + std::to_string(s % 10), name = "svc-" + std::to_string(s);
    in.objects.push_back(Obj(
        {{"apiVersion", "v1"},
         {"kind", "Service"},
         {"metadata", Meta(ns, name, s)},
         {"spec",
          {{"ports",
            json::array{json::object{{"name", "http"}, {"port", 8080}, {"targetPort", 3000}}}}}}}));
    json::array endpoints;
    for (int e = 0; e < 3; ++e) {
      endpoints.push_back(json::object{
          {"addresses", json::array{"10.1." + std::to_string(s) + "." + std::to_string(e)}},
          {"conditions", {{"ready", true}}}});
    }
    json::object md = Meta(ns, name + "-abc", s);
    md["labels"] = json::object{{"kubernetes.io/service-name", name}};
    in.objects.push_back(
        Obj({{"apiVersion", "discovery.k8s.io/v1"},
             {"kind", "EndpointSlice"},
             {"metadata", md},
             {"addressType", "IPv4"},
             {"endpoints", endpoints},
             {"ports", json::array{json::object{{"name", "http"}, {"port", 3000}}}}}));
  }
  for (int r = 0; r < routes; ++r) {
    int s = r % services;
    std::string ns = "app-" + std::to_string(s % 10);
    std::string gw = "gw-" + std::to_string(r % gateways);
    json::array rules;
    for (int k = 0; k < 2; ++k) {
      rules.push_back(json::object{
          {"matches", json::array{json::object{
                          {"path",
                           {{"type", "PathPrefix"},
                            {"value", "/r" + std::to_string(r) + "/" + std::to_string(k)}}},
                          {"headers", json::array{json::object{{"name", "x-v"},
                                                               {"value", std::to_string(k)}}}}}}},
          {"backendRefs",
           json::array{json::object{
               {"name", "svc-" + std::to_string(s)}, {"port", 8080}, {"weight", 1}}}}});
    }
    json::object route{
        {"apiVersion", "gateway.networking.k8s.io/v1"},
        {"kind", "HTTPRoute"},
        {"metadata", Meta(ns, "route-" + std::to_string(r), r)},
        {"spec",
         {{"parentRefs", json::array{json::object{{"name", gw}, {"namespace", "infra"}}}},
          {"hostnames", json::array{"h" + std::to_string(r % 200) + "." + gw + ".example.com"}},
          {"rules", rules}}}};
    in.objects.push_back(Obj(std::move(route)));
  }
  return in;
}

void BM_Reconcile(benchmark::State& state) {
  Inputs in = MakeInputs(static_cast<int>(state.range(0)), 10, 100);
  size_t routes_out = 0;
  for (auto _ : state) {
    Outputs out = Reconcile(in);
    routes_out = out.status.size();
    benchmark::DoNotOptimize(out);
  }
  state.counters["status_updates"] = static_cast<double>(routes_out);
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Reconcile)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gatehouse::reconcile

BENCHMARK_MAIN();
