#include "controller/status/conditions.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace gatehouse::status {
namespace {

namespace json = boost::json;

TEST(MergeConditions, NewConditionsGetNowAndGeneration) {
  json::array out = MergeConditions({True(type::kAccepted, reason::kAccepted, "ok")}, nullptr, 4,
                                    "2024-05-01T00:00:00Z");
  ASSERT_EQ(out.size(), 1u);
  const json::object& c = out[0].as_object();
  EXPECT_EQ(c.at("type").as_string(), "Accepted");
  EXPECT_EQ(c.at("status").as_string(), "True");
  EXPECT_EQ(c.at("reason").as_string(), "Accepted");
  EXPECT_EQ(c.at("message").as_string(), "ok");
  EXPECT_EQ(c.at("observedGeneration").as_int64(), 4);
  EXPECT_EQ(c.at("lastTransitionTime").as_string(), "2024-05-01T00:00:00Z");
}

TEST(MergeConditions, KeepsTransitionTimeWhenStatusUnchangedButBumpsGeneration) {
  json::array prev = json::parse(R"([
    {"type":"Accepted","status":"True","observedGeneration":1,
     "lastTransitionTime":"2020-01-01T00:00:00Z","reason":"Accepted","message":""},
    {"type":"Programmed","status":"False","observedGeneration":1,
     "lastTransitionTime":"2020-01-01T00:00:00Z","reason":"Pending","message":""}])")
                         .as_array();
  json::array out =
      MergeConditions({True(type::kAccepted, reason::kListenersNotValid, "changed reason"),
                       True(type::kProgrammed, reason::kProgrammed)},
                      &prev, 2, "2024-05-01T00:00:00Z");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].at("lastTransitionTime").as_string(), "2020-01-01T00:00:00Z");
  EXPECT_EQ(out[0].at("observedGeneration").as_int64(), 2);
  EXPECT_EQ(out[0].at("reason").as_string(), "ListenersNotValid");
  EXPECT_EQ(out[1].at("lastTransitionTime").as_string(), "2024-05-01T00:00:00Z");
}

TEST(MergeConditions, KeepsForeignTypesVerbatimAndDropsOwnedOnes) {
  json::array prev = json::parse(R"([
    {"type":"example.com/Custom","status":"True","observedGeneration":1,
     "lastTransitionTime":"2020-01-01T00:00:00Z","reason":"Seeded","message":"x"},
    {"type":"PartiallyInvalid","status":"True","observedGeneration":1,
     "lastTransitionTime":"2020-01-01T00:00:00Z","reason":"UnsupportedValue","message":""}])")
                         .as_array();
  json::array out = MergeConditions({True(type::kAccepted, reason::kAccepted)}, &prev, 7,
                                    "2024-05-01T00:00:00Z", {type::kPartiallyInvalid});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].at("type").as_string(), "Accepted");
  EXPECT_EQ(out[1], prev[0]);
}

TEST(MergeConditions, IsStableWhenReappliedToItsOwnOutput) {
  std::vector<Condition> desired = {True(type::kAccepted, reason::kAccepted),
                                    False(type::kResolvedRefs, reason::kBackendNotFound, "m")};
  json::array first = MergeConditions(desired, nullptr, 3, "2024-05-01T00:00:00Z");
  json::array second = MergeConditions(desired, &first, 3, "2030-01-01T00:00:00Z");
  EXPECT_EQ(json::serialize(first), json::serialize(second));
}

}  // namespace
}  // namespace gatehouse::status
