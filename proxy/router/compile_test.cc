// RouteTable::Compile validation: every rejected shape gives InvalidArgument with a message
// naming the virtual host / route; valid shapes compile.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proxy/router/router.h"
#include "proxy/router/test_util.h"

namespace gatehouse::router {
namespace {

using ::testing::HasSubstr;
using testing::ParseText;

absl::Status CompileText(const std::string& text) {
  return RouteTable::Compile(ParseText<config::v1::Listener>(text)).status();
}

// Wraps one route body into a listener with virtual host "ns/gw/http" and route "ns/r/0/0".
std::string WithRoute(const std::string& route_body) {
  return R"pb(name: "http-80"
              virtual_hosts { name: "ns/gw/http"
                              hosts { hostname: "foo.com"
                                      routes { name: "ns/r/0/0")pb" +
         route_body + " } } }";
}

struct ErrorCase {
  std::string name;
  std::string listener;
  std::string want;  // substring of the message
};

TEST(CompileTest, RejectsInvalidConfig) {
  const ErrorCase cases[] = {
      {"bad path regex",
       WithRoute(R"(match { path { type: REGULAR_EXPRESSION value: "/(" } } forward {})"),
       "invalid regular expression \"/(\""},
      {"bad header regex",
       WithRoute(
           R"(match { headers { type: REGULAR_EXPRESSION name: "x" value: "[" } } forward {})"),
       "invalid regular expression"},
      {"bad query regex",
       WithRoute(
           R"(match { query_params { type: REGULAR_EXPRESSION name: "x" value: "a(" } } forward {})"),
       "invalid regular expression"},
      {"relative prefix", WithRoute(R"(match { path { type: PREFIX value: "foo" } } forward {})"),
       "does not start with '/'"},
      {"empty exact", WithRoute(R"(match { path { type: EXACT value: "" } } forward {})"),
       "does not start with '/'"},
      {"bad escape in path",
       WithRoute(R"(match { path { type: EXACT value: "/a%zz" } } forward {})"),
       "percent-encoding"},
      {"unknown path type", WithRoute(R"(match { path { type: 7 value: "/" } } forward {})"),
       "unknown path match type 7"},
      {"unknown header type", WithRoute(R"(match { headers { type: 9 name: "x" } } forward {})"),
       "unknown header match type 9"},
      {"unknown query type",
       WithRoute(R"(match { query_params { type: 9 name: "x" } } forward {})"),
       "unknown query param match type 9"},
      {"bad header name", WithRoute(R"(match { headers { name: "a b" value: "x" } } forward {})"),
       "invalid header match name"},
      {"empty header name", WithRoute(R"(match { headers { name: "" value: "x" } } forward {})"),
       "invalid header match name"},
      {"empty query name",
       WithRoute(R"(match { query_params { name: "" value: "x" } } forward {})"),
       "empty query param match name"},
      {"bad method", WithRoute(R"(match { method: "GE T" } forward {})"), "invalid method"},
      {"no action", WithRoute(""), "route has no action"},
      {"redirect status", WithRoute(R"(redirect { status_code: 200 })"),
       "redirect status code 200"},
      {"redirect scheme", WithRoute(R"(redirect { scheme: "ftp" })"), "redirect scheme \"ftp\""},
      {"redirect port", WithRoute(R"(redirect { port: 70000 })"), "redirect port 70000"},
      {"redirect hostname", WithRoute(R"(redirect { hostname: "Bad_Host" })"),
       "invalid redirect hostname"},

      {"bad matched prefix",
       WithRoute(R"(redirect { path { replace_prefix_match: "/x" matched_prefix: "p" } })"),
       "matched_prefix \"p\" does not start"},
      {"full path not absolute", WithRoute(R"(redirect { path { replace_full_path: "x" } })"),
       "replace_full_path \"x\""},
      {"direct response status", WithRoute(R"(direct_response { status: 42 })"),
       "direct response status 42"},
      {"filter without type", WithRoute(R"(forward {} filters {})"), "filter without a type"},
      {"header modifier name",
       WithRoute(
           R"(forward {} filters { request_header_modifier { set { name: "a:b" value: "v" } } })"),
       "invalid header name \"a:b\""},
      {"header modifier value",
       WithRoute(
           R"(forward {} filters { response_header_modifier { add { name: "a" value: "x\ny" } } })"),
       "invalid value for header"},
      {"header modifier remove",
       WithRoute(R"(forward {} filters { request_header_modifier { remove: "" } })"),
       "invalid header name"},
      {"mirror without cluster", WithRoute(R"(forward {} filters { request_mirror {} })"),
       "request mirror without a cluster"},
      {"mirror fraction",
       WithRoute(
           R"(forward {} filters { request_mirror { cluster: "c" numerator: 3 denominator: 2 } })"),
       "fraction 3/2"},
      {"mirror zero denominator",
       WithRoute(R"(forward {} filters { request_mirror { cluster: "c" numerator: 1 } })"),
       "fraction 1/0"},
      {"rewrite hostname", WithRoute(R"(forward {} filters { url_rewrite { hostname: "*" } })"),
       "invalid rewrite hostname"},
      {"backend filter",
       WithRoute(
           R"(forward { backends { cluster: "c" weight: 1 filters { url_rewrite { path { replace_full_path: "nope" } } } } })"),
       "replace_full_path"},
      {"cors header", WithRoute(R"(forward {} filters { cors { allow_headers: "a b" } })"),
       "invalid CORS allow header"},
      {"vhost hostname", R"pb(virtual_hosts { name: "v" hostname: "Foo.com" })pb",
       "virtual host \"v\": invalid hostname \"Foo.com\""},
      {"vhost wildcard in the middle", R"pb(virtual_hosts { name: "v" hostname: "a.*.com" })pb",
       "invalid hostname"},
      {"vhost bare wildcard", R"pb(virtual_hosts { name: "v" hostname: "*" })pb",
       "invalid hostname"},
      {"vhost label dash", R"pb(virtual_hosts { name: "v" hostname: "-a.com" })pb",
       "invalid hostname"},
      {"duplicate vhost hostname", R"pb(virtual_hosts { name: "a" hostname: "x.com" }
                                        virtual_hosts { name: "b" hostname: "x.com" })pb",
       "virtual host \"b\": hostname \"x.com\" is already served"},
      {"duplicate catch-all", R"pb(virtual_hosts { name: "a" }
                                   virtual_hosts { name: "b" })pb",
       "already served"},
      {"group hostname", R"pb(virtual_hosts {
                                name: "v"
                                hosts { hostname: "a..com" }
                              })pb",
       "host \"a..com\": invalid hostname"},
      {"duplicate group", R"pb(virtual_hosts {
                                 name: "v"
                                 hosts { hostname: "*.a.com" }
                                 hosts { hostname: "*.a.com" }
                               })pb",
       "duplicate host group"},
  };
  for (const auto& c : cases) {
    absl::Status s = CompileText(c.listener);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.name << ": " << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.want)) << c.name;
  }
}

TEST(CompileTest, MessageNamesListenerVirtualHostAndRoute) {
  absl::Status s = CompileText(
      WithRoute(R"(match { path { type: REGULAR_EXPRESSION value: "(" } } forward {})"));
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("listener \"http-80\": virtual host \"ns/gw/http\": host \"foo.com\": "
                        "route \"ns/r/0/0\": invalid regular expression"));
}

TEST(CompileTest, AcceptsValidShapes) {
  const char* ok[] = {
      R"pb(virtual_hosts {
             name: "v"
             hostname: "*.foo.com"
             hosts { hostname: "a.foo.com" }
           })pb",
      R"pb(virtual_hosts { name: "v" hostname: "x-1.y2.com" })pb",
      R"pb(name: "empty")pb",
      R"pb(name: "tls"
           protocol: TLS
           tls_routes { name: "t" })pb",
  };
  for (const char* text : ok) {
    EXPECT_TRUE(CompileText(text).ok()) << text << CompileText(text);
  }
  for (
      const char* route : {
          R"(forward {})",
          R"(match { path { type: PREFIX value: "" } } forward {})",
          R"(match { path { type: EXACT value: "/a//b" } } forward {})",
          R"(redirect { status_code: 301 scheme: "https" port: 8443 hostname: "a.b" })",
          R"(redirect { path { replace_prefix_match: "" matched_prefix: "/p" } })",
          R"(redirect { path { replace_full_path: "" } })",
          R"(direct_response { status: 500 body: "x" })",
          R"(forward {} filters { request_mirror { cluster: "c" } })",
          R"(forward {} filters { request_mirror { cluster: "c" numerator: 1 denominator: 2 } })",
          R"(forward {} filters { cors { allow_origins: "*" allow_headers: "*" expose_headers: "*" } })",
          R"(match { headers { name: "x" value: "1" } headers { name: "X" value: "2" } } forward {})",
      }) {
    EXPECT_TRUE(CompileText(WithRoute(route)).ok()) << route << CompileText(WithRoute(route));
  }
}

TEST(CompileTest, FirstOfDuplicateHeaderMatchesWins) {
  auto t = testing::MustCompile(WithRoute(
      R"(match { headers { name: "x" value: "1" } headers { name: "X" value: "2" } } forward {})"));
  ASSERT_TRUE(t);
  EXPECT_EQ(testing::SelectFor(*t, {.host = "foo.com", .headers = {{"x", "1"}}})->Outcome(),
            "ns/r/0/0");
  EXPECT_EQ(testing::SelectFor(*t, {.host = "foo.com", .headers = {{"x", "2"}}})->Outcome(), "404");
}

TEST(CompileTest, CompiledTableOwnsItsCopy) {
  auto listener = std::make_unique<config::v1::Listener>(
      ParseText<config::v1::Listener>(WithRoute(R"(match { path { value: "/p" } } forward {})")));
  auto table = RouteTable::Compile(*listener);
  ASSERT_TRUE(table.ok());
  listener.reset();
  auto s = testing::SelectFor(**table, {.host = "foo.com", .target = "/p"});
  ASSERT_TRUE(s->sel.routed());
  EXPECT_EQ(s->sel.route->name(), "ns/r/0/0");
  EXPECT_EQ((*table)->listener().name(), "http-80");
}

TEST(CheckRouteOrderTest, AcceptsSpecOrder) {
  auto group = ParseText<config::v1::HostRoutes>(R"pb(
    routes {
      name: "exact"
      match { path { type: EXACT value: "/a/b/c/d" } }
    }
    routes {
      name: "exact2"
      match { path { type: EXACT value: "/" } }
    }
    routes {
      name: "long"
      match { path { value: "/a/b/" } }
    }
    routes {
      name: "regex-anywhere"
      match { path { type: REGULAR_EXPRESSION value: "/zzzzzzzzzzz" } }
    }
    routes {
      name: "method"
      match {
        path { value: "/a" }
        method: "GET"
      }
    }
    routes {
      name: "headers2"
      match {
        path { value: "/a" }
        headers { name: "a" }
        headers { name: "b" }
      }
    }
    routes {
      name: "headers1q2"
      match {
        path { value: "/a" }
        headers { name: "a" }
        query_params { name: "a" }
        query_params { name: "b" }
      }
    }
    routes {
      name: "headers1q1"
      match {
        path { value: "/a" }
        headers { name: "a" }
        query_params { name: "a" }
      }
    }
    routes {
      name: "plain"
      match { path { value: "/a" } }
    }
    routes {
      name: "tie"
      match { path { value: "/b" } }
    }
    routes {
      name: "root"
      match { path { value: "/" } }
    }
    routes { name: "default" }
  )pb");
  EXPECT_TRUE(CheckRouteOrder(group).ok()) << CheckRouteOrder(group);
}

TEST(CheckRouteOrderTest, PrefixLengthCountsCharactersAsWritten) {
  // Like the controller: "/a/" and "/ab" both have 3 characters, so either order passes.
  for (const char* text : {
           R"pb(routes { match { path { value: "/a/" } } }
                routes { match { path { value: "/ab" } } })pb",
           R"pb(routes { match { path { value: "/ab" } } }
                routes { match { path { value: "/a/" } } })pb",
       }) {
    EXPECT_TRUE(CheckRouteOrder(ParseText<config::v1::HostRoutes>(text)).ok()) << text;
  }
  EXPECT_FALSE(CheckRouteOrder(ParseText<config::v1::HostRoutes>(
                                   R"pb(routes { match { path { value: "/b" } } }
                                        routes { match { path { value: "/a/" } } })pb"))
                   .ok());
}

TEST(CheckRouteOrderTest, RouteHostnameComesFirst) {
  // Exact before wildcards, longer wildcards first, none last; path rules apply
  // only among routes with equally specific hostnames.
  auto group = ParseText<config::v1::HostRoutes>(R"pb(
    hostname: "abc.example.com"
    routes {
      name: "exact-root"
      route_hostname: "abc.example.com"
      match { path { value: "/" } }
    }
    routes {
      name: "long-wildcard-exact-path"
      route_hostname: "*.example.com"
      match { path { type: EXACT value: "/a" } }
    }
    routes {
      name: "long-wildcard-root"
      route_hostname: "*.example.com"
      match { path { value: "/" } }
    }
    routes {
      name: "short-wildcard"
      route_hostname: "*.com"
      match { path { value: "/a/b/c" } }
    }
    routes {
      name: "none"
      match { path { type: EXACT value: "/a/b/c/d" } }
    }
  )pb");
  EXPECT_TRUE(CheckRouteOrder(group).ok()) << CheckRouteOrder(group);
  const char* bad[] = {
      // No hostname before an exact one.
      R"pb(routes {
             name: "none"
             match { path { type: EXACT value: "/a" } }
           }
           routes {
             name: "exact"
             route_hostname: "abc.example.com"
             match { path { value: "/" } }
           })pb",
      // Wildcard before exact.
      R"pb(routes { name: "wildcard" route_hostname: "*.example.com" }
           routes { name: "exact" route_hostname: "abc.example.com" })pb",
      // Shorter wildcard before a longer one.
      R"pb(routes {
             name: "short"
             route_hostname: "*.com"
             match { path { type: EXACT value: "/a" } }
           }
           routes { name: "long" route_hostname: "*.example.com" })pb",
  };
  for (const char* text : bad) {
    absl::Status s = CheckRouteOrder(ParseText<config::v1::HostRoutes>(text));
    EXPECT_FALSE(s.ok()) << text;
    EXPECT_THAT(std::string(s.message()), HasSubstr("must come before")) << text;
  }
}

TEST(CheckRouteOrderTest, RejectsEachViolation) {
  const char* bad[] = {
      R"pb(routes {
             name: "p"
             match { path { value: "/a" } }
           }
           routes {
             name: "e"
             match { path { type: EXACT value: "/b" } }
           })pb",
      R"pb(routes {
             name: "p"
             match { path { value: "/a" } }
           }
           routes {
             name: "q"
             match { path { value: "/ab" } }
           })pb",
      R"pb(routes { name: "p" }
           routes {
             name: "m"
             match { method: "GET" }
           })pb",
      R"pb(routes {
             name: "h1"
             match { headers { name: "a" } }
           }
           routes {
             name: "h2"
             match {
               headers { name: "a" }
               headers { name: "b" }
             }
           })pb",
      R"pb(routes {
             name: "q1"
             match { query_params { name: "a" } }
           }
           routes {
             name: "q2"
             match {
               query_params { name: "a" }
               query_params { name: "b" }
             }
           })pb",
  };
  for (const char* text : bad) {
    absl::Status s = CheckRouteOrder(ParseText<config::v1::HostRoutes>(text));
    EXPECT_FALSE(s.ok()) << text;
    EXPECT_THAT(std::string(s.message()), HasSubstr("must come before")) << text;
  }
}

}  // namespace
}  // namespace gatehouse::router
