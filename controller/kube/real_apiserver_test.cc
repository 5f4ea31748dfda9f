// Checks the provider against a real kube-apiserver (manual: needs KUBECONFIG
// pointing at a cluster with the Gateway API CRDs; see
// testing/real_apiserver.sh, which brings one up on loopback and runs this).
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "controller/kube/api_client.h"
#include "controller/kube/json_util.h"
#include "controller/kube/provider.h"
#include "controller/kube/testing/fake_apiserver.h"

namespace gatehouse::kube {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::beast::http::verb;
using testing::FakeApiServer;

class RealApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* path = std::getenv("KUBECONFIG");
    ASSERT_NE(path, nullptr) << "set KUBECONFIG (bazel test --test_env=KUBECONFIG=...)";
    auto config = LoadKubeConfig(path);
    ASSERT_TRUE(config.ok()) << config.status();
    config_ = *config;
    client_ = *ApiClient::Create(ioc_.get_executor(), config_);
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(ioc_);
      ioc_.run();
    });
    suffix_ = std::to_string(getpid());
    ns_ = "gh-kube-" + suffix_;
  }
  void TearDown() override {
    Do(verb::delete_, "/api/v1/namespaces/" + ns_);
    Do(verb::delete_, "/apis/gateway.networking.k8s.io/v1/gatewayclasses/gh-" + suffix_);
    asio::co_spawn(
        ioc_,
        [this]() -> asio::awaitable<void> {
          client_->CloseIdle();
          co_return;
        },
        asio::use_future)
        .get();
    ioc_.stop();
    thread_.join();
  }

  HttpResponse Do(verb v, const std::string& path, const std::string& body = "") {
    auto res = asio::co_spawn(
                   ioc_, client_->Request(v, path, body, body.empty() ? "" : "application/json"),
                   asio::use_future)
                   .get();
    EXPECT_TRUE(res.ok()) << res.status();
    return res.ok() ? *res : HttpResponse{};
  }
  json::object Get(const std::string& path) {
    HttpResponse r = Do(verb::get, path);
    json::error_code ec;
    json::value v = json::parse(r.body, ec);
    return r.status == 200 && v.is_object() ? v.get_object() : json::object();
  }

  static source::ObjectPtr Find(const std::vector<source::ObjectPtr>& objs, std::string_view kind,
                                std::string_view name) {
    for (const auto& o : objs) {
      if (StringField(*o, "kind") == kind && MetaField(*o, "name") == name) return o;
    }
    return nullptr;
  }

  KubeConfig config_;
  asio::io_context ioc_;
  std::shared_ptr<ApiClient> client_;
  std::thread thread_;
  std::string suffix_;
  std::string ns_;
};

TEST_F(RealApiServerTest, ListWatchStatusAndLease) {
  const std::string gwc = "gh-" + suffix_;
  ASSERT_EQ(Do(verb::post, "/api/v1/namespaces",
               R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + ns_ + R"("}})")
                .status,
            201);
  ASSERT_EQ(Do(verb::post, "/apis/gateway.networking.k8s.io/v1/gatewayclasses",
               R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"GatewayClass",)"
               R"("metadata":{"name":")" +
                   gwc +
                   R"("},)"
                   R"("spec":{"controllerName":"gatehouse.dev/gateway-controller"}})")
                .status,
            201);
  const std::string gw_path = "/apis/gateway.networking.k8s.io/v1/namespaces/" + ns_ + "/gateways";
  ASSERT_EQ(Do(verb::post, gw_path,
               R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"Gateway",)"
               R"("metadata":{"name":"gw"},"spec":{"gatewayClassName":")" +
                   gwc + R"(","listeners":[{"name":"http","port":80,"protocol":"HTTP"}]}})")
                .status,
            201);

  KubeOptions options;
  options.config = config_;
  options.leader_elect = true;
  options.lease_namespace = ns_;
  options.identity = "probe-" + suffix_;
  auto made = MakeKubeProvider(options);
  ASSERT_TRUE(made.ok()) << made.status();
  std::unique_ptr<KubeProvider> provider = *std::move(made);
  std::atomic<int> changes{0};
  provider->Start([&] { ++changes; });
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return provider->HasSynced() && provider->IsLeader(); },
                                     std::chrono::seconds(30)));

  auto objects = provider->Objects();
  auto klass = Find(objects, "GatewayClass", gwc);
  ASSERT_NE(klass, nullptr);
  EXPECT_EQ(StringField(*klass, "apiVersion"), "gateway.networking.k8s.io/v1");
  ASSERT_NE(Find(objects, "Gateway", "gw"), nullptr);
  ASSERT_NE(Find(objects, "Namespace", "kube-system"), nullptr);
  EXPECT_EQ(StringField(*Find(objects, "Namespace", "kube-system"), "apiVersion"), "v1");

  // Status through the status subresource.
  const json::value desired = json::parse(
      R"({"conditions":[{"type":"Accepted","status":"True","reason":"Accepted",)"
      R"("message":"probe","lastTransitionTime":"2026-01-01T00:00:00Z","observedGeneration":1}]})");
  provider->WriteStatus(
      {status::StatusUpdate{"gateway.networking.k8s.io/v1", "GatewayClass", "", gwc,
                            std::string(MetaField(*klass, "resourceVersion")), desired}});
  const std::string gwc_path = "/apis/gateway.networking.k8s.io/v1/gatewayclasses/" + gwc;
  ASSERT_TRUE(FakeApiServer::WaitFor([&] {
    auto o = Get(gwc_path);
    return o.contains("status") && o.at("status") == desired;
  }));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] {
    auto o = Find(provider->Objects(), "GatewayClass", gwc);
    return o != nullptr && o->contains("status") && o->at("status") == desired;
  }));
  // Equal now: a second write is skipped (the resourceVersion stays).
  objects = provider->Objects();
  const std::string rv(MetaField(*Find(objects, "GatewayClass", gwc), "resourceVersion"));
  provider->WriteStatus(
      {status::StatusUpdate{"gateway.networking.k8s.io/v1", "GatewayClass", "", gwc, rv, desired}});
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(MetaField(Get(gwc_path), "resourceVersion"), rv);

  // Watch: an added route shows up, a deleted Gateway goes away.
  ASSERT_EQ(Do(verb::post, "/apis/gateway.networking.k8s.io/v1/namespaces/" + ns_ + "/httproutes",
               R"({"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute",)"
               R"("metadata":{"name":"r"},"spec":{"parentRefs":[{"name":"gw"}]}})")
                .status,
            201);
  ASSERT_TRUE(FakeApiServer::WaitFor(
      [&] { return Find(provider->Objects(), "HTTPRoute", "r") != nullptr; }));
  EXPECT_EQ(StringField(*Find(provider->Objects(), "HTTPRoute", "r"), "kind"), "HTTPRoute");
  ASSERT_EQ(Do(verb::delete_, gw_path + "/gw").status, 200);
  ASSERT_TRUE(FakeApiServer::WaitFor(
      [&] { return Find(provider->Objects(), "Gateway", "gw") == nullptr; }));

  // The Lease is ours, and released on Stop.
  const std::string lease_path =
      "/apis/coordination.k8s.io/v1/namespaces/" + ns_ + "/leases/gatehouse-controller";
  EXPECT_EQ(Get(lease_path).at("spec").at("holderIdentity"), json::value(options.identity));
  provider->Stop();
  EXPECT_FALSE(Get(lease_path).at("spec").as_object().contains("holderIdentity"));
}

}  // namespace
}  // namespace gatehouse::kube
