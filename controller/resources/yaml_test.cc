#include "controller/resources/yaml.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace gatehouse::resources {
namespace {

namespace json = boost::json;

json::value One(std::string_view yaml) {
  auto docs = YamlToJson(yaml);
  EXPECT_TRUE(docs.ok()) << docs.status();
  EXPECT_EQ(docs->size(), 1u);
  return docs->empty() ? json::value() : (*docs)[0];
}

TEST(YamlToJson, ScalarsFollowTheCoreSchema) {
  json::value v = One(R"(
int: 80
neg: -5
hex: 0x1F
float: 1.5
yes_bool: true
no_bool: False
null_a: ~
null_b:
quoted_int: "80"
single_quoted_bool: 'true'
tagged: !!str 443
word: hello
version: 1.0.0
)");
  const json::object& o = v.as_object();
  EXPECT_EQ(o.at("int").as_int64(), 80);
  EXPECT_EQ(o.at("neg").as_int64(), -5);
  EXPECT_EQ(o.at("hex").as_int64(), 31);
  EXPECT_DOUBLE_EQ(o.at("float").as_double(), 1.5);
  EXPECT_TRUE(o.at("yes_bool").as_bool());
  EXPECT_FALSE(o.at("no_bool").as_bool());
  EXPECT_TRUE(o.at("null_a").is_null());
  EXPECT_TRUE(o.at("null_b").is_null());
  EXPECT_EQ(o.at("quoted_int").as_string(), "80");
  EXPECT_EQ(o.at("single_quoted_bool").as_string(), "true");
  EXPECT_EQ(o.at("tagged").as_string(), "443");
  EXPECT_EQ(o.at("word").as_string(), "hello");
  EXPECT_EQ(o.at("version").as_string(), "1.0.0");
}

TEST(YamlToJson, MultipleDocumentsSkipEmptyOnes) {
  auto docs = YamlToJson("a: 1\n---\n---\nb: [x, 2]\n");
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ(json::serialize((*docs)[1]), R"({"b":["x",2]})");
}

TEST(YamlToJson, SyntaxErrorIsAStatus) {
  auto docs = YamlToJson("a: [1, 2\n");
  EXPECT_FALSE(docs.ok());
}

TEST(JsonToYaml, RoundTripsAmbiguousStrings) {
  json::value v =
      json::parse(R"({"a":"80","b":"true","c":"","d":"null","e":80,"f":true,"g":null,"h":"yes",)"
                  R"("i":["x",{"k":"v: w"}],"j":1.5})");
  std::string yaml = JsonToYaml(v);
  auto back = YamlToJson(yaml);
  ASSERT_TRUE(back.ok()) << yaml;
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0], v) << yaml;
}

}  // namespace
}  // namespace gatehouse::resources
