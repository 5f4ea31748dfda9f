#include "controller/kube/informer.h"

#include <atomic>
#include <future>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include "controller/kube/backoff.h"
#include "controller/kube/json_util.h"
#include "controller/kube/testing/fake_apiserver.h"

namespace gatehouse::kube {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using testing::FakeApiServer;
using testing::FakeApiServerOptions;

const KindInfo kGateways{"gateway.networking.k8s.io", "v1", "gateways", "Gateway", true};

json::object Gateway(const std::string& ns, const std::string& name,
                     const std::string& klass = "gatehouse") {
  return {{"apiVersion", "gateway.networking.k8s.io/v1"},
          {"kind", "Gateway"},
          {"metadata", {{"namespace", ns}, {"name", name}}},
          {"spec", {{"gatewayClassName", klass}}}};
}

std::string ClassOf(const ObjectPtr& obj) {
  const json::object* spec = ObjectField(*obj, "spec");
  return spec == nullptr ? "" : std::string(StringField(*spec, "gatewayClassName"));
}

// An informer on its own io_context thread against the fake API server.
class InformerHarness {
 public:
  InformerHarness(const std::string& server, InformerOptions options, KindInfo kind = kGateways) {
    KubeConfig config;
    config.server = server;
    client_ = *ApiClient::Create(ioc_.get_executor(), config);
    informer_ = std::make_unique<Informer>(
        kind, client_, options,
        Informer::Hooks{.on_change = [this] { ++changes; },
                        .on_synced = [this](bool s) { (s ? synced_on : synced_off)++; }});
    asio::co_spawn(ioc_, informer_->Run(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~InformerHarness() {
    std::promise<void> done;
    asio::post(ioc_, [&] {
      client_->CloseIdle();
      done.set_value();
    });
    done.get_future().wait();
    ioc_.stop();
    thread_.join();
  }
  Informer& informer() { return *informer_; }

  std::atomic<int> changes{0};
  std::atomic<int> synced_on{0};
  std::atomic<int> synced_off{0};

 private:
  asio::io_context ioc_;
  std::shared_ptr<ApiClient> client_;
  std::unique_ptr<Informer> informer_;
  std::thread thread_;
};

InformerOptions FastOptions() {
  return InformerOptions{.watch_timeout = std::chrono::seconds(600),
                         .backoff_min = std::chrono::milliseconds(10),
                         .backoff_max = std::chrono::milliseconds(100),
                         .page_size = 2};
}

TEST(InformerTest, ListsInPagesThenWatches) {
  FakeApiServer server;
  server.Put("gateways", Gateway("a", "one"));
  server.Put("gateways", Gateway("a", "two"));
  server.Put("gateways", Gateway("b", "three"));
  InformerHarness h(server.url(), FastOptions());
  Informer& inf = h.informer();
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return inf.HasSynced(); }));
  EXPECT_EQ(inf.Size(), 3u);
  EXPECT_EQ(server.ListCount("gateways"), 2);  // two pages of at most 2
  ObjectPtr one = inf.Get("a", "one");
  ASSERT_NE(one, nullptr);
  // List items come without apiVersion/kind; the informer restores them.
  EXPECT_EQ(StringField(*one, "apiVersion"), "gateway.networking.k8s.io/v1");
  EXPECT_EQ(StringField(*one, "kind"), "Gateway");
  EXPECT_EQ(inf.Get("b", "one"), nullptr);

  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.OpenWatches("gateways") == 1; }));
  EXPECT_EQ(server.WatchResourceVersions("gateways").front(), inf.ResourceVersion());

  const int before = h.changes.load();
  server.Put("gateways", Gateway("b", "four"));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return inf.Get("b", "four") != nullptr; }));
  EXPECT_EQ(StringField(*inf.Get("b", "four"), "kind"), "Gateway");
  server.Put("gateways", Gateway("a", "one", "other"));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return ClassOf(inf.Get("a", "one")) == "other"; }));
  server.Delete("gateways", "a", "two");
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return inf.Get("a", "two") == nullptr; }));
  EXPECT_EQ(inf.Size(), 3u);
  EXPECT_EQ(h.changes.load(), before + 3);
  EXPECT_EQ(server.ListCount("gateways"), 2);  // no relist
  EXPECT_EQ(h.synced_off.load(), 0);
}

TEST(InformerTest, BookmarkAdvancesResourceVersionForTheNextWatch) {
  FakeApiServer server;
  server.Put("gateways", Gateway("a", "one"));
  InformerHarness h(server.url(), FastOptions());
  Informer& inf = h.informer();
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.OpenWatches("gateways") == 1; }));
  const std::string listed = inf.ResourceVersion();
  const int changes = h.changes.load();

  const std::string bookmark = server.Bookmark("gateways");
  ASSERT_NE(bookmark, listed);
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return inf.ResourceVersion() == bookmark; }));

  // A watch that ends (timeoutSeconds) resumes from the bookmark, without a relist.
  server.EndWatches();
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.WatchCount("gateways") == 2; }));
  EXPECT_EQ(server.WatchResourceVersions("gateways")[1], bookmark);
  EXPECT_EQ(server.ListCount("gateways"), 1);
  EXPECT_TRUE(inf.HasSynced());

  // The bookmark itself was not a change: the next real event is the only one.
  server.Put("gateways", Gateway("a", "two"));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return inf.Get("a", "two") != nullptr; }));
  EXPECT_EQ(h.changes.load(), changes + 1);
}

class ExpiredTest : public ::testing::TestWithParam<bool> {};

TEST_P(ExpiredTest, WatchFromCompactedVersionRelists) {
  FakeApiServerOptions opts;
  opts.expire_with_http_410 = GetParam();
  FakeApiServer server(opts);
  server.Put("gateways", Gateway("a", "one"));
  InformerHarness h(server.url(), FastOptions());
  Informer& inf = h.informer();
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.OpenWatches("gateways") == 1; }));

  // History moves on without the informer seeing it, then gets compacted; the
  // informer's next watch starts from a version the server no longer has.
  server.Put("services", json::object{{"metadata", {{"namespace", "a"}, {"name", "svc"}}}});
  server.Compact();
  server.EndWatches();
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.ListCount("gateways") == 2; }));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.OpenWatches("gateways") == 1; }));
  EXPECT_TRUE(inf.HasSynced());
  EXPECT_EQ(h.synced_off.load(), 1);

  // The new watch works from the relisted version.
  server.Put("gateways", Gateway("a", "two"));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return inf.Get("a", "two") != nullptr; }));
}

INSTANTIATE_TEST_SUITE_P(ErrorEventOrHttp410, ExpiredTest, ::testing::Bool());

TEST(InformerTest, ErrorEvent410DuringWatchRelists) {
  FakeApiServer server;
  server.Put("gateways", Gateway("a", "one"));
  InformerHarness h(server.url(), FastOptions());
  Informer& inf = h.informer();
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.OpenWatches("gateways") == 1; }));
  server.ExpireWatches("gateways");
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.ListCount("gateways") == 2; }));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return inf.HasSynced(); }));
  EXPECT_EQ(inf.Size(), 1u);
}

TEST(InformerTest, LostConnectionRetriesAndResyncs) {
  FakeApiServer server;
  server.Put("gateways", Gateway("a", "one"));
  InformerHarness h(server.url(), FastOptions());
  Informer& inf = h.informer();
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.OpenWatches("gateways") == 1; }));

  server.SetFailing(503);  // drops the watch; every request fails
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return !inf.HasSynced(); }));
  server.Delete("gateways", "a", "one");
  server.Put("gateways", Gateway("a", "during-outage"));
  server.Compact();
  // Retries keep failing while the server is down.
  const int requests = server.Requests();
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.Requests() > requests + 1; }));
  EXPECT_FALSE(inf.HasSynced());

  server.SetFailing(0);
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return inf.HasSynced(); }));
  EXPECT_NE(inf.Get("a", "during-outage"), nullptr);
  EXPECT_EQ(inf.Get("a", "one"), nullptr);
  EXPECT_EQ(h.synced_off.load(), 1);
  EXPECT_EQ(h.synced_on.load(), 2);
}

TEST(InformerTest, ABadObjectDoesNotAffectOthers) {
  FakeApiServer server;
  server.Put("gateways", Gateway("a", "one"));
  server.Put("gateways", json::object{{"metadata", {{"namespace", "a"}}}});  // no name
  InformerHarness h(server.url(), FastOptions());
  Informer& inf = h.informer();
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.OpenWatches("gateways") == 1; }));
  EXPECT_TRUE(inf.HasSynced());
  EXPECT_EQ(inf.Size(), 1u);

  server.SendRawWatchLine("gateways", "{this is not json");
  server.SendRawWatchLine("gateways",
                          R"({"type":"ADDED","object":{"metadata":{"namespace":"a"}}})");
  server.SendRawWatchLine("gateways", R"({"type":"SURPRISE","object":{}})");
  server.Put("gateways", Gateway("a", "two"));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return inf.Get("a", "two") != nullptr; }));
  EXPECT_NE(inf.Get("a", "one"), nullptr);
  EXPECT_EQ(inf.Size(), 2u);
  EXPECT_EQ(server.WatchCount("gateways"), 1);  // the stream survived
}

TEST(InformerTest, HandleEventLine) {
  asio::io_context ioc;
  KubeConfig config;
  config.server = "http://127.0.0.1:1";
  Informer inf(kGateways, *ApiClient::Create(ioc.get_executor(), config), FastOptions(), {});
  using R = Informer::EventResult;
  const std::string added =
      R"({"type":"ADDED","object":{"metadata":{"namespace":"a","name":"x","resourceVersion":"5"}}})";
  EXPECT_EQ(inf.HandleEventLine(added), R::kApplied);
  EXPECT_EQ(inf.ResourceVersion(), "5");
  EXPECT_EQ(StringField(*inf.Get("a", "x"), "kind"), "Gateway");
  // The same version again (replayed after a re-watch) is not a change.
  std::string replay = added;
  replay.replace(replay.find("ADDED"), 5, "MODIFIED");
  EXPECT_EQ(inf.HandleEventLine(replay), R::kUnchanged);
  EXPECT_EQ(
      inf.HandleEventLine(R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}})"),
      R::kBookmark);
  EXPECT_EQ(inf.ResourceVersion(), "9");
  EXPECT_EQ(
      inf.HandleEventLine(
          R"({"type":"DELETED","object":{"metadata":{"namespace":"a","name":"y","resourceVersion":"10"}}})"),
      R::kUnchanged);
  EXPECT_EQ(
      inf.HandleEventLine(
          R"({"type":"DELETED","object":{"metadata":{"namespace":"a","name":"x","resourceVersion":"11"}}})"),
      R::kApplied);
  EXPECT_EQ(inf.Size(), 0u);
  EXPECT_EQ(inf.HandleEventLine(R"({"type":"ERROR","object":{"kind":"Status","code":410}})"),
            R::kExpired);
  EXPECT_EQ(inf.HandleEventLine(R"({"type":"ERROR","object":{"kind":"Status","code":500}})"),
            R::kError);
  EXPECT_EQ(inf.HandleEventLine("[1,2]"), R::kBadLine);
  EXPECT_EQ(inf.HandleEventLine(R"({"type":"ADDED"})"), R::kBadLine);
}

TEST(BackoffTest, GrowsWithJitterUpToTheCapAndResets) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000), /*seed=*/42);
  const int64_t ceilings[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t ceiling : ceilings) {
    const int64_t d = b.Next().count();
    EXPECT_GE(d, ceiling / 2);
    EXPECT_LE(d, ceiling);
  }
  b.Reset();
  EXPECT_LE(b.Next().count(), 100);
  // Jitter: different seeds give different waits at the same step.
  Backoff x(std::chrono::milliseconds(1000), std::chrono::milliseconds(30000), 1);
  Backoff y(std::chrono::milliseconds(1000), std::chrono::milliseconds(30000), 2);
  std::vector<int64_t> xs, ys;
  for (int i = 0; i < 5; ++i) {
    xs.push_back(x.Next().count());
    ys.push_back(y.Next().count());
  }
  EXPECT_NE(xs, ys);
}

TEST(QueryEscapeTest, EscapesContinueTokens) {
  EXPECT_EQ(QueryEscape("eyJ2Ijoi+/=="), "eyJ2Ijoi%2B%2F%3D%3D");
  EXPECT_EQ(QueryEscape("a-b_c.d~"), "a-b_c.d~");
}

}  // namespace
}  // namespace gatehouse::kube
