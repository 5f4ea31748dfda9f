#include "controller/graph/values.h"

#include <gtest/gtest.h>

namespace gatehouse::graph {
namespace {

TEST(Values, HeaderNamesAreTokens) {
  EXPECT_TRUE(IsHeaderName("X-Header_1"));
  EXPECT_FALSE(IsHeaderName(""));
  EXPECT_FALSE(IsHeaderName("bad name"));
  EXPECT_FALSE(IsHeaderName("colon:"));
}

TEST(Values, HeaderValuesHaveNoLineBreaks) {
  EXPECT_TRUE(IsHeaderValue("a b, c"));
  EXPECT_TRUE(IsHeaderValue(""));
  EXPECT_FALSE(IsHeaderValue("a\r\nInjected: 1"));
  EXPECT_FALSE(IsHeaderValue(std::string_view("a\0b", 3)));
}

TEST(Values, Paths) {
  EXPECT_TRUE(IsPathValue("/"));
  EXPECT_TRUE(IsPathValue("/a%2Fb/c"));
  EXPECT_FALSE(IsPathValue("a"));
  EXPECT_FALSE(IsPathValue("/a b"));
  EXPECT_FALSE(IsPathValue("/a#frag"));
  EXPECT_FALSE(IsPathValue("/a%zz"));
  EXPECT_FALSE(IsPathValue("/a%2"));
}

TEST(Values, Methods) {
  EXPECT_TRUE(IsHTTPMethod("PATCH"));
  EXPECT_FALSE(IsHTTPMethod("get"));
  EXPECT_FALSE(IsHTTPMethod("BREW"));
}

}  // namespace
}  // namespace gatehouse::graph
