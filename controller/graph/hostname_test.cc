#include "controller/graph/hostname.h"

#include <gtest/gtest.h>

namespace gatehouse::graph {
namespace {

TEST(HostnameCovers, WildcardNeedsAtLeastOneMoreLabel) {
  EXPECT_TRUE(HostnameCovers("", "anything.example.com"));
  EXPECT_TRUE(HostnameCovers("*.example.com", "foo.example.com"));
  EXPECT_TRUE(HostnameCovers("*.example.com", "foo.bar.example.com"));
  EXPECT_FALSE(HostnameCovers("*.example.com", "example.com"));
  EXPECT_FALSE(HostnameCovers("*.example.com", "fooexample.com"));
  EXPECT_TRUE(HostnameCovers("*.example.com", "*.foo.example.com"));
  EXPECT_TRUE(HostnameCovers("*.example.com", "*.example.com"));
  EXPECT_FALSE(HostnameCovers("*.foo.example.com", "*.example.com"));
  EXPECT_FALSE(HostnameCovers("foo.example.com", "bar.example.com"));
}

TEST(IntersectHostnames, FollowsTheSpecExamples) {
  EXPECT_EQ(IntersectHostnames("very.specific.com", "very.specific.com"), "very.specific.com");
  EXPECT_EQ(IntersectHostnames("*.wildcard.io", "foo.wildcard.io"), "foo.wildcard.io");
  EXPECT_EQ(IntersectHostnames("very.specific.com", "*.specific.com"), "very.specific.com");
  EXPECT_EQ(IntersectHostnames("*.example.com", "*.foo.example.com"), "*.foo.example.com");
  EXPECT_EQ(IntersectHostnames("*.foo.example.com", "*.example.com"), "*.foo.example.com");
  EXPECT_EQ(IntersectHostnames("", "a.com"), "a.com");
  EXPECT_EQ(IntersectHostnames("a.com", ""), "a.com");
  EXPECT_EQ(IntersectHostnames("a.com", "b.com"), std::nullopt);
  EXPECT_EQ(IntersectHostnames("*.nonmatchingwildcard.io", "very.specific.com"), std::nullopt);
}

TEST(EffectiveHostnames, RouteWithoutHostnamesTakesTheListeners) {
  EXPECT_EQ(EffectiveHostnames("*.a.com", {}), std::vector<std::string>{"*.a.com"});
  EXPECT_EQ(EffectiveHostnames("", {}), std::vector<std::string>{""});
  EXPECT_EQ(EffectiveHostnames("*.a.com", {"x.a.com", "x.b.com", "x.a.com", "*.a.com"}),
            (std::vector<std::string>{"x.a.com", "*.a.com"}));
  EXPECT_TRUE(EffectiveHostnames("a.com", {"b.com"}).empty());
}

TEST(IsValidHostname, RejectsIPsAndBadLabels) {
  EXPECT_TRUE(IsValidHostname("foo.example.com"));
  EXPECT_TRUE(IsValidHostname("*.example.com"));
  EXPECT_TRUE(IsValidHostname("localhost"));
  EXPECT_FALSE(IsValidHostname("10.1.2.3"));
  EXPECT_FALSE(IsValidHostname("Upper.example.com"));
  EXPECT_FALSE(IsValidHostname("-bad.example.com"));
  EXPECT_FALSE(IsValidHostname("a..b"));
  EXPECT_FALSE(IsValidHostname("foo.*.com"));
  EXPECT_FALSE(IsValidHostname(""));
}

}  // namespace
}  // namespace gatehouse::graph
