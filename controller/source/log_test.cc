#include "controller/source/log.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace gatehouse::log {
namespace {

TEST(LogTest, RendersOneJsonObjectWithFields) {
  std::string line = Render("info", "snapshot \"sent\"", {{"gateway", "ns/gw"}, {"count", 3}});
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto v = boost::json::parse(line).as_object();
  EXPECT_EQ(v.at("level").as_string(), "info");
  EXPECT_EQ(v.at("msg").as_string(), "snapshot \"sent\"");
  EXPECT_EQ(v.at("gateway").as_string(), "ns/gw");
  EXPECT_EQ(v.at("count").as_int64(), 3);
  EXPECT_EQ(v.at("ts").as_string().size(), std::string("2024-01-02T03:04:05.678Z").size());
}

TEST(LogTest, NowIsRfc3339Seconds) {
  std::string now = NowRfc3339();
  ASSERT_EQ(now.size(), 20u);
  EXPECT_EQ(now[4], '-');
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now.back(), 'Z');
}

}  // namespace
}  // namespace gatehouse::log
