#include "controller/graph/duration.h"

#include <gtest/gtest.h>

namespace gatehouse::graph {
namespace {

TEST(ParseDuration, Gep2257) {
  EXPECT_EQ(ParseDuration("0s"), 0u);
  EXPECT_EQ(ParseDuration("500ms"), 500u);
  EXPECT_EQ(ParseDuration("1s"), 1000u);
  EXPECT_EQ(ParseDuration("1h30m"), 5400000u);
  EXPECT_EQ(ParseDuration("1h2m3s4ms"), 3723004u);
  EXPECT_EQ(ParseDuration(""), std::nullopt);
  EXPECT_EQ(ParseDuration("1.5s"), std::nullopt);
  EXPECT_EQ(ParseDuration("100000s"), std::nullopt);
  EXPECT_EQ(ParseDuration("1d"), std::nullopt);
  EXPECT_EQ(ParseDuration("1s1s1s1s1s"), std::nullopt);
  EXPECT_EQ(ParseDuration("s"), std::nullopt);
}

}  // namespace
}  // namespace gatehouse::graph
