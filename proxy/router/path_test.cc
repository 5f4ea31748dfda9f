#include "proxy/router/path.h"

#include <string>

#include "gtest/gtest.h"

namespace gatehouse::router {
namespace {

struct NormalizeCase {
  std::string in;
  std::string out;  // "" = expect an error
};

TEST(NormalizePathTest, Table) {
  const NormalizeCase cases[] = {
      {"/", "/"},
      {"/a/b", "/a/b"},
      {"/a/b/", "/a/b/"},
      {"//", "/"},
      {"/a//b", "/a/b"},
      {"/a///b//", "/a/b/"},
      {"/a/./b", "/a/b"},
      {"/a/.", "/a/"},
      {"/a/..", "/"},
      {"/a/b/../c", "/a/c"},
      {"/a/b/../../../c", "/c"},
      {"/..", "/"},
      {"/../a", "/a"},
      {"/.a/..b/...", "/.a/..b/..."},
      {"/%61%62c", "/abc"},
      {"/%7Euser", "/~user"},
      {"/%7euser", "/~user"},
      {"/a%2Fb", "/a%2Fb"},
      {"/a%2fb", "/a%2Fb"},
      {"/a%20b", "/a%20b"},
      {"/a%2E%2E/b", "/a../b"},
      {"/a/%2E%2E/b", "/b"},
      {"/a/%2e/b", "/a/b"},
      {"/caf\xc3\xa9", "/caf\xc3\xa9"},
      {"/a:b@c!$&'()*+,;=", "/a:b@c!$&'()*+,;="},
      // Errors.
      {"", ""},
      {"a/b", ""},
      {"/a%", ""},
      {"/a%2", ""},
      {"/a%zz", ""},
      {"/a b", ""},
      {"/a\tb", ""},
      {"/a#b", ""},
      {std::string("/a\0b", 4), ""},
      {"/a\x7f", ""},
  };
  for (const auto& c : cases) {
    std::string scratch;
    NormalizedPath n = NormalizePath(c.in, scratch);
    if (c.out.empty()) {
      EXPECT_FALSE(n.ok) << c.in;
      EXPECT_FALSE(n.error.empty()) << c.in;
    } else {
      EXPECT_TRUE(n.ok) << c.in << ": " << n.error;
      EXPECT_EQ(n.path, c.out) << c.in;
    }
  }
}

TEST(NormalizePathTest, CleanPathIsNotCopied) {
  std::string scratch;
  std::string in = "/already/clean/path.html";
  NormalizedPath n = NormalizePath(in, scratch);
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.path.data(), in.data());
  EXPECT_TRUE(scratch.empty());
}

TEST(NormalizePathTest, RewrittenPathUsesScratch) {
  std::string scratch;
  NormalizedPath n = NormalizePath("/a//b", scratch);
  ASSERT_TRUE(n.ok);
  EXPECT_EQ(n.path.data(), scratch.data());
}

TEST(SplitTargetTest, OriginForm) {
  TargetParts p;
  std::string_view err;
  ASSERT_TRUE(SplitTarget("/a/b?x=1&y", &p, &err));
  EXPECT_EQ(p.path, "/a/b");
  EXPECT_EQ(p.query, "x=1&y");
  EXPECT_TRUE(p.has_query);
  EXPECT_TRUE(p.authority.empty());

  ASSERT_TRUE(SplitTarget("/a?", &p, &err));
  EXPECT_EQ(p.path, "/a");
  EXPECT_EQ(p.query, "");
  EXPECT_TRUE(p.has_query);

  ASSERT_TRUE(SplitTarget("/a", &p, &err));
  EXPECT_FALSE(p.has_query);
}

TEST(SplitTargetTest, AbsoluteForm) {
  TargetParts p;
  std::string_view err;
  ASSERT_TRUE(SplitTarget("http://Example.com:8080/x?q", &p, &err));
  EXPECT_EQ(p.authority, "Example.com:8080");
  EXPECT_EQ(p.path, "/x");
  EXPECT_EQ(p.query, "q");
  ASSERT_TRUE(SplitTarget("HTTPS://h", &p, &err));
  EXPECT_EQ(p.authority, "h");
  EXPECT_EQ(p.path, "/");
  ASSERT_TRUE(SplitTarget("http://h?q=1", &p, &err));
  EXPECT_EQ(p.path, "/");
  EXPECT_EQ(p.query, "q=1");
}

TEST(SplitTargetTest, Rejects) {
  TargetParts p;
  for (const char* bad :
       {"", "*", "example.com:443", "ftp://h/x", "http:///x", "/a#frag", "relative/path"}) {
    std::string_view err;
    EXPECT_FALSE(SplitTarget(bad, &p, &err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

TEST(PathPrefixTest, SegmentAware) {
  EXPECT_TRUE(PathPrefixMatches("/v2", "/v2"));
  EXPECT_TRUE(PathPrefixMatches("/v2", "/v2/"));
  EXPECT_TRUE(PathPrefixMatches("/v2", "/v2/x"));
  EXPECT_FALSE(PathPrefixMatches("/v2", "/v2example"));
  EXPECT_FALSE(PathPrefixMatches("/v2", "/v"));
  EXPECT_FALSE(PathPrefixMatches("/v2", "/V2"));
  EXPECT_TRUE(PathPrefixMatches("/v2/", "/v2"));
  EXPECT_TRUE(PathPrefixMatches("/v2/", "/v2/x"));
  EXPECT_FALSE(PathPrefixMatches("/v2/", "/v2example"));
  EXPECT_TRUE(PathPrefixMatches("/", "/anything"));
  EXPECT_TRUE(PathPrefixMatches("/", "/"));
}

struct ReplaceCase {
  const char* path;
  const char* prefix;
  const char* replacement;
  const char* want;
};

TEST(ReplacePathPrefixTest, Table) {
  const ReplaceCase cases[] = {
      // Conformance HTTPRouteRewritePath / HTTPRouteRedirectPath.
      {"/prefix/one/two", "/prefix/one", "/one", "/one/two"},
      {"/strip-prefix/three", "/strip-prefix", "/", "/three"},
      {"/strip-prefix", "/strip-prefix", "/", "/"},
      {"/prefix/rewrite-path-and-modify-headers/one", "/prefix/rewrite-path-and-modify-headers",
       "/prefix", "/prefix/one"},
      {"/original-prefix/lemon", "/original-prefix", "/replacement-prefix",
       "/replacement-prefix/lemon"},
      {"/path-and-host", "/path-and-host", "/replacement-prefix", "/replacement-prefix"},
      // Slash handling.
      {"/prefix/", "/prefix", "/one", "/one/"},
      {"/prefix/one", "/prefix/", "/x/", "/x/one"},
      {"/prefix/one", "/prefix", "", "/one"},
      {"/prefix", "/prefix", "", "/"},
      {"/anything", "/", "/base", "/base/anything"},
      {"/", "/", "/base", "/base/"},
      {"/anything", "/", "/", "/anything"},
      // Not a segment match: unchanged.
      {"/prefixed", "/prefix", "/x", "/prefixed"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ReplacePathPrefix(c.path, c.prefix, c.replacement), c.want)
        << c.path << " " << c.prefix << " " << c.replacement;
  }
}

}  // namespace
}  // namespace gatehouse::router
