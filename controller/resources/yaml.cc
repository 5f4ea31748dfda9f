#include "controller/resources/yaml.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>

namespace gatehouse::resources {
namespace {

namespace json = boost::json;

bool IsNull(std::string_view s) {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<bool> AsBool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

std::optional<int64_t> AsInt(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view digits = s;
  bool negative = false;
  if (digits[0] == '+' || digits[0] == '-') {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  int base = 10;
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
    base = digits[1] == 'x' ? 16 : 8;
    digits.remove_prefix(2);
  }
  if (digits.empty()) return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return negative ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

std::optional<double> AsFloat(std::string_view s) {
  if (s == ".inf" || s == ".Inf" || s == ".INF" || s == "+.inf") return HUGE_VAL;
  if (s == "-.inf" || s == "-.Inf" || s == "-.INF") return -HUGE_VAL;
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return NAN;
  // Core schema float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t int_digits = 0, frac_digits = 0;
  while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++int_digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exp_digits = 0;
    while (i < s.size() && isdigit(static_cast<unsigned char>(s[i]))) ++i, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return std::strtod(std::string(s).c_str(), nullptr);
}

json::value ScalarToJson(const YAML::Node& node) {
  const std::string& s = node.Scalar();
  const std::string& tag = node.Tag();
  if (tag == "!" || tag == "tag:yaml.org,2002:str") return json::string(s);
  if (tag == "tag:yaml.org,2002:null") return nullptr;
  if (tag == "?" || tag.empty()) {
    if (IsNull(s)) return nullptr;
    if (auto b = AsBool(s)) return *b;
    if (auto i = AsInt(s)) return *i;
    if (auto f = AsFloat(s)) return *f;
  }
  if (tag == "tag:yaml.org,2002:int") {
    if (auto i = AsInt(s)) return *i;
  }
  if (tag == "tag:yaml.org,2002:bool") {
    if (auto b = AsBool(s)) return *b;
  }
  if (tag == "tag:yaml.org,2002:float") {
    if (auto f = AsFloat(s)) return *f;
  }
  return json::string(s);
}

json::value NodeToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      return ScalarToJson(node);
    case YAML::NodeType::Sequence: {
      json::array arr;
      arr.reserve(node.size());
      for (const auto& item : node) arr.push_back(NodeToJson(item));
      return arr;
    }
    case YAML::NodeType::Map: {
      json::object obj;
      for (const auto& kv : node) {
        // Kubernetes keys are strings; a plain `80:` key is kept as its text.
        obj[kv.first.Scalar()] = NodeToJson(kv.second);
      }
      return obj;
    }
  }
  return nullptr;
}

// True when a plain YAML scalar with this text would not read back as the string.
bool NeedsQuotes(std::string_view s) {
  if (IsNull(s) || AsBool(s) || AsInt(s) || AsFloat(s)) return true;
  static constexpr std::string_view kOtherBools[] = {"y",  "Y",   "yes", "Yes", "YES", "n",
                                                     "N",  "no",  "No",  "NO",  "on",  "On",
                                                     "ON", "off", "Off", "OFF"};
  for (auto b : kOtherBools) {
    if (s == b) return true;
  }
  return false;
}

void Emit(YAML::Emitter& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out << YAML::Null;
      break;
    case json::kind::bool_:
      out << (v.get_bool() ? "true" : "false");
      break;
    case json::kind::int64:
      out << v.get_int64();
      break;
    case json::kind::uint64:
      out << v.get_uint64();
      break;
    case json::kind::double_:
      out << v.get_double();
      break;
    case json::kind::string: {
      std::string_view s = v.get_string();
      if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
      out << std::string(s);
      break;
    }
    case json::kind::array:
      if (v.get_array().empty()) out << YAML::Flow;
      out << YAML::BeginSeq;
      for (const auto& item : v.get_array()) Emit(out, item);
      out << YAML::EndSeq;
      break;
    case json::kind::object:
      if (v.get_object().empty()) out << YAML::Flow;
      out << YAML::BeginMap;
      for (const auto& kv : v.get_object()) {
        out << YAML::Key << std::string(kv.key()) << YAML::Value;
        Emit(out, kv.value());
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

absl::StatusOr<std::vector<json::value>> YamlToJson(std::string_view yaml) {
  std::vector<json::value> docs;
  try {
    for (const auto& node : YAML::LoadAll(std::string(yaml))) {
      if (node.IsNull() || !node.IsDefined()) continue;
      docs.push_back(NodeToJson(node));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(std::string("yaml: ") + e.what());
  }
  return docs;
}

std::string JsonToYaml(const json::value& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  out.SetSeqFormat(YAML::Block);
  out.SetMapFormat(YAML::Block);
  Emit(out, value);
  std::string s = out.c_str();
  s.push_back('\n');
  return s;
}

}  // namespace gatehouse::resources
