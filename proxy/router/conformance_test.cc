// Table-driven precedence tests reproducing the upstream conformance cases (Gateway API
// v1.7.0): each Gateway + HTTPRoutes is written as the snapshot Listener the controller
// produces (virtual host per Gateway listener, host groups by intersected hostname,
// routes sorted by precedence), then every request of the upstream test is selected.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proxy/router/actions.h"
#include "proxy/router/router.h"
#include "proxy/router/test_util.h"

namespace gatehouse::router {
namespace {

using testing::MustCompile;
using testing::SelectFor;
using testing::TestRequest;

// One route forwarding to `backend`, with the match body `match` (text format).
std::string Fwd(const std::string& backend, const std::string& match) {
  return "routes { name: '" + backend + "' match { " + match +
         " } forward { backends { cluster: '" + backend + "' weight: 1 } } }";
}

// The same, for a route whose own hostname `route_hostname` put it in its group.
std::string FwdFrom(const std::string& route_hostname, const std::string& backend,
                    const std::string& match) {
  return "routes { name: '" + backend + "' route_hostname: '" + route_hostname + "' match { " +
         match + " } forward { backends { cluster: '" + backend + "' weight: 1 } } }";
}

std::string Group(const std::string& hostname, const std::vector<std::string>& routes) {
  std::string out = "hosts { hostname: '" + hostname + "' ";
  for (const auto& r : routes) out += r + " ";
  return out + "}";
}

std::string VHost(const std::string& name, const std::string& hostname,
                  const std::vector<std::string>& groups) {
  std::string out = "virtual_hosts { name: '" + name + "' hostname: '" + hostname + "' ";
  for (const auto& g : groups) out += g + " ";
  return out + "}";
}

std::string Listener(const std::vector<std::string>& vhosts) {
  std::string out = "name: 'http-80' port: 80 protocol: HTTP ";
  for (const auto& v : vhosts) out += v + " ";
  return out;
}

// The cluster of the chosen route, or the status code.
std::string Backend(const RouteTable& t, TestRequest r) {
  auto s = SelectFor(t, std::move(r));
  if (!s->sel.routed()) return std::to_string(s->sel.HttpStatus());
  return s->sel.route->forward().backends(0).cluster();
}

struct Case {
  TestRequest request;
  std::string want;  // backend or status
};

// The snapshots below are sorted the way router.h documents (and the controller sorts);
// checked in every build, not only where Compile checks it (debug).
void ExpectSorted(const config::v1::Listener& listener) {
  for (const auto& vh : listener.virtual_hosts()) {
    for (const auto& g : vh.hosts()) {
      EXPECT_TRUE(CheckRouteOrder(g).ok()) << CheckRouteOrder(g);
    }
  }
}

void RunCases(const std::string& listener_text, const std::vector<Case>& cases) {
  ExpectSorted(testing::ParseText<config::v1::Listener>(listener_text));
  auto t = MustCompile(listener_text);
  ASSERT_TRUE(t);
  for (const auto& c : cases) {
    std::string headers;
    for (const auto& [k, v] : c.request.headers) headers += " " + k + "=" + v;
    EXPECT_EQ(Backend(*t, c.request), c.want)
        << c.request.method << " " << c.request.host << c.request.target << headers;
  }
}

const char* kV1 = "infra-backend-v1";
const char* kV2 = "infra-backend-v2";
const char* kV3 = "infra-backend-v3";

TEST(ConformanceTest, HTTPRouteMatching) {
  RunCases(Listener({VHost("same-namespace/http", "",
                           {Group("",
                                  {
                                      Fwd(kV2, "path { value: '/v2' }"),
                                      Fwd(kV1, "headers { name: 'version' value: 'one' }"),
                                      Fwd(kV2, "headers { name: 'version' value: 'two' }"),
                                      Fwd(kV1, "path { value: '/' }"),
                                  })})}),
           {
               {{.target = "/"}, kV1},
               {{.target = "/example"}, kV1},
               {{.target = "/", .headers = {{"Version", "one"}}}, kV1},
               {{.target = "/v2"}, kV2},
               {{.target = "/v2/example"}, kV2},
               {{.target = "/", .headers = {{"Version", "two"}}}, kV2},
               {{.target = "/v2/"}, kV2},
               {{.target = "/v2example"}, kV1},
               {{.target = "/foo/v2/example"}, kV1},
           });
}

TEST(ConformanceTest, HTTPRouteMatchingAcrossRoutes) {
  RunCases(
      Listener({VHost("same-namespace/http", "",
                      {Group("example.com",
                             {
                                 Fwd(kV2, "path { value: '/v2' }"),
                                 Fwd(kV1, "headers { name: 'version' value: 'one' }"),
                                 Fwd(kV2, "headers { name: 'version' value: 'two' }"),
                                 Fwd(kV1, "path { value: '/' }"),
                             }),
                       Group("example.net",
                             {
                                 Fwd(kV1, "headers { name: 'version' value: 'one' }"),
                                 Fwd(kV1, "path { value: '/' }"),
                             })})}),
      {
          {{.host = "example.com", .target = "/"}, kV1},
          {{.host = "example.com", .target = "/example"}, kV1},
          {{.host = "example.net", .target = "/example"}, kV1},
          {{.host = "example.com", .target = "/example", .headers = {{"Version", "one"}}}, kV1},
          {{.host = "example.com", .target = "/v2"}, kV2},
          {{.host = "example.net", .target = "/v2"}, kV1},
          {{.host = "example.com", .target = "/v2/example"}, kV2},
          {{.host = "example.com", .target = "/", .headers = {{"Version", "two"}}}, kV2},
          {{.host = "example.org", .target = "/"}, "404"},
      });
}

TEST(ConformanceTest, HTTPRoutePathMatchOrder) {
  RunCases(Listener({VHost("same-namespace/http", "",
                           {Group("",
                                  {
                                      Fwd(kV1, "path { type: EXACT value: '/match' }"),
                                      Fwd(kV2, "path { type: EXACT value: '/match/exact' }"),
                                      Fwd(kV3, "path { type: EXACT value: '/match/exact/one' }"),
                                      Fwd(kV2, "path { value: '/match/prefix/one' }"),
                                      Fwd(kV1, "path { value: '/match/prefix/' }"),
                                      Fwd(kV3, "path { value: '/match/' }"),
                                  })})}),
           {
               {{.target = "/match/exact/one"}, kV3},
               {{.target = "/match/exact"}, kV2},
               {{.target = "/match"}, kV1},
               {{.target = "/match/prefix/one/any"}, kV2},
               {{.target = "/match/prefix/any"}, kV1},
               {{.target = "/match/any"}, kV3},
           });
}

TEST(ConformanceTest, HTTPRouteHeaderMatching) {
  RunCases(Listener({VHost("same-namespace/http", "",
                           {Group("",
                                  {
                                      Fwd(kV1,
                                          "headers { name: 'version' value: 'two' } "
                                          "headers { name: 'color' value: 'orange' }"),
                                      Fwd(kV1, "headers { name: 'version' value: 'one' }"),
                                      Fwd(kV2, "headers { name: 'version' value: 'two' }"),
                                      Fwd(kV1, "headers { name: 'color' value: 'blue' }"),
                                      Fwd(kV1, "headers { name: 'color' value: 'green' }"),
                                      Fwd(kV2, "headers { name: 'color' value: 'red' }"),
                                      Fwd(kV2, "headers { name: 'color' value: 'yellow' }"),
                                  })})}),
           {
               {{.headers = {{"Version", "one"}}}, kV1},
               {{.headers = {{"Version", "two"}}}, kV2},
               {{.headers = {{"Version", "two"}, {"Color", "orange"}}}, kV1},
               {{.headers = {{"Version", "two"}, {"Color", "blue"}}}, kV2},
               {{.headers = {{"Color", "orange"}}}, "404"},
               {{.headers = {{"Some-Other-Header", "one"}}}, "404"},
               {{.headers = {{"Color", "blue"}}}, kV1},
               {{.headers = {{"Color", "green"}}}, kV1},
               {{.headers = {{"Color", "red"}}}, kV2},
               {{.headers = {{"Color", "yellow"}}}, kV2},
               {{.headers = {{"Color", "purple"}}}, "404"},
           });
}

TEST(ConformanceTest, HTTPRouteQueryParamMatching) {
  RunCases(
      Listener({VHost(
          "same-namespace/http", "",
          {Group("",
                 {
                     // PathPrefix length 6 first, then by method / headers / params.
                     Fwd(kV3,
                         "path { value: '/path2' } headers { name: 'version' value: 'two' } "
                         "query_params { name: 'animal' value: 'whale' }"),
                     Fwd(kV1,
                         "path { value: '/path4' } headers { name: 'version' value: 'three' } "
                         "query_params { name: 'animal' value: 'kraken' }"),
                     Fwd(kV1,
                         "path { value: '/path1' } query_params { name: 'animal' value: 'whale' }"),
                     Fwd(kV1,
                         "path { value: '/path3' } query_params { name: 'animal' value: 'shark' }"),
                     Fwd(kV1, "path { value: '/path5' }"),
                     Fwd(kV2,
                         "headers { name: 'version' value: 'one' } "
                         "query_params { name: 'animal' value: 'whale' }"),
                     Fwd(kV3, "headers { name: 'version' value: 'four' }"),
                     Fwd(kV3,
                         "query_params { name: 'animal' value: 'dolphin' } "
                         "query_params { name: 'color' value: 'blue' }"),
                     Fwd(kV1, "query_params { name: 'animal' value: 'whale' }"),
                     Fwd(kV2, "query_params { name: 'animal' value: 'dolphin' }"),
                     Fwd(kV3, "query_params { name: 'ANIMAL' value: 'Whale' }"),
                     Fwd(kV2, "query_params { name: 'animal' value: 'hydra' }"),
                 })})}),
      {
          {{.target = "/?animal=whale"}, kV1},
          {{.target = "/?animal=dolphin"}, kV2},
          {{.target = "/?animal=dolphin&color=blue"}, kV3},
          {{.target = "/?ANIMAL=Whale"}, kV3},
          {{.target = "/?animal=whale&otherparam=irrelevant"}, kV1},
          {{.target = "/?animal=dolphin&color=yellow"}, kV2},
          {{.target = "/?color=blue"}, "404"},
          {{.target = "/?animal=dog"}, "404"},
          {{.target = "/?animal=whaledolphin"}, "404"},
          {{.target = "/"}, "404"},
          {{.target = "/path1?animal=whale"}, kV1},
          {{.target = "/?animal=whale", .headers = {{"version", "one"}}}, kV2},
          {{.target = "/path2?animal=whale", .headers = {{"version", "two"}}}, kV3},
          {{.target = "/path3?animal=shark"}, kV1},
          {{.target = "/path4?animal=kraken", .headers = {{"version", "three"}}}, kV1},
          {{.target = "/?animal=shark"}, "404"},
          {{.target = "/path4?animal=kraken"}, "404"},
          {{.target = "/path5?animal=hydra"}, kV1},
          {{.target = "/?animal=hydra", .headers = {{"version", "four"}}}, kV3},
      });
}

TEST(ConformanceTest, HTTPRouteMethodMatching) {
  RunCases(
      Listener({VHost("same-namespace/http", "",
                      {Group("",
                             {
                                 Fwd(kV3,
                                     "path { value: '/path2' } method: 'POST' "
                                     "headers { name: 'version' value: 'two' }"),
                                 Fwd(kV1,
                                     "path { value: '/path4' } method: 'DELETE' "
                                     "headers { name: 'version' value: 'three' }"),
                                 Fwd(kV1, "path { value: '/path1' } method: 'GET'"),
                                 Fwd(kV1, "path { value: '/path3' } method: 'PATCH'"),
                                 Fwd(kV1, "path { value: '/path5' }"),
                                 Fwd(kV2, "method: 'PUT' headers { name: 'version' value: 'one' }"),
                                 Fwd(kV1, "method: 'POST'"),
                                 Fwd(kV2, "method: 'GET'"),
                                 Fwd(kV2, "method: 'PATCH'"),
                                 Fwd(kV3, "headers { name: 'version' value: 'four' }"),
                             })})}),
      {
          {{.target = "/", .method = "POST"}, kV1},
          {{.target = "/", .method = "GET"}, kV2},
          {{.target = "/", .method = "HEAD"}, "404"},
          {{.target = "/path1", .method = "GET"}, kV1},
          {{.target = "/", .method = "PUT", .headers = {{"version", "one"}}}, kV2},
          {{.target = "/path2", .method = "POST", .headers = {{"version", "two"}}}, kV3},
          {{.target = "/path3", .method = "PATCH"}, kV1},
          {{.target = "/path4", .method = "DELETE", .headers = {{"version", "three"}}}, kV1},
          {{.target = "/", .method = "PUT"}, "404"},
          {{.target = "/path4", .method = "DELETE"}, "404"},
          {{.target = "/path5", .method = "PATCH"}, kV1},
          {{.target = "/", .method = "PATCH", .headers = {{"version", "four"}}}, kV2},
      });
}

TEST(ConformanceTest, HTTPRouteHostnameIntersection) {
  RunCases(Listener({
               VHost("gw/listener-1", "very.specific.com",
                     {Group("very.specific.com", {Fwd(kV1, "path { value: '/s1' }"),
                                                  Fwd(kV3, "path { value: '/s3' }")})}),
               VHost("gw/listener-2", "*.wildcard.io",
                     {Group("foo.wildcard.io", {Fwd(kV2, "path { value: '/s2' }")}),
                      Group("bar.wildcard.io", {Fwd(kV2, "path { value: '/s2' }")}),
                      Group("foo.bar.wildcard.io", {Fwd(kV2, "path { value: '/s2' }")})}),
               VHost("gw/listener-3", "*.anotherwildcard.io",
                     {Group("*.anotherwildcard.io", {Fwd(kV1, "path { value: '/s4' }")})}),
           }),
           {
               {{.host = "very.specific.com", .target = "/s1"}, kV1},
               {{.host = "very.specific.com:1234", .target = "/s1"}, kV1},
               {{.host = "non.matching.com", .target = "/s1"}, "404"},
               {{.host = "foo.nonmatchingwildcard.io", .target = "/s1"}, "404"},
               {{.host = "foo.wildcard.io", .target = "/s1"}, "404"},
               {{.host = "very.specific.com", .target = "/non-matching-prefix"}, "404"},
               {{.host = "foo.wildcard.io", .target = "/s2"}, kV2},
               {{.host = "bar.wildcard.io", .target = "/s2"}, kV2},
               {{.host = "foo.bar.wildcard.io", .target = "/s2"}, kV2},
               {{.host = "non.matching.com", .target = "/s2"}, "404"},
               {{.host = "wildcard.io", .target = "/s2"}, "404"},
               {{.host = "very.specific.com", .target = "/s2"}, "404"},
               {{.host = "foo.wildcard.io", .target = "/non-matching-prefix"}, "404"},
               {{.host = "very.specific.com", .target = "/s3"}, kV3},
               {{.host = "non.matching.com", .target = "/s3"}, "404"},
               {{.host = "foo.specific.com", .target = "/s3"}, "404"},
               {{.host = "foo.wildcard.io", .target = "/s3"}, "404"},
               {{.host = "foo.anotherwildcard.io", .target = "/s4"}, kV1},
               {{.host = "bar.anotherwildcard.io", .target = "/s4"}, kV1},
               {{.host = "foo.bar.anotherwildcard.io", .target = "/s4"}, kV1},
               {{.host = "anotherwildcard.io", .target = "/s4"}, "404"},
               {{.host = "foo.wildcard.io", .target = "/s4"}, "404"},
               {{.host = "very.specific.com", .target = "/s4"}, "404"},
               {{.host = "foo.anotherwildcard.io", .target = "/non-matching-prefix"}, "404"},
               // no-intersecting-hosts attaches nowhere.
               {{.host = "specific.but.wrong.com", .target = "/s5"}, "404"},
               {{.host = "wildcard.io", .target = "/s5"}, "404"},
           });
}

TEST(ConformanceTest, HTTPRouteListenerHostnameMatching) {
  RunCases(Listener({
               VHost("gw/listener-1", "bar.com", {Group("bar.com", {Fwd(kV1, "")})}),
               VHost("gw/listener-2", "foo.bar.com", {Group("foo.bar.com", {Fwd(kV2, "")})}),
               VHost("gw/listener-3", "*.bar.com", {Group("*.bar.com", {Fwd(kV3, "")})}),
               VHost("gw/listener-4", "*.foo.com", {Group("*.foo.com", {Fwd(kV3, "")})}),
           }),
           {
               {{.host = "bar.com"}, kV1},
               {{.host = "foo.bar.com"}, kV2},
               {{.host = "baz.bar.com"}, kV3},
               {{.host = "boo.bar.com"}, kV3},
               {{.host = "multiple.prefixes.bar.com"}, kV3},
               {{.host = "multiple.prefixes.foo.com"}, kV3},
               {{.host = "foo.com"}, "404"},
               {{.host = "no.matching.host"}, "404"},
           });
}

const std::vector<Case>& IsolationCases() {
  static const auto* cases = new std::vector<Case>{
      {{.host = "bar.com", .target = "/empty-hostname"}, kV1},
      {{.host = "bar.com", .target = "/wildcard-example-com"}, "404"},
      {{.host = "bar.com", .target = "/wildcard-foo-example-com"}, "404"},
      {{.host = "bar.com", .target = "/abc-foo-example-com"}, "404"},
      {{.host = "bar.example.com", .target = "/empty-hostname"}, "404"},
      {{.host = "bar.example.com", .target = "/wildcard-example-com"}, kV1},
      {{.host = "bar.example.com", .target = "/wildcard-foo-example-com"}, "404"},
      {{.host = "bar.example.com", .target = "/abc-foo-example-com"}, "404"},
      {{.host = "bar.foo.example.com", .target = "/empty-hostname"}, "404"},
      {{.host = "bar.foo.example.com", .target = "/wildcard-example-com"}, "404"},
      {{.host = "bar.foo.example.com", .target = "/wildcard-foo-example-com"}, kV1},
      {{.host = "bar.foo.example.com", .target = "/abc-foo-example-com"}, "404"},
      {{.host = "abc.foo.example.com", .target = "/empty-hostname"}, "404"},
      {{.host = "abc.foo.example.com", .target = "/wildcard-example-com"}, "404"},
      {{.host = "abc.foo.example.com", .target = "/wildcard-foo-example-com"}, "404"},
      {{.host = "abc.foo.example.com", .target = "/abc-foo-example-com"}, kV1},
  };
  return *cases;
}

TEST(ConformanceTest, GatewayHTTPListenerIsolation) {
  RunCases(
      Listener({
          VHost("gw/empty-hostname", "",
                {Group("", {Fwd(kV1, "path { value: '/empty-hostname' }")})}),
          VHost("gw/wildcard-example-com", "*.example.com",
                {Group("*.example.com", {Fwd(kV1, "path { value: '/wildcard-example-com' }")})}),
          VHost("gw/wildcard-foo-example-com", "*.foo.example.com",
                {Group("*.foo.example.com",
                       {Fwd(kV1, "path { value: '/wildcard-foo-example-com' }")})}),
          VHost(
              "gw/abc-foo-example-com", "abc.foo.example.com",
              {Group("abc.foo.example.com", {Fwd(kV1, "path { value: '/abc-foo-example-com' }")})}),
      }),
      IsolationCases());
}

TEST(ConformanceTest, GatewayHTTPListenerIsolationWithHostnameIntersection) {
  const std::string e = Fwd(kV1, "path { value: '/empty-hostname' }");
  const std::string w = Fwd(kV1, "path { value: '/wildcard-example-com' }");
  const std::string f = Fwd(kV1, "path { value: '/wildcard-foo-example-com' }");
  const std::string a = Fwd(kV1, "path { value: '/abc-foo-example-com' }");
  RunCases(Listener({
               VHost("gw/empty-hostname", "",
                     {Group("bar.com", {e}), Group("*.example.com", {e}),
                      Group("*.foo.example.com", {e}), Group("abc.foo.example.com", {e})}),
               VHost("gw/wildcard-example-com", "*.example.com",
                     {Group("*.example.com", {w}), Group("*.foo.example.com", {w}),
                      Group("abc.foo.example.com", {w})}),
               VHost("gw/wildcard-foo-example-com", "*.foo.example.com",
                     {Group("*.foo.example.com", {f}), Group("abc.foo.example.com", {f})}),
               VHost("gw/abc-foo-example-com", "abc.foo.example.com",
                     {Group("abc.foo.example.com", {a})}),
           }),
           IsolationCases());
}

// Redirects and rewrites: the route is selected, then the action applied to the selection.
// Routes sharing an effective hostname are ordered by their own hostname first
// (exact, longer wildcard, none), before path, method, headers and age: a newer
// exact-hostname route with a shorter path wins over an older wildcard one, and
// passes what it does not match on to it.
TEST(ConformanceTest, HTTPRouteMultipleRoutesAttachmentSameHostnameIntersection) {
  RunCases(Listener({VHost("gw-exact-x/listener-exact-hostname", "abc.example.com",
                           {Group("abc.example.com",
                                  {
                                      FwdFrom("abc.example.com", kV2, "path { value: '/' }"),
                                      FwdFrom("*.example.com", kV1, "path { value: '/' }"),
                                  })})}),
           {{{.host = "abc.example.com", .target = "/"}, kV2}});
  RunCases(
      Listener({VHost("gw-exact-x-path/listener-exact-hostname", "abc.example.com",
                      {Group("abc.example.com",
                             {
                                 FwdFrom("abc.example.com", kV2, "path { value: '/path' }"),
                                 FwdFrom("*.example.com", kV1, "path { value: '/path/prefix' }"),
                             })})}),
      {{{.host = "abc.example.com", .target = "/path/prefix/longer"}, kV2}});
  RunCases(Listener({VHost("gw-exact-x-path-header/listener-exact-hostname", "abc.example.com",
                           {Group("abc.example.com",
                                  {
                                      FwdFrom("abc.example.com", kV2,
                                              "path { value: '/path' } headers { name: "
                                              "'Header-A' value: 'A' }"),
                                      FwdFrom("*.example.com", kV1,
                                              "path { value: '/path/prefix' } headers { name: "
                                              "'Header-B' value: 'B' }"),
                                  })})}),
           {
               {{.host = "abc.example.com",
                 .target = "/path/prefix/longer",
                 .headers = {{"Header-A", "A"}, {"Header-B", "B"}}},
                kV2},
               {{.host = "abc.example.com",
                 .target = "/path/prefix/longer",
                 .headers = {{"Header-B", "B"}}},
                kV1},
           });
  // On a wildcard listener: "*.example.com" before "*.com", and a route without
  // hostnames last.
  RunCases(Listener({VHost("gw-wc-x-path/listener-wc-hostname", "*.example.com",
                           {Group("*.example.com",
                                  {
                                      FwdFrom("*.example.com", kV2, "path { value: '/path' }"),
                                      FwdFrom("*.com", kV1, "path { value: '/path/prefix' }"),
                                      FwdFrom("", kV3, "path { type: EXACT value: '/path/x' }"),
                                  })})}),
           {
               {{.host = "abc.example.com", .target = "/path/prefix/longer"}, kV2},
               {{.host = "abc.example.com", .target = "/path/x"}, kV2},
           });
}

TEST(ConformanceTest, RedirectPathThroughSelect) {
  auto t = MustCompile(Listener({VHost(
      "gw/http", "",
      {Group("",
             {
                 "routes { name: 'prefix' match { path { value: '/original-prefix' } } redirect { "
                 "path { replace_prefix_match: '/replacement-prefix' matched_prefix: "
                 "'/original-prefix' } } }",
                 "routes { name: 'full' match { path { value: '/full' } } redirect { path { "
                 "replace_full_path: '/full-path-replacement' } } }",
             })})}));
  ASSERT_TRUE(t);
  ExpectSorted(t->listener());
  struct RCase {
    std::string target;
    std::string location;
  };
  for (const auto& c : std::vector<RCase>{
           {"/original-prefix/lemon", "http://gw.example/replacement-prefix/lemon"},
           {"/original-prefix//lemon/./x/..", "http://gw.example/replacement-prefix/lemon/"},
           {"/full/path/original?q=1", "http://gw.example/full-path-replacement?q=1"},
       }) {
    auto s = SelectFor(*t, {.host = "gw.example:80", .target = c.target});
    ASSERT_TRUE(s->sel.routed()) << c.target;
    ASSERT_TRUE(s->sel.route->has_redirect());
    RedirectInput in{.scheme = "http",
                     .host = s->sel.host,
                     .listener_port = 80,
                     .path = s->sel.path,
                     .query = s->sel.query,
                     .has_query = s->sel.has_query};
    EXPECT_EQ(BuildRedirect(s->sel.route->redirect(), in).location, c.location) << c.target;
  }
}

TEST(ConformanceTest, RewritePathThroughSelect) {
  auto rewrite = [](const std::string& name, const std::string& prefix, const std::string& mod) {
    return "routes { name: '" + name + "' match { path { value: '" + prefix +
           "' } } forward { backends { cluster: 'v1' weight: 1 } } filters { url_rewrite { path "
           "{ " +
           mod + " } } } }";
  };
  auto t = MustCompile(Listener(
      {VHost("gw/http", "",
             {Group("", {
                            rewrite("strip", "/strip-prefix",
                                    "replace_prefix_match: '/' matched_prefix: '/strip-prefix'"),
                            rewrite("p1", "/prefix/one",
                                    "replace_prefix_match: '/one' matched_prefix: '/prefix/one'"),
                            rewrite("full", "/full/one", "replace_full_path: '/one'"),
                        })})}));
  ASSERT_TRUE(t);
  ExpectSorted(t->listener());
  struct RCase {
    std::string target;
    std::string upstream;  // "" = original target forwarded unchanged
  };
  for (const auto& c : std::vector<RCase>{
           {"/prefix/one/two", "/one/two"},
           {"/strip-prefix/three", "/three"},
           {"/strip-prefix", "/"},
           {"/strip-prefix?a=b", "/?a=b"},
           {"/full/one/two", "/one"},
       }) {
    auto s = SelectFor(*t, {.target = c.target});
    ASSERT_TRUE(s->sel.routed()) << c.target;
    ASSERT_EQ(s->sel.route->filters_size(), 1);
    auto r = ApplyUrlRewrite(s->sel.route->filters(0).url_rewrite(), s->sel.path, s->sel.query,
                             s->sel.has_query);
    EXPECT_EQ(r.target, c.upstream) << c.target;
  }
}

}  // namespace
}  // namespace gatehouse::router
