// Unit tests for RouteTable::Select: host handling, listener isolation, 421, path, header,
// query param and method matching, and 400s.
#include <string>

#include "gtest/gtest.h"
#include "proxy/router/router.h"
#include "proxy/router/test_util.h"

namespace gatehouse::router {
namespace {

using testing::MustCompile;
using testing::SelectFor;
using testing::TestRequest;

std::string Outcome(const RouteTable& t, TestRequest r) {
  return SelectFor(t, std::move(r))->Outcome();
}

// A forward route named `name` with a PathPrefix "/".
std::string CatchAll(const std::string& name) {
  return "routes { name: '" + name + "' forward { backends { cluster: 'c' weight: 1 } } }";
}

// Two virtual hosts, a.com and b.com, each with one catch-all route named after it.
constexpr char kTwoHosts[] = R"pb(
  virtual_hosts {
    name: "a"
    hostname: "a.com"
    hosts {
      hostname: "a.com"
      routes {
        name: "a"
        forward {}
      }
    }
  }
  virtual_hosts {
    name: "b"
    hostname: "b.com"
    hosts {
      hostname: "b.com"
      routes {
        name: "b"
        forward {}
      }
    }
  }
)pb";

TEST(HostWithoutPortTest, Shapes) {
  EXPECT_EQ(HostWithoutPort("foo.com"), "foo.com");
  EXPECT_EQ(HostWithoutPort("Foo.com:8080"), "Foo.com");
  EXPECT_EQ(HostWithoutPort("foo.com."), "foo.com");
  EXPECT_EQ(HostWithoutPort("foo.com.:80"), "foo.com");
  EXPECT_EQ(HostWithoutPort("[::1]:80"), "[::1]");
  EXPECT_EQ(HostWithoutPort("[::1]"), "[::1]");
  EXPECT_EQ(HostWithoutPort("127.0.0.1:1"), "127.0.0.1");
  EXPECT_EQ(HostWithoutPort(""), "");
  EXPECT_EQ(HostWithoutPort("foo.com:"), "foo.com");
}

TEST(SelectTest, VirtualHostPrecedence) {
  auto t = MustCompile(R"pb(
                         name: "http-80"
                         port: 80
                         protocol: HTTP
                         virtual_hosts { name: "any" hostname: ""
                                         hosts { hostname: "")pb" +
                       CatchAll("any") + R"pb(}
                                              }
    virtual_hosts { name: "wild" hostname: "*.foo.com" hosts { hostname: "*.foo.com" )pb" +
                       CatchAll("wild") + R"pb(}
                                               }
    virtual_hosts { name: "wild2" hostname: "*.bar.foo.com" hosts { hostname: "*.bar.foo.com" )pb" +
                       CatchAll("wild2") + R"pb(}
                                                }
    virtual_hosts { name: "exact" hostname: "a.bar.foo.com" hosts { hostname: "a.bar.foo.com" )pb" +
                       CatchAll("exact") + R"pb(}
                                                }
  )pb");
  ASSERT_TRUE(t);
  EXPECT_EQ(Outcome(*t, {.host = "a.bar.foo.com"}), "exact");
  EXPECT_EQ(Outcome(*t, {.host = "A.Bar.Foo.COM:8080"}), "exact");
  EXPECT_EQ(Outcome(*t, {.host = "a.bar.foo.com."}), "exact");
  EXPECT_EQ(Outcome(*t, {.host = "b.bar.foo.com"}), "wild2");
  EXPECT_EQ(Outcome(*t, {.host = "x.y.bar.foo.com"}), "wild2");
  EXPECT_EQ(Outcome(*t, {.host = "bar.foo.com"}), "wild");
  EXPECT_EQ(Outcome(*t, {.host = "x.foo.com"}), "wild");
  EXPECT_EQ(Outcome(*t, {.host = "foo.com"}), "any");
  EXPECT_EQ(Outcome(*t, {.host = "other.org"}), "any");
  EXPECT_EQ(Outcome(*t, {.host = ""}), "any");
  EXPECT_EQ(Outcome(*t, {.host = "xfoo.com"}), "any");
  EXPECT_EQ(t->FindVirtualHost("Q.FOO.com:1")->name(), "wild");
  EXPECT_EQ(t->virtual_host_count(), 4u);
  EXPECT_EQ(t->route_count(), 4u);
}

TEST(SelectTest, NoCatchAllMeans404) {
  auto t = MustCompile(R"pb(
                         virtual_hosts { name: "wild" hostname: "*.foo.com"
                                         hosts { hostname: "*.foo.com")pb" +
                       CatchAll("wild") + R"pb(}
                                               }
  )pb");
  ASSERT_TRUE(t);
  auto s = SelectFor(*t, {.host = "foo.com"});
  EXPECT_EQ(s->sel.result, SelectResult::kNoVirtualHost);
  EXPECT_EQ(s->sel.HttpStatus(), 404);
  EXPECT_EQ(t->FindVirtualHost("foo.com"), nullptr);
}

TEST(SelectTest, HostGroupsMostSpecificFirstAndFallThrough) {
  // One virtual host (listener without hostname), groups for an exact host, a wildcard
  // and "". A request falls through to less specific groups when nothing matches.
  auto t = MustCompile(R"pb(
    virtual_hosts {
      name: "vh"
      hosts {
        hostname: ""
        routes {
          name: "any-root"
          forward {}
        }
      }
      hosts {
        hostname: "*.example.com"
        routes {
          name: "wild-path"
          match { path { type: PREFIX value: "/wild" } }
          forward {}
        }
      }
      hosts {
        hostname: "a.example.com"
        routes {
          name: "exact-path"
          match { path { type: PREFIX value: "/exact" } }
          forward {}
        }
      }
    }
  )pb");
  ASSERT_TRUE(t);
  EXPECT_EQ(Outcome(*t, {.host = "a.example.com", .target = "/exact/1"}), "exact-path");
  EXPECT_EQ(Outcome(*t, {.host = "a.example.com", .target = "/wild"}), "wild-path");
  EXPECT_EQ(Outcome(*t, {.host = "a.example.com", .target = "/other"}), "any-root");
  EXPECT_EQ(Outcome(*t, {.host = "b.example.com", .target = "/exact"}), "any-root");
  EXPECT_EQ(Outcome(*t, {.host = "b.example.com", .target = "/wild/x"}), "wild-path");
}

TEST(SelectTest, NoRouteIs404WithVirtualHost) {
  auto t = MustCompile(R"pb(
    virtual_hosts {
      name: "vh"
      hosts {
        hostname: "x.com"
        routes {
          name: "r"
          match { path { type: EXACT value: "/a" } }
          forward {}
        }
      }
    }
  )pb");
  ASSERT_TRUE(t);
  auto s = SelectFor(*t, {.host = "x.com", .target = "/b"});
  EXPECT_EQ(s->sel.result, SelectResult::kNoRoute);
  EXPECT_EQ(s->sel.HttpStatus(), 404);
  ASSERT_NE(s->sel.virtual_host, nullptr);
  EXPECT_EQ(s->sel.virtual_host->name(), "vh");
  EXPECT_EQ(Outcome(*t, {.host = "y.com", .target = "/a"}), "404");
}

TEST(SelectTest, PathMatchTypes) {
  auto t = MustCompile(R"pb(
    virtual_hosts {
      name: "vh"
      hosts {
        routes {
          name: "exact"
          match { path { type: EXACT value: "/exact" } }
          forward {}
        }
        routes {
          name: "prefix-slash"
          match { path { type: PREFIX value: "/dir/" } }
          forward {}
        }
        routes {
          name: "prefix"
          match { path { type: PREFIX value: "/v2" } }
          forward {}
        }
        routes {
          name: "regex"
          match { path { type: REGULAR_EXPRESSION value: "/re/[0-9]+" } }
          forward {}
        }
      }
    }
  )pb");
  ASSERT_TRUE(t);
  EXPECT_EQ(Outcome(*t, {.target = "/exact"}), "exact");
  EXPECT_EQ(Outcome(*t, {.target = "/exact/"}), "404");
  EXPECT_EQ(Outcome(*t, {.target = "/Exact"}), "404");
  EXPECT_EQ(Outcome(*t, {.target = "/exact?x=1"}), "exact");
  EXPECT_EQ(Outcome(*t, {.target = "/v2"}), "prefix");
  EXPECT_EQ(Outcome(*t, {.target = "/v2/"}), "prefix");
  EXPECT_EQ(Outcome(*t, {.target = "/v2/x/y"}), "prefix");
  EXPECT_EQ(Outcome(*t, {.target = "/v2example"}), "404");
  EXPECT_EQ(Outcome(*t, {.target = "/dir"}), "prefix-slash");
  EXPECT_EQ(Outcome(*t, {.target = "/dir/x"}), "prefix-slash");
  EXPECT_EQ(Outcome(*t, {.target = "/directory"}), "404");
  EXPECT_EQ(Outcome(*t, {.target = "/re/123"}), "regex");
  EXPECT_EQ(Outcome(*t, {.target = "/re/123/x"}), "404");  // full match
  EXPECT_EQ(Outcome(*t, {.target = "/x/re/123"}), "404");
}

TEST(SelectTest, MatchesTheNormalizedPathAndExposesBoth) {
  auto t = MustCompile(R"pb(
    virtual_hosts {
      name: "vh"
      hosts {
        routes {
          name: "exact"
          match { path { type: EXACT value: "/a/b" } }
          forward {}
        }
      }
    }
  )pb");
  ASSERT_TRUE(t);
  auto s = SelectFor(*t, {.host = "h", .target = "/x/..//a/./%62?q=%20"});
  ASSERT_TRUE(s->sel.routed()) << s->Outcome();
  EXPECT_EQ(s->sel.path, "/a/b");
  EXPECT_EQ(s->sel.original_path, "/x/..//a/./%62");
  EXPECT_EQ(s->sel.query, "q=%20");
  EXPECT_TRUE(s->sel.has_query);
  EXPECT_EQ(s->sel.host, "h");
}

TEST(SelectTest, BadRequests) {
  auto t = MustCompile(R"pb(virtual_hosts {
                              name: "vh"
                              hosts {
                                routes {
                                  name: "r"
                                  forward {}
                                }
                              }
                            })pb");
  ASSERT_TRUE(t);
  for (const char* target : {"*", "a/b", "/a%zz", "/a#b", "/a b", "example.com:443"}) {
    auto s = SelectFor(*t, {.target = target});
    EXPECT_EQ(s->sel.result, SelectResult::kBadRequest) << target;
    EXPECT_EQ(s->sel.HttpStatus(), 400) << target;
    EXPECT_FALSE(s->sel.error.empty()) << target;
  }
  EXPECT_EQ(Outcome(*t, {.host = std::string(300, 'a')}), "400");
}

TEST(SelectTest, AbsoluteFormAuthorityWins) {
  auto t = MustCompile(kTwoHosts);
  ASSERT_TRUE(t);
  EXPECT_EQ(Outcome(*t, {.host = "a.com", .target = "http://b.com/x"}), "b");
}

TEST(SelectTest, HeaderMatching) {
  auto t = MustCompile(R"pb(
    virtual_hosts {
      name: "vh"
      hosts {
        routes {
          name: "two"
          match {
            headers { name: "Version" value: "two" }
            headers { name: "Color" value: "orange" }
          }
          forward {}
        }
        routes {
          name: "re"
          match { headers { type: REGULAR_EXPRESSION name: "X-Re" value: "v[0-9]+" } }
          forward {}
        }
        routes {
          name: "one"
          match { headers { name: "version" value: "one" } }
          forward {}
        }
      }
    }
  )pb");
  ASSERT_TRUE(t);
  EXPECT_EQ(Outcome(*t, {.headers = {{"version", "one"}}}), "one");
  EXPECT_EQ(Outcome(*t, {.headers = {{"VERSION", "one"}}}), "one");
  EXPECT_EQ(Outcome(*t, {.headers = {{"version", "One"}}}), "404");  // values case-sensitive
  EXPECT_EQ(Outcome(*t, {.headers = {{"version", "two"}}}), "404");
  EXPECT_EQ(Outcome(*t, {.headers = {{"version", "two"}, {"color", "orange"}}}), "two");
  EXPECT_EQ(Outcome(*t, {.headers = {{"x-re", "v12"}}}), "re");
  EXPECT_EQ(Outcome(*t, {.headers = {{"x-re", "v12x"}}}), "404");
  EXPECT_EQ(Outcome(*t, {}), "404");
}

TEST(SelectTest, QueryParamMatching) {
  auto t = MustCompile(R"pb(
    virtual_hosts {
      name: "vh"
      hosts {
        routes {
          name: "both"
          match {
            query_params { name: "animal" value: "dolphin" }
            query_params { name: "color" value: "blue" }
          }
          forward {}
        }
        routes {
          name: "re"
          match { query_params { type: REGULAR_EXPRESSION name: "id" value: "[a-z ]+" } }
          forward {}
        }
        routes {
          name: "whale"
          match { query_params { name: "animal" value: "whale" } }
          forward {}
        }
        routes {
          name: "upper"
          match { query_params { name: "ANIMAL" value: "Whale" } }
          forward {}
        }
      }
    }
  )pb");
  ASSERT_TRUE(t);
  EXPECT_EQ(Outcome(*t, {.target = "/?animal=whale"}), "whale");
  EXPECT_EQ(Outcome(*t, {.target = "/?ANIMAL=Whale"}), "upper");
  EXPECT_EQ(Outcome(*t, {.target = "/?animal=Whale"}), "404");
  EXPECT_EQ(Outcome(*t, {.target = "/?animal=dolphin&color=blue"}), "both");
  EXPECT_EQ(Outcome(*t, {.target = "/?color=blue&animal=dolphin"}), "both");
  EXPECT_EQ(Outcome(*t, {.target = "/?animal=dolphin"}), "404");
  EXPECT_EQ(Outcome(*t, {.target = "/?animal=whaledolphin"}), "404");
  EXPECT_EQ(Outcome(*t, {.target = "/?animal=whale&otherparam=irrelevant"}), "whale");
  // First occurrence wins.
  EXPECT_EQ(Outcome(*t, {.target = "/?animal=whale&animal=shark"}), "whale");
  EXPECT_EQ(Outcome(*t, {.target = "/?animal=shark&animal=whale"}), "404");
  // Percent-decoded before comparing.
  EXPECT_EQ(Outcome(*t, {.target = "/?an%69mal=wh%61le"}), "whale");
  EXPECT_EQ(Outcome(*t, {.target = "/?id=a%20b"}), "re");
  EXPECT_EQ(Outcome(*t, {.target = "/?id=A"}), "404");
  EXPECT_EQ(Outcome(*t, {.target = "/"}), "404");
}

TEST(SelectTest, MethodMatching) {
  auto t = MustCompile(R"pb(
    virtual_hosts {
      name: "vh"
      hosts {
        routes {
          name: "post"
          match { method: "POST" }
          forward {}
        }
        routes {
          name: "get"
          match { method: "GET" }
          forward {}
        }
      }
    }
  )pb");
  ASSERT_TRUE(t);
  EXPECT_EQ(Outcome(*t, {.method = "POST"}), "post");
  EXPECT_EQ(Outcome(*t, {.method = "GET"}), "get");
  EXPECT_EQ(Outcome(*t, {.method = "get"}), "404");
  EXPECT_EQ(Outcome(*t, {.method = "HEAD"}), "404");
}

TEST(SelectTest, RouteIdsAreDense) {
  auto t = MustCompile(R"pb(
    virtual_hosts {
      name: "a"
      hostname: "a.com"
      hosts {
        hostname: "a.com"
        routes {
          name: "a0"
          match { path { value: "/0" } }
          forward {}
        }
        routes {
          name: "a1"
          forward {}
        }
      }
    }
    virtual_hosts {
      name: "b"
      hostname: "b.com"
      hosts {
        hostname: "b.com"
        routes {
          name: "b0"
          forward {}
        }
      }
    }
  )pb");
  ASSERT_TRUE(t);
  auto s = SelectFor(*t, {.host = "b.com"});
  ASSERT_TRUE(s->sel.routed());
  EXPECT_EQ(s->sel.route_id, 2u);
  EXPECT_EQ(s->sel.virtual_host_id, 1u);
  EXPECT_EQ(&t->route(s->sel.route_id), s->sel.route);
  EXPECT_EQ(SelectFor(*t, {.host = "a.com", .target = "/1"})->sel.route_id, 1u);
}

// Conformance HTTPRouteHTTPSListenerDetectMisdirectedRequests, case by case.
TEST(SelectTest, MisdirectedRequests) {
  auto t = MustCompile(R"pb(
    name: "https-443"
    port: 443
    protocol: HTTPS
    detect_misdirected_requests: true
    virtual_hosts {
      name: "https"
      hostname: ""
      hosts {
        hostname: "example.org"
        routes {
          name: "v1"
          match { path { value: "/detect-misdirected-requests" } }
          forward {}
        }
      }
    }
    virtual_hosts {
      name: "https-with-hostname"
      hostname: "second-example.org"
      hosts {
        hostname: "second-example.org"
        routes {
          name: "v2"
          match { path { value: "/detect-misdirected-requests" } }
          forward {}
        }
      }
    }
    virtual_hosts {
      name: "https-with-wildcard-hostname"
      hostname: "*.wildcard.org"
      hosts {
        hostname: "*.wildcard.org"
        routes {
          name: "v3"
          match { path { value: "/detect-misdirected-requests" } }
          forward {}
        }
      }
    }
    virtual_hosts {
      name: "https-with-hostname-matching-wildcard"
      hostname: "fourth-example.wildcard.org"
      hosts {
        hostname: "fourth-example.wildcard.org"
        routes {
          name: "v4"
          match { path { value: "/detect-misdirected-requests" } }
          forward {}
        }
      }
    }
  )pb");
  ASSERT_TRUE(t);
  struct Case {
    const char* sni;
    const char* host;
    const char* want;
  };
  const Case cases[] = {
      {"example.org", "example.org", "v1"},
      {"example.org", "second-example.org", "421"},
      {"example.org", "unknown-example.org", "404"},
      {"second-example.org", "second-example.org", "v2"},
      {"second-example.org", "example.org", "421"},
      {"second-example.org", "unknown-example.org", "421"},
      {"third-example.wildcard.org", "third-example.wildcard.org", "v3"},
      {"third-example.wildcard.org", "fith-example.wildcard.org", "v3"},
      {"third-example.wildcard.org", "fourth-example.wildcard.org", "421"},
      {"third-example.wildcard.org", "second-example.org", "421"},
      {"third-example.wildcard.org", "unknown-example.org", "421"},
      {"fourth-example.wildcard.org", "fourth-example.wildcard.org", "v4"},
      {"fourth-example.wildcard.org", "fith-example.wildcard.org", "421"},
      {"unknown-example.org", "example.org", "v1"},
      {"unknown-example.org", "unknown-example.org", "404"},
      // No SNI: no 421 check.
      {"", "second-example.org", "v2"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Outcome(*t, {.host = c.host, .target = "/detect-misdirected-requests", .sni = c.sni}),
              c.want)
        << c.sni << " -> " << c.host;
  }
}

TEST(SelectTest, MisdirectedDetectionOffIgnoresSni) {
  auto t = MustCompile(kTwoHosts);
  ASSERT_TRUE(t);
  EXPECT_EQ(Outcome(*t, {.host = "b.com", .sni = "a.com"}), "b");
}

TEST(SelectTest, EmptyTableFor404) {
  auto t = MustCompile(R"pb(name: "tcp-9000" port: 9000 protocol: TCP)pb");
  ASSERT_TRUE(t);
  EXPECT_EQ(Outcome(*t, {.host = "x"}), "404");
}

}  // namespace
}  // namespace gatehouse::router
