// Checks the generated table against the registry it was generated from: the same
// set of `supported` names, sorted, within the API's limit of 64 entries.
#include "features/supported_features.h"

#include <algorithm>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace gatehouse::features {
namespace {

TEST(SupportedFeatures, MatchesRegistry) {
  YAML::Node reg = YAML::LoadFile("features/features.yaml");
  std::set<std::string> want;
  for (const auto& e : reg) {
    if (e["status"].as<std::string>() == "supported") want.insert(e["name"].as<std::string>());
  }
  const auto& got = SupportedFeatures();
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_LE(got.size(), 64u);
  std::set<std::string> got_set(got.begin(), got.end());
  EXPECT_EQ(got_set, want);
  for (const auto& n : want) EXPECT_TRUE(IsSupported(n)) << n;
  EXPECT_FALSE(IsSupported("NoSuchFeature"));
  EXPECT_EQ(GatewayApiVersion().substr(0, 2), "v1");
}

}  // namespace
}  // namespace gatehouse::features
