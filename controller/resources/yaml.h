// YAML <-> JSON conversion for Kubernetes manifests. The directory source and the
// golden tests read YAML; everything downstream works on boost::json, so YAML is
// converted once here with Kubernetes' scalar rules (quoted strings stay strings).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/value.hpp>

#include "absl/status/statusor.h"

namespace gatehouse::resources {

// Parses a (multi-document) YAML stream. Empty documents are skipped. Plain
// scalars follow the YAML 1.2 core schema (null, bool, int, float, else string);
// quoted scalars and `!!str` are always strings.
absl::StatusOr<std::vector<boost::json::value>> YamlToJson(std::string_view yaml);

// Emits `value` as block-style YAML with keys in the order they appear. Strings
// that would read back as another type are quoted, so YamlToJson(JsonToYaml(v))
// round-trips.
std::string JsonToYaml(const boost::json::value& value);

}  // namespace gatehouse::resources
