// Golden tests of the whole spec engine: testdata/<case>.in.yaml (objects, plus an
// optional `golden:`/`infra:` document) -> Reconcile -> testdata/<case>.out.yaml
// (status of every object, every snapshot), and every snapshot accepted by the
// proxy's router (compiled, routes in its precedence order). Regenerate with
//   bazel run //controller/translate:golden_test -- --update
// (or GATEHOUSE_UPDATE_GOLDEN=1); see README.md.
#include <gtest/gtest.h>

#include <google/protobuf/util/json_util.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "controller/reconcile/reconcile.h"
#include "controller/resources/yaml.h"
#include "proxy/router/router.h"

namespace gatehouse::translate {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kTestdata = "controller/translate/testdata";
constexpr std::string_view kDefaultAddress = "192.0.2.10";
bool update_mode = false;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Str(const json::object& o, std::string_view key, std::string_view fallback = "") {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string(fallback);
}

// Replaces the upstream manifests' placeholders the way the suite's Applier does.
void Substitute(json::value& v) {
  if (v.is_string()) {
    std::string_view s = v.get_string();
    if (s == "{GATEWAY_CLASS_NAME}") v = "gatehouse";
    if (s == "{GATEWAY_CONTROLLER_NAME}") v = "gatehouse.dev/gateway-controller";
    if (s == "PLACEHOLDER_USABLE_ADDRS") v = "192.0.2.20";
    if (s == "PLACEHOLDER_UNUSABLE_ADDRS") v = "198.51.100.1";
  } else if (v.is_array()) {
    for (auto& e : v.get_array()) Substitute(e);
  } else if (v.is_object()) {
    for (auto& kv : v.get_object()) Substitute(kv.value());
  }
}

struct Case {
  reconcile::Inputs inputs;
  // Gateways whose acked/nacked version is "current": filled after a first pass.
  std::vector<std::string> ack_current, nack_current;
  bool default_infra = true;
};

// Objects get what the API server would add: a creation time in document order,
// generation 1, a resourceVersion.
void AddServerFields(json::object& o, int index) {
  json::object& md = o["metadata"].as_object();
  if (!md.contains("creationTimestamp")) {
    char buf[32];
    snprintf(buf, sizeof buf, "2024-01-01T00:%02d:%02dZ", index / 60 % 60, index % 60);
    md["creationTimestamp"] = buf;
  }
  if (!md.contains("generation")) md["generation"] = 1;
  if (!md.contains("resourceVersion")) md["resourceVersion"] = "1";
}

void ParseControl(const json::object& doc, Case& c, bool& use_base) {
  if (const auto* g = doc.if_contains("golden"); g && g->is_object()) {
    const auto& o = g->get_object();
    if (const auto* b = o.if_contains("base"); b && b->is_bool()) use_base = b->get_bool();
    if (const auto* b = o.if_contains("bindToGatewayAddresses"); b && b->is_bool()) {
      c.inputs.bind_to_gateway_addresses = b->get_bool();
    }
    c.inputs.now = Str(o, "now", c.inputs.now);
    if (const auto* f = o.if_contains("features"); f && f->is_array()) {
      for (const auto& name : f->get_array())
        c.inputs.claimed_features->emplace_back(name.as_string());
    }
  }
  if (const auto* infra = doc.if_contains("infra"); infra && infra->is_object()) {
    c.default_infra = false;
    for (const auto& kv : infra->get_object()) {
      std::string gw(kv.key());
      const json::object& o = kv.value().as_object();
      reconcile::GatewayInfra& gi = c.inputs.infra[gw];
      if (const auto* a = o.if_contains("addresses"); a && a->is_array()) {
        for (const auto& e : a->get_array()) {
          gi.addresses.emplace_back(Str(e.as_object(), "type", "IPAddress"),
                                    Str(e.as_object(), "value"));
        }
      }
      std::string acked = Str(o, "acked"), nacked = Str(o, "nacked");
      if (acked == "current")
        c.ack_current.push_back(gw);
      else
        gi.acked_version = acked;
      if (nacked == "current")
        c.nack_current.push_back(gw);
      else
        gi.nacked_version = nacked;
      gi.nack_error = Str(o, "nackError");
      gi.address_error = Str(o, "addressError");
    }
  }
}

Case LoadCase(const fs::path& in_path) {
  Case c;
  c.inputs.now = "2024-06-01T00:00:00Z";
  // Goldens do not follow the feature registry: a case lists what it claims.
  c.inputs.claimed_features.emplace();
  auto docs = resources::YamlToJson(ReadFile(in_path));
  EXPECT_TRUE(docs.ok()) << docs.status();
  bool use_base = true;
  std::vector<json::value> objects;
  if (docs.ok()) {
    for (auto& d : *docs) {
      if (d.is_object() && !d.get_object().contains("kind")) {
        ParseControl(d.get_object(), c, use_base);
      } else {
        objects.push_back(std::move(d));
      }
    }
  }
  std::vector<json::value> all;
  if (use_base) {
    auto base = resources::YamlToJson(ReadFile(fs::path(kTestdata) / "base.yaml"));
    EXPECT_TRUE(base.ok()) << base.status();
    if (base.ok()) all = std::move(*base);
  }
  for (auto& o : objects) all.push_back(std::move(o));
  int index = 0;
  for (auto& v : all) {
    Substitute(v);
    // Not every document is a well-formed object; those go in as they are, to
    // show that decoding errors stay with their object.
    if (v.is_object() && v.get_object().contains("metadata") &&
        v.get_object().at("metadata").is_object()) {
      AddServerFields(v.get_object(), index);
    }
    ++index;
    if (v.is_object()) {
      c.inputs.objects.push_back(std::make_shared<const json::object>(std::move(v.get_object())));
    }
  }
  return c;
}

json::value SnapshotJson(const gatehouse::config::v1::Snapshot& s) {
  std::string text;
  google::protobuf::util::JsonPrintOptions opt;
  opt.preserve_proto_field_names = false;
  auto st = google::protobuf::util::MessageToJsonString(s, &text, opt);
  EXPECT_TRUE(st.ok());
  return json::parse(text);
}

// Every snapshot must be one the proxy's router takes: its HTTP listeners compile
// and every host group is in the order the router's debug check expects (so
// debug proxy builds never reject a snapshot the translator made).
void ExpectRouterAccepts(const std::string& gateway, const gatehouse::config::v1::Snapshot& s) {
  for (const auto& l : s.listeners()) {
    if (l.virtual_hosts().empty()) continue;
    auto table = router::RouteTable::Compile(l);
    EXPECT_TRUE(table.ok()) << gateway << " " << l.name() << ": " << table.status();
    for (const auto& vh : l.virtual_hosts()) {
      for (const auto& group : vh.hosts()) {
        absl::Status order = router::CheckRouteOrder(group);
        EXPECT_TRUE(order.ok()) << gateway << " " << vh.name() << ": " << order;
      }
    }
  }
}

std::string RunCase(Case c) {
  reconcile::Outputs out = reconcile::Reconcile(c.inputs);
  bool again = !c.ack_current.empty() || !c.nack_current.empty() || c.default_infra;
  if (c.default_infra) {
    for (const auto& [gw, snap] : out.snapshots) {
      auto& gi = c.inputs.infra[gw];
      gi.addresses = {{"IPAddress", std::string(kDefaultAddress)}};
    }
    out = reconcile::Reconcile(c.inputs);  // versions depend on the addresses
    for (const auto& [gw, snap] : out.snapshots) c.inputs.infra[gw].acked_version = snap.version();
  }
  for (const auto& gw : c.ack_current) {
    if (out.snapshots.count(gw)) c.inputs.infra[gw].acked_version = out.snapshots.at(gw).version();
  }
  for (const auto& gw : c.nack_current) {
    if (out.snapshots.count(gw)) c.inputs.infra[gw].nacked_version = out.snapshots.at(gw).version();
  }
  if (again) out = reconcile::Reconcile(c.inputs);

  json::object doc;
  json::array errors;
  for (const auto& e : out.decode_errors) errors.push_back(json::string(e));
  doc["decodeErrors"] = std::move(errors);
  json::object gateways;
  for (const auto& [gw, addrs] : out.gateways) {
    json::array a;
    for (const auto& [t, v] : addrs) a.push_back(json::object{{"type", t}, {"value", v}});
    gateways[gw] = std::move(a);
  }
  doc["gateways"] = std::move(gateways);
  json::array status;
  for (const auto& u : out.status) {
    json::object o;
    o["apiVersion"] = u.api_version;
    o["kind"] = u.kind;
    if (!u.ns.empty()) o["namespace"] = u.ns;
    o["name"] = u.name;
    o["status"] = u.status;
    status.push_back(std::move(o));
  }
  doc["status"] = std::move(status);
  json::object snapshots;
  for (const auto& [gw, snap] : out.snapshots) {
    ExpectRouterAccepts(gw, snap);
    snapshots[gw] = SnapshotJson(snap);
  }
  doc["snapshots"] = std::move(snapshots);
  return "# Generated by //controller/translate:golden_test --update. Do not edit.\n" +
         resources::JsonToYaml(doc);
}

// The first line where two texts differ, for a readable failure.
std::string FirstDifference(const std::string& want, const std::string& got) {
  std::istringstream a(want), b(got);
  std::string la, lb;
  for (int line = 1;; ++line) {
    bool ea = !std::getline(a, la), eb = !std::getline(b, lb);
    if (ea && eb) return "";
    if (la != lb || ea != eb) {
      return "line " + std::to_string(line) + ":\n  want: " + (ea ? "<eof>" : la) +
             "\n  got:  " + (eb ? "<eof>" : lb);
    }
  }
}

class GoldenTest : public testing::Test {
 public:
  explicit GoldenTest(fs::path in) : in_(std::move(in)) {}
  void TestBody() override {
    std::string name = in_.filename().string();
    name = name.substr(0, name.size() - std::string_view(".in.yaml").size());
    std::string got = RunCase(LoadCase(in_));
    fs::path out_rel = fs::path(kTestdata) / (name + ".out.yaml");
    if (update_mode) {
      const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
      fs::path target = ws ? fs::path(ws) / out_rel : out_rel;
      std::ofstream(target) << got;
      return;
    }
    ASSERT_TRUE(fs::exists(out_rel)) << out_rel << " is missing; run with --update";
    std::string want = ReadFile(out_rel);
    EXPECT_TRUE(want == got)
        << name << " differs from its golden file at " << FirstDifference(want, got)
        << "\n(regenerate with: bazel run //controller/translate:golden_test -- --update)";
  }

 private:
  fs::path in_;
};

}  // namespace
}  // namespace gatehouse::translate

int main(int argc, char** argv) {
  using gatehouse::translate::GoldenTest;
  namespace fs = std::filesystem;
  testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--update") gatehouse::translate::update_mode = true;
  }
  if (const char* e = std::getenv("GATEHOUSE_UPDATE_GOLDEN"); e && std::string_view(e) == "1") {
    gatehouse::translate::update_mode = true;
  }
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(gatehouse::translate::kTestdata)) {
    std::string n = entry.path().filename().string();
    if (n.size() > 8 && n.substr(n.size() - 8) == ".in.yaml") cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());
  for (const fs::path& p : cases) {
    std::string n = p.filename().string();
    testing::RegisterTest("Golden", n.substr(0, n.size() - 8).c_str(), nullptr, nullptr, __FILE__,
                          __LINE__, [p]() -> testing::Test* { return new GoldenTest(p); });
  }
  return RUN_ALL_TESTS();
}
