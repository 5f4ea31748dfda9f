#include "controller/kube/status_writer.h"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

namespace gatehouse::kube {
namespace {

namespace json = boost::json;

json::object Obj(const std::string& text) { return json::parse(text).as_object(); }

status::StatusUpdate Update(const std::string& status, const std::string& rv = "") {
  status::StatusUpdate u;
  u.api_version = "gateway.networking.k8s.io/v1";
  u.kind = "Gateway";
  u.ns = "a";
  u.name = "gw";
  u.resource_version = rv;
  u.status = json::parse(status);
  return u;
}

const char kAccepted[] =
    R"({"conditions":[{"type":"Accepted","status":"True","observedGeneration":1}]})";

TEST(DecideWriteTest, SkipsWhenEqualWritesWhenChanged) {
  const json::object cached =
      Obj(std::string(R"({"metadata":{"resourceVersion":"7"},"status":)") + kAccepted + "}");
  EXPECT_EQ(DecideWrite(&cached, Update(kAccepted, "7"), nullptr), WriteDecision::kEqual);
  // Key order does not matter.
  EXPECT_EQ(
      DecideWrite(
          &cached,
          Update(R"({"conditions":[{"observedGeneration":1,"status":"True","type":"Accepted"}]})"),
          nullptr),
      WriteDecision::kEqual);
  EXPECT_EQ(
      DecideWrite(
          &cached,
          Update(R"({"conditions":[{"type":"Accepted","status":"False","observedGeneration":1}]})",
                 "7"),
          nullptr),
      WriteDecision::kWrite);
}

TEST(DecideWriteTest, MissingAndEmptyStatusAreEqual) {
  const json::object no_status = Obj(R"({"metadata":{"resourceVersion":"7"}})");
  EXPECT_EQ(DecideWrite(&no_status, Update("{}"), nullptr), WriteDecision::kEqual);
  EXPECT_EQ(DecideWrite(&no_status, Update(kAccepted), nullptr), WriteDecision::kWrite);
}

TEST(DecideWriteTest, StaleAndGone) {
  const json::object cached = Obj(R"({"metadata":{"resourceVersion":"8"}})");
  EXPECT_EQ(DecideWrite(&cached, Update(kAccepted, "7"), nullptr), WriteDecision::kStale);
  EXPECT_EQ(DecideWrite(nullptr, Update(kAccepted, "7"), nullptr), WriteDecision::kGone);
}

TEST(DecideWriteTest, AlreadyWrittenWhenTheServerNormalizedIt) {
  // The server stored something slightly different from what we asked for;
  // asking again for the same thing must not write again (a write loop).
  const json::object cached =
      Obj(R"({"metadata":{"resourceVersion":"9"},"status":{"conditions":[{"type":"Accepted"}]}})");
  LastWrite last{json::parse(kAccepted), json::parse(R"({"conditions":[{"type":"Accepted"}]})")};
  EXPECT_EQ(DecideWrite(&cached, Update(kAccepted), &last), WriteDecision::kAlreadyWritten);
  // Someone else changed the status since: write again.
  const json::object changed =
      Obj(R"({"metadata":{"resourceVersion":"10"},"status":{"conditions":[]}})");
  EXPECT_EQ(DecideWrite(&changed, Update(kAccepted), &last), WriteDecision::kWrite);
}

TEST(StatusPatchTest, FullFieldsNullForRemovedAndPrecondition) {
  const json::value current =
      json::parse(R"({"addresses":[{"value":"10.0.0.1"}],"conditions":[]})");
  const json::value desired = json::parse(kAccepted);
  EXPECT_EQ(json::value(StatusPatch(current, desired, "42")),
            json::parse(
                std::string(R"({"metadata":{"resourceVersion":"42"},"status":{"addresses":null,)") +
                R"("conditions":[{"type":"Accepted","status":"True","observedGeneration":1}]}})"));
  EXPECT_EQ(json::value(StatusPatch(json::value(), desired, "")),
            json::parse(std::string(R"({"status":)") + kAccepted + "}"));
}

}  // namespace
}  // namespace gatehouse::kube
