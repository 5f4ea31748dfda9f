#include "proxy/router/headers.h"

#include "gtest/gtest.h"
#include "proxy/router/beast_headers.h"

namespace gatehouse::router {
namespace {

TEST(HeaderNameEqualsTest, CaseInsensitive) {
  EXPECT_TRUE(HeaderNameEquals("X-Foo", "x-foo"));
  EXPECT_TRUE(HeaderNameEquals("", ""));
  EXPECT_FALSE(HeaderNameEquals("x-foo", "x-fo"));
  EXPECT_FALSE(HeaderNameEquals("x-foo", "x_foo"));
}

// The same behaviour is expected from every HeaderMap implementation.
void ExerciseHeaderMap(HeaderMap& h) {
  EXPECT_FALSE(h.Get("x-a").has_value());
  h.Add("X-A", "1");
  h.Add("x-a", "2");
  h.Add("X-B", "b");
  ASSERT_TRUE(h.Get("x-a").has_value());
  EXPECT_EQ(*h.Get("x-a"), "1");
  EXPECT_EQ(*h.Get("X-A"), "1");
  h.Set("x-A", "3");
  EXPECT_EQ(*h.Get("x-a"), "3");
  h.Remove("X-a");
  EXPECT_FALSE(h.Get("x-a").has_value());
  EXPECT_EQ(*h.Get("x-b"), "b");
  h.Remove("absent");
  h.Set("x-new", "n");
  EXPECT_EQ(*h.Get("X-New"), "n");
}

TEST(PairVectorHeadersTest, Semantics) {
  PairVectorHeaders::Vector v;
  PairVectorHeaders h(v);
  ExerciseHeaderMap(h);
  // Added names are stored lowercase (HTTP/2), set replaced in place, one value left.
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].first, "x-b");
  EXPECT_EQ(v[1].first, "x-new");
}

TEST(PairVectorHeadersTest, SetKeepsPositionAndDropsDuplicates) {
  PairVectorHeaders::Vector v = {{"a", "1"}, {"x", "1"}, {"b", "2"}, {"X", "2"}};
  PairVectorHeaders h(v);
  h.Set("x", "new");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[1].second, "new");
  EXPECT_EQ(v[2].first, "b");
}

TEST(BeastHeadersTest, Semantics) {
  boost::beast::http::fields f;
  BeastHeaders h(f);
  ExerciseHeaderMap(h);
  EXPECT_EQ(std::distance(f.begin(), f.end()), 2);
  ConstBeastHeaders c(f);
  EXPECT_EQ(*c.Get("x-b"), "b");
  EXPECT_FALSE(c.Get("x-a").has_value());
}

TEST(FunctionHeaderSourceTest, Delegates) {
  auto f = [](std::string_view name) -> std::optional<std::string_view> {
    if (name == "k") return "v";
    return std::nullopt;
  };
  FunctionHeaderSource<decltype(f)> src(f);
  EXPECT_EQ(*src.Get("k"), "v");
  EXPECT_FALSE(src.Get("z").has_value());
  EXPECT_FALSE(EmptyHeaders().Get("k").has_value());
}

}  // namespace
}  // namespace gatehouse::router
