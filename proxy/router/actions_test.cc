// Tests for route actions: weighted choice, redirect Location, URL rewrite, header
// modifiers, CORS, mirror sampling and retries. Cases follow the upstream conformance
// tests (v1.7.0) where one exists.
#include "proxy/router/actions.h"

#include <map>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "proxy/router/beast_headers.h"
#include "proxy/router/test_util.h"

namespace gatehouse::router {
namespace {

using config::v1::ForwardAction;
using testing::ParseText;

// ---- Weighted backend choice ----

std::map<std::string, int> Histogram(const ForwardAction& action, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::map<std::string, int> counts;
  for (int i = 0; i < n; ++i) {
    const auto* b = ChooseBackend(action, rng());
    counts[b == nullptr ? "<null>" : b->cluster()]++;
  }
  return counts;
}

TEST(ChooseBackendTest, WeightsWithinFivePercentOver500Requests) {
  // HTTPRouteWeight: 70/30/0.
  auto action = ParseText<ForwardAction>(R"pb(
    backends { cluster: "v1" weight: 70 }
    backends { cluster: "v2" weight: 30 }
    backends { cluster: "v3" weight: 0 })pb");
  for (uint64_t seed : {1, 2, 3}) {
    auto counts = Histogram(action, 500, seed);
    EXPECT_NEAR(counts["v1"], 350, 25) << "seed " << seed;
    EXPECT_NEAR(counts["v2"], 150, 25) << "seed " << seed;
    EXPECT_EQ(counts.count("v3"), 0u);
  }
}

TEST(ChooseBackendTest, EvenlySpreadRandomsGiveExactProportions) {
  auto action = ParseText<ForwardAction>(R"pb(
    backends { cluster: "a" weight: 1 }
    backends { cluster: "z" weight: 0 }
    backends { cluster: "b" weight: 3 })pb");
  std::map<std::string, int> counts;
  const int n = 4000;
  for (int i = 0; i < n; ++i) {
    uint64_t r = static_cast<uint64_t>((static_cast<unsigned __int128>(i) << 64) / n);
    counts[ChooseBackend(action, r)->cluster()]++;
  }
  EXPECT_EQ(counts["a"], 1000);
  EXPECT_EQ(counts["b"], 3000);
  EXPECT_EQ(counts.count("z"), 0u);
  EXPECT_EQ(ChooseBackend(action, 0)->cluster(), "a");
  EXPECT_EQ(ChooseBackend(action, UINT64_MAX)->cluster(), "b");
}

TEST(ChooseBackendTest, InvalidCases) {
  EXPECT_EQ(ChooseBackend(ForwardAction(), 42), nullptr);
  auto zero = ParseText<ForwardAction>(R"pb(backends { cluster: "a" weight: 0 })pb");
  EXPECT_EQ(ChooseBackend(zero, 42), nullptr);
  EXPECT_TRUE(BackendIsInvalid(ChooseBackend(zero, 42)));
  auto invalid = ParseText<ForwardAction>(R"pb(backends { cluster: "" weight: 5 })pb");
  ASSERT_NE(ChooseBackend(invalid, 42), nullptr);
  EXPECT_TRUE(BackendIsInvalid(ChooseBackend(invalid, 42)));
  auto valid = ParseText<ForwardAction>(R"pb(backends { cluster: "c" weight: 5 })pb");
  EXPECT_FALSE(BackendIsInvalid(ChooseBackend(valid, 42)));
}

// ---- Redirect ----

struct RedirectCase {
  std::string action;      // RedirectAction text
  std::string scheme;      // of the request
  uint32_t listener_port;  // of the listener
  std::string path;
  std::string want_location;
  uint32_t want_status;
};

TEST(BuildRedirectTest, ConformanceCases) {
  const RedirectCase cases[] = {
      // HTTPRouteRedirectPortAndScheme, listener on 80.
      {"", "http", 80, "/scheme-nil-and-port-nil", "http://example.org/scheme-nil-and-port-nil",
       302},
      {"port: 80", "http", 80, "/p", "http://example.org/p", 302},
      {"port: 8080", "http", 80, "/p", "http://example.org:8080/p", 302},
      {"scheme: 'https'", "http", 80, "/p", "https://example.org/p", 302},
      {"scheme: 'https' port: 443", "http", 80, "/p", "https://example.org/p", 302},
      {"scheme: 'https' port: 8443", "http", 80, "/p", "https://example.org:8443/p", 302},
      // Listener on 8080.
      {"", "http", 8080, "/p", "http://example.org:8080/p", 302},
      {"port: 80", "http", 8080, "/p", "http://example.org/p", 302},
      {"scheme: 'https'", "http", 8080, "/p", "https://example.org/p", 302},
      // HTTPS listener on 443.
      {"", "https", 443, "/p", "https://example.org/p", 302},
      {"port: 443", "https", 443, "/p", "https://example.org/p", 302},
      {"port: 8443", "https", 443, "/p", "https://example.org:8443/p", 302},
      {"scheme: 'http'", "https", 443, "/p", "http://example.org/p", 302},
      {"scheme: 'http' port: 80", "https", 443, "/p", "http://example.org/p", 302},
      {"scheme: 'http' port: 8080", "https", 443, "/p", "http://example.org:8080/p", 302},
      // HTTPRouteRedirectPort / HostAndStatus / Scheme / 303 / 307 / 308.
      {"port: 8083", "http", 80, "/port", "http://example.org:8083/port", 302},
      {"port: 8083 hostname: 'a.example.com' status_code: 301", "http", 80, "/x",
       "http://a.example.com:8083/x", 301},
      {"hostname: 'a.example.com'", "http", 80, "/hostname-redirect",
       "http://a.example.com/hostname-redirect", 302},
      {"status_code: 303", "http", 80, "/see-other", "http://example.org/see-other", 303},
      {"status_code: 307", "http", 80, "/x", "http://example.org/x", 307},
      {"status_code: 308", "http", 80, "/x", "http://example.org/x", 308},
      // HTTPRouteRedirectPath.
      {"path { replace_prefix_match: '/replacement-prefix' matched_prefix: '/original-prefix' }",
       "http", 80, "/original-prefix/lemon", "http://example.org/replacement-prefix/lemon", 302},
      {"path { replace_full_path: '/full-path-replacement' }", "http", 80, "/full/path/original",
       "http://example.org/full-path-replacement", 302},
      {"path { replace_prefix_match: '/replacement-prefix' matched_prefix: '/path-and-host' } "
       "hostname: 'example.org' status_code: 301",
       "http", 80, "/path-and-host", "http://example.org/replacement-prefix", 301},
      {"path { replace_prefix_match: '/' matched_prefix: '/strip' }", "http", 80, "/strip/x",
       "http://example.org/x", 302},
      // No matched prefix (only possible without CRD validation): treated as "/".
      {"path { replace_prefix_match: '/base' }", "http", 80, "/x", "http://example.org/base/x",
       302},
  };
  for (const auto& c : cases) {
    RedirectInput in;
    in.scheme = c.scheme;
    in.host = "example.org";
    in.listener_port = c.listener_port;
    in.path = c.path;
    Redirect r = BuildRedirect(ParseText<config::v1::RedirectAction>(c.action), in);
    EXPECT_EQ(r.location, c.want_location)
        << c.action << " on " << c.scheme << ":" << c.listener_port;
    EXPECT_EQ(r.status, c.want_status) << c.action;
  }
}

TEST(BuildRedirectTest, KeepsQueryVerbatim) {
  RedirectInput in{.scheme = "http",
                   .host = "h",
                   .listener_port = 80,
                   .path = "/a",
                   .query = "x=%20&y",
                   .has_query = true};
  EXPECT_EQ(BuildRedirect(ParseText<config::v1::RedirectAction>("scheme: 'https'"), in).location,
            "https://h/a?x=%20&y");
  in.query = "";
  EXPECT_EQ(BuildRedirect(config::v1::RedirectAction(), in).location, "http://h/a?");
  in.has_query = false;
  EXPECT_EQ(BuildRedirect(config::v1::RedirectAction(), in).location, "http://h/a");
}

// ---- URL rewrite ----

TEST(UrlRewriteTest, ConformanceRewritePath) {
  struct Case {
    const char* rewrite;
    const char* path;
    const char* want;
  };
  const Case cases[] = {
      {"path { replace_prefix_match: '/one' matched_prefix: '/prefix/one' }", "/prefix/one/two",
       "/one/two"},
      {"path { replace_prefix_match: '/' matched_prefix: '/strip-prefix' }", "/strip-prefix/three",
       "/three"},
      {"path { replace_prefix_match: '/' matched_prefix: '/strip-prefix' }", "/strip-prefix", "/"},
      {"path { replace_full_path: '/one' }", "/full/one/two", "/one"},
      {"path { replace_full_path: '/test' }", "/full/rewrite-path-and-modify-headers/test",
       "/test"},
      {"path { replace_prefix_match: '/prefix' matched_prefix: "
       "'/prefix/rewrite-path-and-modify-headers' }",
       "/prefix/rewrite-path-and-modify-headers/one", "/prefix/one"},
      // The matched prefix is compared in normalized form, like the route matched.
      {"path { replace_prefix_match: '/x' matched_prefix: '/a//b/' }", "/a/b/c", "/x/c"},
  };
  for (const auto& c : cases) {
    auto r = ApplyUrlRewrite(ParseText<config::v1::UrlRewrite>(c.rewrite), c.path, "", false);
    EXPECT_EQ(r.target, c.want) << c.rewrite << " " << c.path;
    EXPECT_TRUE(r.host.empty());
  }
}

TEST(UrlRewriteTest, HostOnlyKeepsTarget) {
  auto r = ApplyUrlRewrite(ParseText<config::v1::UrlRewrite>("hostname: 'one.example.org'"), "/a",
                           "q=1", true);
  EXPECT_EQ(r.host, "one.example.org");
  EXPECT_TRUE(r.target.empty());
}

TEST(UrlRewriteTest, PathRewriteKeepsQuery) {
  auto r = ApplyUrlRewrite(
      ParseText<config::v1::UrlRewrite>("path { replace_full_path: '/new' } hostname: 'h.org'"),
      "/old", "a=1&b", true);
  EXPECT_EQ(r.target, "/new?a=1&b");
  EXPECT_EQ(r.host, "h.org");
}

// ---- Header modifiers ----

std::string Joined(const PairVectorHeaders::Vector& v, std::string_view name) {
  std::string out;
  bool found = false;
  for (const auto& [n, val] : v) {
    if (!HeaderNameEquals(n, name)) continue;
    if (found) out += ",";
    out += val;
    found = true;
  }
  return found ? out : "<absent>";
}

TEST(HeaderModifierTest, ConformanceRequestHeaderModifier) {
  // HTTPRouteRequestHeaderModifier "/case-insensitivity" and "/multiple".
  auto modifier = ParseText<config::v1::HeaderModifier>(R"pb(
    set { name: "X-Header-Set" value: "header-set" }
    add { name: "X-Header-Add" value: "header-add" }
    remove: "X-Header-Remove")pb");
  PairVectorHeaders::Vector v = {{"x-header-set", "original-val-set"},
                                 {"x-header-add", "original-val-add"},
                                 {"x-header-remove", "original-val-remove"},
                                 {"Another-Header", "another-header-val"}};
  PairVectorHeaders h(v);
  ApplyHeaderModifier(modifier, h);
  EXPECT_EQ(Joined(v, "X-Header-Set"), "header-set");
  EXPECT_EQ(Joined(v, "X-Header-Add"), "original-val-add,header-add");
  EXPECT_EQ(Joined(v, "x-header-remove"), "<absent>");
  EXPECT_EQ(Joined(v, "another-header"), "another-header-val");

  // Absent headers: set and add create them.
  PairVectorHeaders::Vector empty;
  PairVectorHeaders e(empty);
  ApplyHeaderModifier(modifier, e);
  EXPECT_EQ(Joined(empty, "x-header-set"), "header-set");
  EXPECT_EQ(Joined(empty, "x-header-add"), "header-add");
}

TEST(HeaderModifierTest, SetReplacesAllValuesAndRemoveWinsOverSet) {
  auto modifier = ParseText<config::v1::HeaderModifier>(R"pb(
    set { name: "a" value: "new" }
    set { name: "gone" value: "x" }
    remove: "GONE")pb");
  PairVectorHeaders::Vector v = {{"a", "1"}, {"A", "2"}, {"gone", "y"}};
  PairVectorHeaders h(v);
  ApplyHeaderModifier(modifier, h);
  EXPECT_EQ(Joined(v, "a"), "new");
  EXPECT_EQ(Joined(v, "gone"), "<absent>");
}

TEST(HeaderModifierTest, WorksOverBeastFields) {
  // HTTPRouteResponseHeaderModifier-like: response headers from the upstream.
  auto modifier = ParseText<config::v1::HeaderModifier>(R"pb(
    set { name: "X-Header-Set" value: "set-overwrites-values" }
    add { name: "X-Header-Add-Append" value: "header-val-2" }
    remove: "X-Header-Remove")pb");
  boost::beast::http::fields f;
  f.insert("x-header-set", "some-other-value");
  f.insert("X-Header-Add-Append", "header-val-1");
  f.insert("X-HEADER-REMOVE", "val");
  BeastHeaders h(f);
  ApplyHeaderModifier(modifier, h);
  EXPECT_EQ(f["x-header-set"], "set-overwrites-values");
  std::string joined;
  for (const auto& field : f) {
    if (HeaderNameEquals(std::string_view(field.name_string().data(), field.name_string().size()),
                         "x-header-add-append")) {
      if (!joined.empty()) joined += ",";
      joined.append(field.value().data(), field.value().size());
    }
  }
  EXPECT_EQ(joined, "header-val-1,header-val-2");
  EXPECT_EQ(f.count("x-header-remove"), 0u);
}

// ---- CORS ----

config::v1::Cors Cors1() {
  // HTTPRouteCORS cors-multiple-origins-methods-headers.
  return ParseText<config::v1::Cors>(R"pb(
    allow_origins: "https://www.foo.com"
    allow_origins: "https://*.bar.com"
    allow_methods: "GET"
    allow_methods: "OPTIONS"
    allow_headers: "x-header-1"
    allow_headers: "x-header-2"
    expose_headers: "x-header-3"
    expose_headers: "x-header-4"
    allow_credentials: true
    max_age_seconds: 3600)pb");
}

TEST(CorsTest, OriginMatching) {
  auto c = Cors1();
  EXPECT_TRUE(CorsOriginAllowed(c, "https://www.foo.com"));
  EXPECT_TRUE(CorsOriginAllowed(c, "https://WWW.foo.com:443"));
  EXPECT_TRUE(CorsOriginAllowed(c, "https://www.bar.com"));
  EXPECT_TRUE(CorsOriginAllowed(c, "https://xpto.www.bar.com"));
  EXPECT_FALSE(CorsOriginAllowed(c, "https://bar.com"));
  EXPECT_FALSE(CorsOriginAllowed(c, "https://foobar.com"));
  EXPECT_FALSE(CorsOriginAllowed(c, "http://www.foo.com"));
  EXPECT_FALSE(CorsOriginAllowed(c, "https://www.foo.com:8443"));
  EXPECT_FALSE(CorsOriginAllowed(c, "null"));
  EXPECT_FALSE(CorsOriginAllowed(c, ""));
  auto any = ParseText<config::v1::Cors>(R"pb(allow_origins: "*")pb");
  EXPECT_TRUE(CorsOriginAllowed(any, "https://foobar.com:12345"));
  EXPECT_TRUE(CorsOriginAllowed(any, "null"));
  auto ported = ParseText<config::v1::Cors>(R"pb(allow_origins: "http://*.a.com:8080")pb");
  EXPECT_TRUE(CorsOriginAllowed(ported, "http://x.a.com:8080"));
  EXPECT_FALSE(CorsOriginAllowed(ported, "http://x.a.com"));
}

TEST(CorsTest, PreflightDetection) {
  PairVectorHeaders::Vector v = {{"origin", "https://a"}, {"access-control-request-method", "GET"}};
  PairVectorHeaders h(v);
  EXPECT_TRUE(IsCorsPreflight("OPTIONS", h));
  EXPECT_FALSE(IsCorsPreflight("GET", h));
  PairVectorHeaders::Vector no_method = {{"origin", "https://a"}};
  PairVectorHeaders h2(no_method);
  EXPECT_FALSE(IsCorsPreflight("OPTIONS", h2));
}

TEST(CorsTest, PreflightFromAllowedOrigin) {
  PairVectorHeaders::Vector req = {{"origin", "https://xpto.www.bar.com"},
                                   {"access-control-request-method", "GET"},
                                   {"access-control-request-headers", "x-header-1, x-header-2"}};
  PairVectorHeaders reqh(req);
  PairVectorHeaders::Vector resp;
  PairVectorHeaders resph(resp);
  uint32_t status = CorsPreflight(Cors1(), reqh, resph);
  EXPECT_TRUE(status == 200 || status == 204);
  EXPECT_EQ(Joined(resp, "access-control-allow-origin"), "https://xpto.www.bar.com");
  EXPECT_EQ(Joined(resp, "access-control-allow-methods"), "GET, OPTIONS");
  EXPECT_EQ(Joined(resp, "access-control-allow-headers"), "x-header-1, x-header-2");
  EXPECT_EQ(Joined(resp, "access-control-expose-headers"), "x-header-3, x-header-4");
  EXPECT_EQ(Joined(resp, "access-control-max-age"), "3600");
  EXPECT_EQ(Joined(resp, "access-control-allow-credentials"), "true");
}

TEST(CorsTest, PreflightFromOtherOriginGetsNoCorsHeaders) {
  PairVectorHeaders::Vector req = {{"origin", "https://foobar.com"},
                                   {"access-control-request-method", "GET"}};
  PairVectorHeaders reqh(req);
  PairVectorHeaders::Vector resp;
  PairVectorHeaders resph(resp);
  uint32_t status = CorsPreflight(Cors1(), reqh, resph);
  EXPECT_TRUE(status == 200 || status == 204 || status == 403);
  EXPECT_TRUE(resp.empty());
}

TEST(CorsTest, WildcardMethodsEchoRequestedMethod) {
  // cors-wildcard-methods: no credentials header, method echoed (or "*").
  auto cors = ParseText<config::v1::Cors>(R"pb(allow_origins: "https://www.foo.com"
                                               allow_methods: "*")pb");
  PairVectorHeaders::Vector req = {{"origin", "https://www.foo.com"},
                                   {"access-control-request-method", "POST"}};
  PairVectorHeaders reqh(req);
  PairVectorHeaders::Vector resp;
  PairVectorHeaders resph(resp);
  CorsPreflight(cors, reqh, resph);
  EXPECT_EQ(Joined(resp, "access-control-allow-methods"), "POST");
  EXPECT_EQ(Joined(resp, "access-control-allow-origin"), "https://www.foo.com");
  EXPECT_EQ(Joined(resp, "access-control-allow-credentials"), "<absent>");
  EXPECT_EQ(Joined(resp, "access-control-max-age"), "5");  // default
  EXPECT_EQ(Joined(resp, "access-control-allow-headers"), "<absent>");
}

TEST(CorsTest, WildcardEverythingWithCredentialsEchoes) {
  // cors-wildcard-methods-headers (allowCredentials: true).
  auto cors = ParseText<config::v1::Cors>(
      R"pb(
        allow_origins: "*" allow_methods: "*" allow_headers: "*" allow_credentials: true)pb");
  PairVectorHeaders::Vector req = {{"origin", "https://other.foo.com"},
                                   {"access-control-request-method", "PUT"},
                                   {"access-control-request-headers", "x-header-1, x-header-2"}};
  PairVectorHeaders reqh(req);
  PairVectorHeaders::Vector resp;
  PairVectorHeaders resph(resp);
  CorsPreflight(cors, reqh, resph);
  EXPECT_EQ(Joined(resp, "access-control-allow-origin"), "https://other.foo.com");
  EXPECT_EQ(Joined(resp, "access-control-allow-methods"), "PUT");
  EXPECT_EQ(Joined(resp, "access-control-allow-headers"), "x-header-1, x-header-2");
  EXPECT_EQ(Joined(resp, "access-control-allow-credentials"), "true");
}

TEST(CorsTest, ActualRequestHeaders) {
  PairVectorHeaders::Vector resp = {{"content-type", "text/plain"}};
  PairVectorHeaders resph(resp);
  AddCorsResponseHeaders(Cors1(), "https://www.foo.com", resph);
  EXPECT_EQ(Joined(resp, "access-control-allow-origin"), "https://www.foo.com");
  EXPECT_EQ(Joined(resp, "access-control-allow-credentials"), "true");
  EXPECT_EQ(Joined(resp, "access-control-expose-headers"), "x-header-3, x-header-4");
  EXPECT_EQ(Joined(resp, "vary"), "Origin");

  PairVectorHeaders::Vector denied;
  PairVectorHeaders deniedh(denied);
  AddCorsResponseHeaders(Cors1(), "https://foobar.com", deniedh);
  EXPECT_TRUE(denied.empty());
  AddCorsResponseHeaders(Cors1(), "", deniedh);
  EXPECT_TRUE(denied.empty());

  auto unauth = ParseText<config::v1::Cors>(R"pb(allow_origins: "*" allow_methods: "PUT")pb");
  PairVectorHeaders::Vector r2;
  PairVectorHeaders r2h(r2);
  AddCorsResponseHeaders(unauth, "https://foobar.com:12345", r2h);
  EXPECT_EQ(Joined(r2, "access-control-allow-origin"), "https://foobar.com:12345");
  EXPECT_EQ(Joined(r2, "access-control-allow-credentials"), "<absent>");
}

TEST(CorsTest, WildcardExposeHeadersNotSentWithCredentials) {
  auto cors = ParseText<config::v1::Cors>(R"pb(
    allow_origins: "*"
    expose_headers: "*"
    allow_credentials: true)pb");
  PairVectorHeaders::Vector resp;
  PairVectorHeaders h(resp);
  AddCorsResponseHeaders(cors, "https://a.com", h);
  EXPECT_EQ(Joined(resp, "access-control-expose-headers"), "<absent>");
  cors.set_allow_credentials(false);
  resp.clear();
  AddCorsResponseHeaders(cors, "https://a.com", h);
  EXPECT_EQ(Joined(resp, "access-control-expose-headers"), "*");
}

// ---- Mirror ----

TEST(MirrorTest, Fractions) {
  config::v1::RequestMirror all;
  EXPECT_TRUE(ShouldMirror(all, 0));
  EXPECT_TRUE(ShouldMirror(all, UINT64_MAX));
  auto half = ParseText<config::v1::RequestMirror>("numerator: 50 denominator: 100");
  auto none = ParseText<config::v1::RequestMirror>("numerator: 0 denominator: 100");
  auto full = ParseText<config::v1::RequestMirror>("numerator: 100 denominator: 100");
  std::mt19937_64 rng(7);
  int mirrored = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t r = rng();
    mirrored += ShouldMirror(half, r);
    EXPECT_FALSE(ShouldMirror(none, r));
    EXPECT_TRUE(ShouldMirror(full, r));
  }
  EXPECT_NEAR(mirrored, 500, 50);
  EXPECT_TRUE(ShouldMirror(half, 0));
  EXPECT_FALSE(ShouldMirror(half, UINT64_MAX));
}

// ---- Retries ----

TEST(RetryTest, CodesAndAttempts) {
  // HTTPRouteRetry /retry/code-all-attempts-2.
  auto policy =
      ParseText<config::v1::RetryPolicy>("attempts: 2 codes: 500 codes: 502 codes: 503 codes: 504");
  EXPECT_TRUE(ShouldRetry(policy, 0, {.status = 503}));
  EXPECT_TRUE(ShouldRetry(policy, 1, {.status = 500}));
  EXPECT_FALSE(ShouldRetry(policy, 2, {.status = 500}));
  EXPECT_FALSE(ShouldRetry(policy, 0, {.status = 200}));
  EXPECT_FALSE(ShouldRetry(policy, 0, {.status = 404}));
  EXPECT_FALSE(ShouldRetry(policy, 0, {.connection_error = true}));
  // attempts: 0 disables retries.
  policy.set_attempts(0);
  EXPECT_FALSE(ShouldRetry(policy, 0, {.status = 500}));
}

TEST(RetryTest, ConnectionErrors) {
  auto policy = ParseText<config::v1::RetryPolicy>("attempts: 100 connection_error: true");
  EXPECT_TRUE(ShouldRetry(policy, 0, {.connection_error = true}));
  EXPECT_TRUE(ShouldRetry(policy, 99, {.connection_error = true}));
  EXPECT_FALSE(ShouldRetry(policy, 100, {.connection_error = true}));
  EXPECT_FALSE(ShouldRetry(policy, 0, {.status = 500}));
}

TEST(RetryTest, Backoff) {
  config::v1::RetryPolicy policy;
  EXPECT_EQ(RetryBackoffMs(policy, 0, 123), 0u);
  policy.set_backoff_ms(100);
  EXPECT_EQ(RetryBackoffMs(policy, 0, 0), 50u);
  EXPECT_EQ(RetryBackoffMs(policy, 0, UINT64_MAX), 100u);
  EXPECT_EQ(RetryBackoffMs(policy, 1, UINT64_MAX), 200u);
  EXPECT_EQ(RetryBackoffMs(policy, 2, 0), 200u);
  EXPECT_EQ(RetryBackoffMs(policy, 50, UINT64_MAX), 3200u);  // capped at 32x
  std::mt19937_64 rng(3);
  for (int i = 0; i < 100; ++i) {
    uint32_t d = RetryBackoffMs(policy, 3, rng());
    EXPECT_GE(d, 400u);
    EXPECT_LE(d, 800u);
  }
}

}  // namespace
}  // namespace gatehouse::router
