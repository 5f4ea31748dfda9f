// Route lookup benchmark: RouteTable::Select at 1, 100 and 10,000 routes, for requests
// that match the first, middle and last route and for a miss, in two layouts:
//   spread: routes over virtual hosts and host groups (sqrt(N) groups of sqrt(N) routes,
//           10 host groups per virtual host, exact and wildcard hostnames);
//   flat:   every route in one host group of one catch-all virtual host (worst case for
//           the linear scan inside a group).
// Counts heap allocations per Select through a replaced global operator new.
// Run: bazel run -c opt //proxy/router:router_bench
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <string>
#include <tuple>
#include <vector>

#include "benchmark/benchmark.h"
#include "gatehouse/config/v1/config.pb.h"
#include "proxy/router/router.h"

namespace {

std::atomic<uint64_t> g_allocations{0};

}  // namespace

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace gatehouse::router {
namespace {

// Route flavours, so matching exercises every matcher kind.
enum Kind { kExact, kPrefix, kPrefixHeader, kPrefixQuery };

struct RouteSpec {
  int id;
  Kind kind;
};

// Precedence key from router.h (exact first, longer prefix first, more headers/params).
auto Key(const RouteSpec& s) {
  int type = s.kind == kExact ? 0 : 1;
  int len = s.kind == kPrefixQuery ? 2 : 1;  // "/svc-N/v2" is longer than "/svc-N"
  int headers = s.kind == kPrefixHeader ? 1 : 0;
  int params = s.kind == kPrefixQuery ? 1 : 0;
  return std::make_tuple(type, -len, -headers, -params, s.id);
}

std::string Svc(int id) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "/svc-%06d", id);
  return buf;
}

void AddRoute(config::v1::HostRoutes* group, const RouteSpec& s) {
  auto* r = group->add_routes();
  r->set_name("ns/route-" + std::to_string(s.id));
  auto* m = r->mutable_match();
  switch (s.kind) {
    case kExact:
      m->mutable_path()->set_type(config::v1::PathMatch::EXACT);
      m->mutable_path()->set_value(Svc(s.id) + "/items");
      break;
    case kPrefix:
      m->mutable_path()->set_value(Svc(s.id));
      break;
    case kPrefixHeader: {
      m->mutable_path()->set_value(Svc(s.id));
      auto* h = m->add_headers();
      h->set_name("X-Version");
      h->set_value("v1");
      break;
    }
    case kPrefixQuery: {
      m->mutable_path()->set_value(Svc(s.id) + "/v2");
      auto* q = m->add_query_params();
      q->set_name("tenant");
      q->set_value("t" + std::to_string(s.id));
      break;
    }
  }
  auto* b = r->mutable_forward()->add_backends();
  b->set_cluster("ns/backend:8080");
  b->set_weight(1);
}

struct Probe {
  std::string host;
  std::string target;
  bool header = false;
};

Probe ProbeFor(const std::string& host, const RouteSpec& s) {
  switch (s.kind) {
    case kExact:
      return {host, Svc(s.id) + "/items"};
    case kPrefix:
      return {host, Svc(s.id) + "/a/b?x=1"};
    case kPrefixHeader:
      return {host, Svc(s.id) + "/a", true};
    case kPrefixQuery:
      return {host, Svc(s.id) + "/v2/x?a=b&tenant=t" + std::to_string(s.id)};
  }
  return {};
}

enum Position { kFirst, kMiddle, kLast, kMiss };

struct Fixture {
  std::shared_ptr<const RouteTable> table;
  Probe probe;
};

// Builds the table for (n routes, layout) and the request for `pos`.
Fixture Build(int n, bool flat, Position pos) {
  int groups = flat ? 1 : std::max(1, static_cast<int>(std::lround(std::sqrt(n))));
  int per_group = (n + groups - 1) / groups;
  config::v1::Listener l;
  l.set_name("http-80");
  l.set_port(80);
  l.set_protocol(config::v1::HTTP);
  std::vector<std::string> group_hosts;
  std::vector<std::vector<RouteSpec>> specs;
  int next = 0;
  config::v1::VirtualHost* vh = nullptr;
  for (int g = 0; g < groups; ++g) {
    if (flat) {
      vh = l.add_virtual_hosts();
      vh->set_name("ns/gw/any");
    } else if (g % 10 == 0) {
      vh = l.add_virtual_hosts();
      vh->set_name("ns/gw/l" + std::to_string(g / 10));
      vh->set_hostname("*.zone" + std::to_string(g / 10) + ".example.com");
    }
    auto* group = vh->add_hosts();
    std::string host;
    if (flat) {
      host = "anything.example.com";
    } else if (g % 2 == 0) {
      // Exact hostname group.
      host = "app" + std::to_string(g) + ".zone" + std::to_string(g / 10) + ".example.com";
      group->set_hostname(host);
    } else {
      // Wildcard group: a deeper wildcard inside the listener's.
      group->set_hostname("*.svc" + std::to_string(g) + ".zone" + std::to_string(g / 10) +
                          ".example.com");
      host = "x.svc" + std::to_string(g) + ".zone" + std::to_string(g / 10) + ".example.com";
    }
    std::vector<RouteSpec> in_group;
    for (int i = 0; i < per_group && next < n; ++i, ++next) {
      in_group.push_back({next, static_cast<Kind>(next % 4)});
    }
    std::stable_sort(in_group.begin(), in_group.end(),
                     [](const RouteSpec& a, const RouteSpec& b) { return Key(a) < Key(b); });
    for (const auto& s : in_group) AddRoute(group, s);
    group_hosts.push_back(host);
    specs.push_back(std::move(in_group));
  }
  auto table = RouteTable::Compile(l);
  if (!table.ok()) {
    std::fprintf(stderr, "compile: %s\n", std::string(table.status().message()).c_str());
    std::abort();
  }
  Fixture f;
  f.table = *table;
  size_t g = pos == kFirst ? 0 : pos == kMiddle ? specs.size() / 2 : specs.size() - 1;
  const auto& routes = specs[g];
  switch (pos) {
    case kFirst:
      f.probe = ProbeFor(group_hosts[g], routes.front());
      break;
    case kMiddle:
      f.probe = ProbeFor(group_hosts[g], routes[routes.size() / 2]);
      break;
    case kLast:
      f.probe = ProbeFor(group_hosts[g], routes.back());
      break;
    case kMiss:
      f.probe = {group_hosts[g], "/no/such/route?x=1"};
      break;
  }
  return f;
}

void RunSelect(benchmark::State& state, bool flat) {
  int n = static_cast<int>(state.range(0));
  auto pos = static_cast<Position>(state.range(1));
  Fixture f = Build(n, flat, pos);
  std::vector<std::pair<std::string, std::string>> header_storage = {
      {"user-agent", "bench"}, {"accept", "*/*"}, {"x-request-id", "abc"}};
  if (f.probe.header) header_storage.emplace_back("x-version", "v1");
  PairVectorHeaders headers(header_storage);
  Request req;
  req.method = "GET";
  req.authority = f.probe.host;
  req.target = f.probe.target;
  std::string scratch;
  Selection warm = f.table->Select(req, headers, scratch);
  bool want_route = pos != kMiss;
  if (warm.routed() != want_route) {
    state.SkipWithError("probe did not select as expected");
    return;
  }
  uint64_t before = g_allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    Selection s = f.table->Select(req, headers, scratch);
    benchmark::DoNotOptimize(s);
  }
  uint64_t allocs = g_allocations.load(std::memory_order_relaxed) - before;
  state.counters["allocs/op"] =
      benchmark::Counter(static_cast<double>(allocs), benchmark::Counter::kAvgIterations);
  static const char* kPos[] = {"first", "middle", "last", "miss"};
  state.SetLabel(std::string(flat ? "flat " : "spread ") + kPos[pos] + " " + f.probe.target);
}

void BM_SelectSpread(benchmark::State& state) { RunSelect(state, false); }
void BM_SelectFlat(benchmark::State& state) { RunSelect(state, true); }

void Positions(benchmark::internal::Benchmark* b) {
  for (int n : {1, 100, 10000}) {
    for (int pos : {kFirst, kMiddle, kLast, kMiss}) b->Args({n, pos});
  }
}
BENCHMARK(BM_SelectSpread)->Apply(Positions);
BENCHMARK(BM_SelectFlat)->Apply(Positions);

// A path that needs normalizing: the scratch buffer is reused, so no allocation either.
void BM_SelectNormalizedPath(benchmark::State& state) {
  Fixture f = Build(100, false, kFirst);
  // "/svc-000000/items" requested as "/x/..//svc-000000/./items".
  std::string target = "/x/..//" + f.probe.target.substr(1);
  target.insert(target.rfind('/'), "/.");
  EmptyHeaders headers;
  Request req{.method = "GET", .authority = f.probe.host, .target = target};
  std::string scratch;
  if (!f.table->Select(req, headers, scratch).routed()) {
    state.SkipWithError("probe did not select");
    return;
  }
  uint64_t before = g_allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    Selection s = f.table->Select(req, headers, scratch);
    benchmark::DoNotOptimize(s);
  }
  state.counters["allocs/op"] = benchmark::Counter(
      static_cast<double>(g_allocations.load(std::memory_order_relaxed) - before),
      benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_SelectNormalizedPath);

// Full compile of a listener (what a snapshot swap costs per listener).
void BM_Compile(benchmark::State& state) {
  int n = static_cast<int>(state.range(0));
  Fixture f = Build(n, false, kFirst);
  const config::v1::Listener& l = f.table->listener();
  for (auto _ : state) {
    auto t = RouteTable::Compile(l);
    benchmark::DoNotOptimize(t);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_Compile)->Arg(100)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gatehouse::router

BENCHMARK_MAIN();
