#include "controller/source/dir_provider.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <gtest/gtest.h>
#include <boost/json.hpp>

#include "controller/resources/yaml.h"

namespace gatehouse::source {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class DirProviderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/dirprov.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/manifests";
    fs::create_directory(dir_);
  }
  void TearDown() override { fs::remove_all(root_); }

  // Writes through a temporary file and rename, as editors and kubectl-like tools do.
  void Write(const std::string& name, const std::string& content) {
    std::string tmp = dir_ + "/.tmp-" + name;
    std::ofstream(tmp) << content;
    fs::rename(tmp, dir_ + "/" + name);
  }

  // The object of `kind`/`name`, or nullptr.
  static ObjectPtr Find(const std::vector<ObjectPtr>& objects, const std::string& kind,
                        const std::string& name) {
    for (const auto& o : objects) {
      if (o->at("kind").as_string() == kind &&
          o->at("metadata").as_object().at("name").as_string() == name) {
        return o;
      }
    }
    return nullptr;
  }

  static const json::object& Meta(const ObjectPtr& o) { return o->at("metadata").as_object(); }

  std::string root_;
  std::string dir_;
};

constexpr char kGatewayAndRoute[] = R"(apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
spec:
  gatewayClassName: gatehouse
  listeners:
  - name: http
    port: 80
    protocol: HTTP
---
# an empty document is fine
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route
  namespace: apps
spec:
  hostnames: ["foo.example.com"]
)";

TEST_F(DirProviderTest, LoadsYamlAndJsonAndFillsMetadata) {
  Write("gw.yaml", kGatewayAndRoute);
  Write("class.json", R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"GatewayClass",)"
                      R"("metadata":{"name":"gatehouse","namespace":"ignored"},)"
                      R"("spec":{"controllerName":"gatehouse.dev/gateway-controller"}})");
  Write("notes.txt", "kind: Secret\n");
  Write(".hidden.yaml", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n");
  DirProvider p(DirOptions{.dir = dir_});
  EXPECT_TRUE(p.Rescan());
  auto objects = p.Objects();
  ASSERT_EQ(objects.size(), 3u);

  auto gw = Find(objects, "Gateway", "gw");
  ASSERT_NE(gw, nullptr);
  EXPECT_EQ(Meta(gw).at("namespace").as_string(), "default");
  EXPECT_EQ(Meta(gw).at("generation").as_int64(), 1);
  EXPECT_FALSE(Meta(gw).at("uid").as_string().empty());
  EXPECT_FALSE(Meta(gw).at("resourceVersion").as_string().empty());
  EXPECT_EQ(Meta(gw).at("creationTimestamp").as_string().size(), 20u);
  EXPECT_EQ(gw->at("spec").at("listeners").at(0).at("port").as_int64(), 80);

  auto route = Find(objects, "HTTPRoute", "route");
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(Meta(route).at("namespace").as_string(), "apps");

  auto cls = Find(objects, "GatewayClass", "gatehouse");
  ASSERT_NE(cls, nullptr);
  EXPECT_FALSE(Meta(cls).contains("namespace"));
  EXPECT_TRUE(p.FileErrors().empty());
  EXPECT_FALSE(p.Rescan());  // nothing changed
}

TEST_F(DirProviderTest, ParseErrorsStayInTheirFile) {
  Write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {}\n");
  Write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {}\n");
  DirProvider p(DirOptions{.dir = dir_});
  p.Rescan();
  ASSERT_EQ(p.Objects().size(), 2u);

  // b.yaml breaks: its last good objects stay, a.yaml is untouched.
  Write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b\n  oops: [\n");
  EXPECT_FALSE(p.Rescan());
  EXPECT_EQ(p.Objects().size(), 2u);
  ASSERT_EQ(p.FileErrors().count("b.yaml"), 1u);
  EXPECT_EQ(p.FileErrors().count("a.yaml"), 0u);

  // A new file that never parsed contributes nothing, and is reported.
  Write("c.yaml", "{{{");
  p.Rescan();
  EXPECT_EQ(p.Objects().size(), 2u);
  EXPECT_EQ(p.FileErrors().count("c.yaml"), 1u);

  // An object without a name is skipped; its siblings are kept.
  Write("b.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: b2}\n");
  EXPECT_TRUE(p.Rescan());
  auto objects = p.Objects();
  EXPECT_EQ(objects.size(), 2u);
  EXPECT_NE(Find(objects, "Service", "b2"), nullptr);
  EXPECT_EQ(Find(objects, "Service", "b"), nullptr);
  EXPECT_NE(p.FileErrors().at("b.yaml").find("metadata.name"), std::string::npos);

  fs::remove(dir_ + "/b.yaml");
  EXPECT_TRUE(p.Rescan());
  EXPECT_EQ(p.Objects().size(), 1u);
}

TEST_F(DirProviderTest, ListsAreFlattenedAndLaterFilesWinDuplicates) {
  Write("a.yaml",
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: Service, metadata: {name: s1}, spec: {type: A}}\n"
        "- {apiVersion: v1, kind: Service, metadata: {name: s2}, spec: {}}\n");
  Write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s1}\nspec: {type: B}\n");
  DirProvider p(DirOptions{.dir = dir_});
  p.Rescan();
  auto objects = p.Objects();
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(Find(objects, "Service", "s1")->at("spec").at("type").as_string(), "B");
}

TEST_F(DirProviderTest, GenerationFollowsSpecChanges) {
  Write("s.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {a: 1}\n");
  DirProvider p(DirOptions{.dir = dir_});
  p.Rescan();
  auto first = Find(p.Objects(), "Service", "s");
  std::string rv1(Meta(first).at("resourceVersion").as_string());
  std::string created(Meta(first).at("creationTimestamp").as_string());

  // A label is metadata: a new resourceVersion, the same generation.
  Write("s.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s, labels: {x: y}}\nspec: {a: 1}\n");
  EXPECT_TRUE(p.Rescan());
  auto second = Find(p.Objects(), "Service", "s");
  EXPECT_EQ(Meta(second).at("generation").as_int64(), 1);
  EXPECT_NE(Meta(second).at("resourceVersion").as_string(), rv1);

  Write("s.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s, labels: {x: y}}\nspec: {a: 2}\n");
  EXPECT_TRUE(p.Rescan());
  auto third = Find(p.Objects(), "Service", "s");
  EXPECT_EQ(Meta(third).at("generation").as_int64(), 2);
  EXPECT_EQ(Meta(third).at("creationTimestamp").as_string(), created);
}

TEST_F(DirProviderTest, OnlyChangedFilesAreRebuiltAndStatusSurvives) {
  Write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {x: 1}\n");
  Write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {x: 1}\n");
  DirProvider p(DirOptions{.dir = dir_});
  EXPECT_TRUE(p.Rescan());
  // Nothing on disk changed: no change reported, the same objects.
  ObjectPtr a1 = Find(p.Objects(), "Service", "a");
  EXPECT_FALSE(p.Rescan());
  EXPECT_EQ(Find(p.Objects(), "Service", "a"), a1);

  json::value status = json::parse(R"({"loadBalancer":{}})");
  p.WriteStatus(
      {{.api_version = "v1", .kind = "Service", .ns = "default", .name = "a", .status = status}});
  ObjectPtr a2 = Find(p.Objects(), "Service", "a");
  ASSERT_NE(a2, a1);
  EXPECT_EQ(a2->at("status"), status);

  // Another file changes: `a` is reused as it is (with its status), `b` is rebuilt.
  ObjectPtr b1 = Find(p.Objects(), "Service", "b");
  Write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\nspec: {x: 2}\n");
  EXPECT_TRUE(p.Rescan());
  EXPECT_EQ(Find(p.Objects(), "Service", "a"), a2);
  ObjectPtr b2 = Find(p.Objects(), "Service", "b");
  ASSERT_NE(b2, nullptr);
  EXPECT_NE(b2, b1);
  EXPECT_EQ(Meta(b2).at("generation").as_int64(), 2);

  // Rewriting a file with the same bytes is no change; removing one is.
  Write("a.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {x: 1}\n");
  EXPECT_FALSE(p.Rescan());
  fs::remove(dir_ + "/b.yaml");
  EXPECT_TRUE(p.Rescan());
  ASSERT_EQ(p.Objects().size(), 1u);
  EXPECT_EQ(Find(p.Objects(), "Service", "a")->at("status"), status);
}

TEST_F(DirProviderTest, StatusIsWrittenOnlyWhenChangedAndFedBack) {
  Write("gw.yaml", kGatewayAndRoute);
  std::string status_file = root_ + "/status.yaml";
  auto p = std::make_unique<DirProvider>(DirOptions{.dir = dir_, .status_file = status_file});
  p->Rescan();
  json::value gw_status = json::parse(R"({"conditions":[{"type":"Accepted","status":"True"}]})");
  std::vector<status::StatusUpdate> updates = {{.api_version = "gateway.networking.k8s.io/v1",
                                                .kind = "Gateway",
                                                .ns = "default",
                                                .name = "gw",
                                                .status = gw_status},
                                               {.api_version = "gateway.networking.k8s.io/v1",
                                                .kind = "HTTPRoute",
                                                .ns = "apps",
                                                .name = "gone",  // no such object: dropped
                                                .status = json::object{}}};
  p->WriteStatus(updates);

  std::ifstream in(status_file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto docs = resources::YamlToJson(text);
  ASSERT_TRUE(docs.ok());
  ASSERT_EQ(docs->size(), 1u);
  const json::object& doc = (*docs)[0].as_object();
  EXPECT_EQ(doc.at("kind").as_string(), "Gateway");
  EXPECT_EQ(doc.at("metadata").at("namespace").as_string(), "default");
  EXPECT_EQ(doc.at("status"), gw_status);
  EXPECT_EQ(Find(p->Objects(), "Gateway", "gw")->at("status"), gw_status);

  // The same status again: the file is not rewritten (a rewrite is a new inode).
  struct stat before, after;
  ASSERT_EQ(::stat(status_file.c_str(), &before), 0);
  p->WriteStatus(updates);
  ASSERT_EQ(::stat(status_file.c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);

  // A restarted provider starts from the status it wrote.
  p = std::make_unique<DirProvider>(DirOptions{.dir = dir_, .status_file = status_file});
  p->Start(nullptr);
  EXPECT_EQ(Find(p->Objects(), "Gateway", "gw")->at("status"), gw_status);
  p->Stop();

  // A deleted object's status leaves the file on the next write.
  fs::remove(dir_ + "/gw.yaml");
  Write("other.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
  p = std::make_unique<DirProvider>(DirOptions{.dir = dir_, .status_file = status_file});
  p->Rescan();
  p->WriteStatus({});
  std::ifstream in2(status_file);
  std::string text2((std::istreambuf_iterator<char>(in2)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text2.find("Gateway"), std::string::npos);
}

class Notifications {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  // Waits until more than `seen` notifications arrived.
  bool WaitBeyond(int seen) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return count_ > seen; });
  }
  int count() {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

void ExpectWatchSeesChanges(
    DirProvider& p, Notifications& n,
    const std::function<void(const std::string&, const std::string&)>& write) {
  p.Start([&n] { n.Notify(); });
  ASSERT_EQ(n.count(), 1);  // the initial load
  write("s.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n");
  ASSERT_TRUE(n.WaitBeyond(1));
  EXPECT_EQ(p.Objects().size(), 1u);
  write("s.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: renamed}\n");
  ASSERT_TRUE(n.WaitBeyond(2));
  ASSERT_EQ(p.Objects().size(), 1u);
  EXPECT_EQ(p.Objects()[0]->at("metadata").at("name").as_string(), "renamed");
  p.Stop();
}

TEST_F(DirProviderTest, WatchWithInotify) {
  DirProvider p(DirOptions{.dir = dir_});
  Notifications n;
  ExpectWatchSeesChanges(p, n,
                         [this](const std::string& name, const std::string& c) { Write(name, c); });
}

TEST_F(DirProviderTest, WatchByPollingAndInPlaceWrites) {
  DirProvider p(DirOptions{.dir = dir_, .force_polling = true});
  Notifications n;
  ExpectWatchSeesChanges(p, n, [this](const std::string& name, const std::string& c) {
    std::ofstream(dir_ + "/" + name, std::ios::trunc) << c;
  });
}

TEST_F(DirProviderTest, ABurstOfWritesIsOneChange) {
  DirProvider p(DirOptions{.dir = dir_, .debounce = std::chrono::milliseconds(200)});
  Notifications n;
  p.Start([&n] { n.Notify(); });
  for (int i = 0; i < 10; ++i) {
    Write("s" + std::to_string(i) + ".yaml",
          "apiVersion: v1\nkind: Service\nmetadata: {name: s" + std::to_string(i) + "}\n");
  }
  ASSERT_TRUE(n.WaitBeyond(1));
  EXPECT_EQ(p.Objects().size(), 10u);
  EXPECT_EQ(n.count(), 2);
  p.Stop();
}

}  // namespace
}  // namespace gatehouse::source
