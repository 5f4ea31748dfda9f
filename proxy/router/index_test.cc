// The per-group first-segment index must not change which route wins: for large random
// groups, Select must pick the first route (in order) that matches on its own.
#include <algorithm>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/router/router.h"
#include "proxy/router/test_util.h"

namespace gatehouse::router {
namespace {

using config::v1::PathMatch;

std::string RandomPath(std::mt19937& rng, bool allow_trailing_slash, int min_segments = 0) {
  static const char* kSegs[] = {"a", "b", "ab", "svc", "x"};
  int n = min_segments + static_cast<int>(rng() % (3 - min_segments));
  std::string p;
  for (int i = 0; i < n; ++i) p += std::string("/") + kSegs[rng() % 5];
  if (p.empty() || (allow_trailing_slash && rng() % 4 == 0)) p += "/";
  return p;
}

auto Key(const config::v1::Route& r) {
  const auto& m = r.match();
  int type = m.path().type() == PathMatch::EXACT ? 0 : 1;
  long len = type == 1 ? -static_cast<long>(std::max<size_t>(m.path().value().size(), 1)) : 0;
  return std::make_tuple(type, len, m.method().empty() ? 1 : 0, -m.headers_size(),
                         -m.query_params_size());
}

config::v1::HostRoutes RandomGroup(std::mt19937& rng, int n) {
  std::vector<config::v1::Route> plain, regex;
  for (int i = 0; i < n; ++i) {
    config::v1::Route r;
    r.set_name("r" + std::to_string(i));
    r.mutable_forward();
    auto* m = r.mutable_match();
    switch (rng() % 6) {
      case 0:
        m->mutable_path()->set_type(PathMatch::EXACT);
        m->mutable_path()->set_value(RandomPath(rng, true, 1));
        break;
      case 1:
        m->mutable_path()->set_type(PathMatch::REGULAR_EXPRESSION);
        m->mutable_path()->set_value(rng() % 2 ? "/a.*" : "/(b|x)/.+");
        if (rng() % 2) m->set_method("POST");
        break;
      default:
        // A few "/" prefixes (always candidates); mostly indexed prefixes.
        m->mutable_path()->set_value(rng() % 20 == 0 ? "/" : RandomPath(rng, true, 1));
        break;
    }
    if (rng() % 4 == 0) m->set_method(rng() % 2 ? "GET" : "POST");
    if (rng() % 4 == 0) {
      auto* h = m->add_headers();
      h->set_name("x-h");
      h->set_value(rng() % 2 ? "1" : "2");
    }
    if (rng() % 5 == 0) {
      auto* q = m->add_query_params();
      q->set_name("q");
      q->set_value("1");
    }
    (m->path().type() == PathMatch::REGULAR_EXPRESSION ? regex : plain).push_back(r);
  }
  std::stable_sort(plain.begin(), plain.end(),
                   [](const auto& a, const auto& b) { return Key(a) < Key(b); });
  // Regex routes may sit anywhere; scatter them.
  for (auto& r : regex) {
    plain.insert(plain.begin() + static_cast<long>(rng() % (plain.size() + 1)), r);
  }
  config::v1::HostRoutes group;
  for (auto& r : plain) *group.add_routes() = r;
  return group;
}

std::shared_ptr<const RouteTable> TableOf(const config::v1::HostRoutes& group) {
  config::v1::Listener l;
  auto* vh = l.add_virtual_hosts();
  vh->set_name("vh");
  *vh->add_hosts() = group;
  auto t = RouteTable::Compile(l);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : nullptr;
}

TEST(SegmentIndexTest, SameWinnerAsLinearScan) {
  std::mt19937 rng(12345);
  int checked = 0, routed = 0;
  for (int round = 0; round < 20; ++round) {
    auto group = RandomGroup(rng, 20 + static_cast<int>(rng() % 60));
    ASSERT_TRUE(CheckRouteOrder(group).ok()) << CheckRouteOrder(group);
    auto table = TableOf(group);
    ASSERT_TRUE(table);
    // Oracle: one single-route table per route (no index); the first that matches wins.
    std::vector<std::shared_ptr<const RouteTable>> singles;
    for (const auto& r : group.routes()) {
      config::v1::HostRoutes one;
      *one.add_routes() = r;
      singles.push_back(TableOf(one));
    }
    for (int i = 0; i < 100; ++i) {
      testing::TestRequest req;
      req.target = RandomPath(rng, true);
      if (rng() % 3 == 0) req.target += "?q=1";
      if (rng() % 5 == 0) req.target = "/.." + req.target;  // normalizes to the same path
      req.method = rng() % 2 ? "GET" : "POST";
      if (rng() % 2) req.headers.push_back({"X-H", rng() % 2 ? "1" : "2"});
      std::string want = "404";
      for (const auto& single : singles) {
        auto s = testing::SelectFor(*single, req);
        if (s->sel.routed()) {
          want = s->sel.route->name();
          break;
        }
      }
      auto got = testing::SelectFor(*table, req);
      EXPECT_EQ(got->Outcome(), want) << req.method << " " << req.target << " round " << round;
      ++checked;
      routed += want != "404";
    }
  }
  // The random requests must exercise both outcomes.
  EXPECT_GT(routed, checked / 4);
  EXPECT_LT(routed, checked);
}

}  // namespace
}  // namespace gatehouse::router
