#include "controller/kube/provider.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/parse.hpp>

#include "controller/kube/json_util.h"
#include "controller/kube/kinds.h"
#include "controller/kube/testing/fake_apiserver.h"
#include "controller/kube/testing/test_pki.h"

namespace gatehouse::kube {
namespace {

namespace json = boost::json;
using testing::FakeApiServer;
using testing::FakeApiServerOptions;

json::object Meta(const std::string& ns, const std::string& name) {
  json::object m{{"name", name}};
  if (!ns.empty()) m["namespace"] = ns;
  return m;
}

json::object Object(const std::string& api_version, const std::string& kind, const std::string& ns,
                    const std::string& name, json::value status = nullptr) {
  json::object o{{"apiVersion", api_version},
                 {"kind", kind},
                 {"metadata", Meta(ns, name)},
                 {"spec", json::object()}};
  if (!status.is_null()) o["status"] = std::move(status);
  return o;
}

KubeOptions FastOptions(const std::string& server) {
  KubeOptions o;
  o.config.server = server;
  o.backoff_min = std::chrono::milliseconds(10);
  o.backoff_max = std::chrono::milliseconds(200);
  o.coalesce_window = std::chrono::milliseconds(50);
  return o;
}

std::unique_ptr<KubeProvider> Make(const KubeOptions& o) {
  auto p = MakeKubeProvider(o);
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

// Counts on_change calls and how many objects each one saw.
struct Recorder {
  void Attach(KubeProvider* p) {
    p->Start([this, p] {
      const size_t n = p->Objects().size();
      std::lock_guard lock(mu);
      seen.push_back(n);
    });
  }
  int Calls() {
    std::lock_guard lock(mu);
    return static_cast<int>(seen.size());
  }
  std::vector<size_t> Seen() {
    std::lock_guard lock(mu);
    return seen;
  }
  std::mutex mu;
  std::vector<size_t> seen;
};

json::value StatusIn(const std::vector<source::ObjectPtr>& objects, std::string_view kind,
                     std::string_view name) {
  for (const auto& o : objects) {
    if (StringField(*o, "kind") == kind && MetaField(*o, "name") == name) {
      auto it = o->find("status");
      return it == o->end() ? json::value() : it->value();
    }
  }
  return json::value();
}

std::string RvIn(const std::vector<source::ObjectPtr>& objects, std::string_view kind,
                 std::string_view name) {
  for (const auto& o : objects) {
    if (StringField(*o, "kind") == kind && MetaField(*o, "name") == name) {
      return std::string(MetaField(*o, "resourceVersion"));
    }
  }
  return "";
}

status::StatusUpdate Update(const std::string& kind, const std::string& ns, const std::string& name,
                            const std::string& status, const std::string& rv = "") {
  return status::StatusUpdate{
      "gateway.networking.k8s.io/v1", kind, ns, name, rv, json::parse(status)};
}

const char kAccepted[] =
    R"({"conditions":[{"type":"Accepted","status":"True","reason":"Accepted"}]})";
const char kRejected[] =
    R"({"conditions":[{"type":"Accepted","status":"False","reason":"Invalid"}]})";

TEST(KubeProviderTest, TlsClientCertificateSyncsEveryKindAndCoalescesABurst) {
  const testing::TestPki pki = testing::MakeTestPki();
  FakeApiServerOptions so;
  so.tls = true;
  so.cert_pem = pki.server_cert_pem;
  so.key_pem = pki.server_key_pem;
  so.client_ca_pem = pki.ca_pem;
  FakeApiServer server(so);
  server.Put("gatewayclasses",
             Object("gateway.networking.k8s.io/v1", "GatewayClass", "", "gatehouse"));
  server.Put("gateways", Object("gateway.networking.k8s.io/v1", "Gateway", "a", "gw"));
  server.Put("httproutes", Object("gateway.networking.k8s.io/v1", "HTTPRoute", "a", "r0"));
  server.Put("services", Object("v1", "Service", "a", "svc"));
  server.Put("secrets", Object("v1", "Secret", "a", "cert"));
  server.Put("namespaces", Object("v1", "Namespace", "", "a"));
  server.Put("endpointslices", Object("discovery.k8s.io/v1", "EndpointSlice", "a", "svc-1"));
  constexpr size_t kInitial = 7;

  KubeOptions o = FastOptions(server.url());
  o.config.ca_pem = pki.ca_pem;
  o.config.client_cert_pem = pki.client_cert_pem;
  o.config.client_key_pem = pki.client_key_pem;
  // Wide enough that a loaded machine cannot split the burst.
  o.coalesce_window = std::chrono::milliseconds(300);
  auto provider = Make(o);
  Recorder rec;
  rec.Attach(provider.get());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Calls() >= 1; }));
  EXPECT_TRUE(provider->HasSynced());
  EXPECT_TRUE(provider->IsLeader());  // no leader election: always
  // The first notification comes after every informer synced.
  EXPECT_EQ(rec.Seen().front(), kInitial);

  std::map<std::string, std::string> api_versions;
  for (const auto& obj : provider->Objects()) {
    api_versions[std::string(StringField(*obj, "kind"))] = StringField(*obj, "apiVersion");
  }
  EXPECT_EQ(api_versions,
            (std::map<std::string, std::string>{{"EndpointSlice", "discovery.k8s.io/v1"},
                                                {"Gateway", "gateway.networking.k8s.io/v1"},
                                                {"GatewayClass", "gateway.networking.k8s.io/v1"},
                                                {"HTTPRoute", "gateway.networking.k8s.io/v1"},
                                                {"Namespace", "v1"},
                                                {"Secret", "v1"},
                                                {"Service", "v1"}}));

  std::vector<json::object> burst;
  for (int i = 1; i <= 40; ++i) {
    burst.push_back(
        Object("gateway.networking.k8s.io/v1", "HTTPRoute", "a", "r" + std::to_string(i)));
  }
  // After a quiet window, one change is reported at once: well before the window ends.
  std::this_thread::sleep_for(o.coalesce_window);
  int before = rec.Calls();
  const auto t0 = std::chrono::steady_clock::now();
  server.Put("httproutes", Object("gateway.networking.k8s.io/v1", "HTTPRoute", "a", "r0b"));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Seen().back() == kInitial + 1; }));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, o.coalesce_window);
  EXPECT_EQ(rec.Calls(), before + 1);

  // A burst right after it is coalesced: one more recompute that saw all of it.
  before = rec.Calls();
  server.PutMany("httproutes", std::move(burst));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Seen().back() == kInitial + 41; }));
  EXPECT_EQ(rec.Calls(), before + 1);
  for (size_t n : rec.Seen())
    EXPECT_TRUE(n == kInitial || n == kInitial + 1 || n == kInitial + 41) << n;
  provider->Stop();
}

TEST(KubeProviderTest, StatusIsSkippedWhenEqualAndWrittenWhenChanged) {
  FakeApiServer server;
  server.Put("gatewayclasses",
             Object("gateway.networking.k8s.io/v1", "GatewayClass", "", "gatehouse"));
  server.Put("gateways", Object("gateway.networking.k8s.io/v1", "Gateway", "a", "same",
                                json::parse(kAccepted)));
  server.Put("gateways",
             Object("gateway.networking.k8s.io/v1", "Gateway", "a", "changes",
                    json::parse(R"({"addresses":[{"type":"IPAddress","value":"10.0.0.1"}],)"
                                R"("conditions":[]})")));
  server.Put("httproutes", Object("gateway.networking.k8s.io/v1", "HTTPRoute", "a", "route"));
  auto provider = Make(FastOptions(server.url()));
  Recorder rec;
  rec.Attach(provider.get());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Calls() >= 1; }));

  auto objects = provider->Objects();
  provider->WriteStatus({
      Update("Gateway", "a", "same", kAccepted, RvIn(objects, "Gateway", "same")),
      Update("Gateway", "a", "changes", kAccepted, RvIn(objects, "Gateway", "changes")),
      Update("GatewayClass", "", "gatehouse", kAccepted),
      Update("HTTPRoute", "a", "route", R"({"parents":[]})"),
  });
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.Patches().size() >= 3; }));
  auto patches = server.Patches();
  ASSERT_EQ(patches.size(), 3u);
  EXPECT_EQ(patches[0].path,
            "/apis/gateway.networking.k8s.io/v1/namespaces/a/gateways/changes/status");
  EXPECT_EQ(patches[0].content_type, "application/merge-patch+json");
  EXPECT_EQ(patches[0].status, 200);
  // The full desired status; the field it no longer has is removed.
  EXPECT_EQ(
      patches[0].body.at("status"),
      json::parse(
          R"({"addresses":null,"conditions":[{"type":"Accepted","status":"True","reason":"Accepted"}]})"));
  EXPECT_EQ(patches[0].body.at("metadata").at("resourceVersion"),
            json::value(RvIn(objects, "Gateway", "changes")));
  EXPECT_EQ(patches[1].path, "/apis/gateway.networking.k8s.io/v1/gatewayclasses/gatehouse/status");
  EXPECT_EQ(patches[2].path,
            "/apis/gateway.networking.k8s.io/v1/namespaces/a/httproutes/route/status");
  EXPECT_EQ(server.Get("gateways", "a", "changes").at("status"), json::parse(kAccepted));

  // The writes come back through the watch; the same desired status again is
  // not written again, a changed one is.
  ASSERT_TRUE(FakeApiServer::WaitFor([&] {
    return StatusIn(provider->Objects(), "Gateway", "changes") == json::parse(kAccepted);
  }));
  objects = provider->Objects();
  provider->WriteStatus({
      Update("Gateway", "a", "changes", kAccepted, RvIn(objects, "Gateway", "changes")),
      Update("Gateway", "a", "same", kRejected, RvIn(objects, "Gateway", "same")),
  });
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.Patches().size() >= 4; }));
  patches = server.Patches();
  ASSERT_EQ(patches.size(), 4u);
  EXPECT_EQ(patches[3].path,
            "/apis/gateway.networking.k8s.io/v1/namespaces/a/gateways/same/status");
  EXPECT_EQ(server.Get("gateways", "a", "same").at("status"), json::parse(kRejected));

  // Computed from an older version than the cache holds: not written.
  provider->WriteStatus({Update("Gateway", "a", "changes", kRejected, "1"),
                         Update("HTTPRoute", "a", "route", R"({"parents":[{"x":1}]})")});
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.Patches().size() >= 5; }));
  EXPECT_EQ(server.Patches().size(), 5u);
  EXPECT_EQ(server.Patches()[4].path,
            "/apis/gateway.networking.k8s.io/v1/namespaces/a/httproutes/route/status");
  provider->Stop();
}

TEST(KubeProviderTest, NoStatusFromACacheReadBeforeAResync) {
  FakeApiServer server;
  server.Put("gateways", Object("gateway.networking.k8s.io/v1", "Gateway", "a", "one"));
  server.Put("gateways", Object("gateway.networking.k8s.io/v1", "Gateway", "a", "two"));
  auto provider = Make(FastOptions(server.url()));
  Recorder rec;
  rec.Attach(provider.get());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Calls() >= 1; }));
  provider->Objects();  // what a reconcile would read

  server.SetFailing(503);  // the API server goes away
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return !provider->HasSynced(); }));
  provider->WriteStatus({Update("Gateway", "a", "one", kAccepted)});
  server.SetFailing(0);
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return provider->HasSynced(); }));
  // Still computed from the pre-outage read: dropped.
  provider->WriteStatus({Update("Gateway", "a", "one", kAccepted)});

  provider->Objects();  // a fresh read after the resync
  provider->WriteStatus({Update("Gateway", "a", "two", kAccepted)});
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.Patches().size() >= 1; }));
  auto patches = server.Patches();
  ASSERT_EQ(patches.size(), 1u);
  EXPECT_EQ(patches[0].path, "/apis/gateway.networking.k8s.io/v1/namespaces/a/gateways/two/status");
  EXPECT_FALSE(server.Get("gateways", "a", "one").contains("status"));
  provider->Stop();
}

uint16_t FreePort() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

TEST(KubeProviderTest, RetriesARefusedConnectionUntilTheServerComesUp) {
  const uint16_t port = FreePort();
  auto provider = Make(FastOptions("http://127.0.0.1:" + std::to_string(port)));
  Recorder rec;
  rec.Attach(provider.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let it fail a few times
  EXPECT_FALSE(provider->HasSynced());
  EXPECT_EQ(rec.Calls(), 0);

  FakeApiServerOptions so;
  so.port = port;
  FakeApiServer server(so);
  server.Put("gateways", Object("gateway.networking.k8s.io/v1", "Gateway", "a", "gw"));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Calls() >= 1; }));
  EXPECT_TRUE(provider->HasSynced());
  EXPECT_EQ(provider->Objects().size(), 1u);
  provider->Stop();
}

TEST(KubeProviderTest, WatchesOnlyServedGatewayKindsAndVersions) {
  FakeApiServerOptions so;
  so.gateway_versions = {"v1beta1"};
  so.unserved_resources = {"tlsroutes", "grpcroutes"};
  FakeApiServer server(so);
  server.Put("gateways", Object("gateway.networking.k8s.io/v1beta1", "Gateway", "a", "gw"));
  auto provider = Make(FastOptions(server.url()));
  Recorder rec;
  rec.Attach(provider.get());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Calls() >= 1; }));
  EXPECT_EQ(server.ListCount("tlsroutes"), 0);
  EXPECT_EQ(server.ListCount("grpcroutes"), 0);
  EXPECT_EQ(server.ListCount("httproutes"), 1);
  EXPECT_EQ(server.ListCount("services"), 1);
  auto objects = provider->Objects();
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(StringField(*objects[0], "apiVersion"), "gateway.networking.k8s.io/v1beta1");
  provider->Stop();

  FakeApiServerOptions none;
  none.gateway_versions = {};
  FakeApiServer no_crds(none);
  auto core_only = Make(FastOptions(no_crds.url()));
  Recorder rec2;
  rec2.Attach(core_only.get());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec2.Calls() >= 1; }));
  EXPECT_EQ(no_crds.ListCount("gateways"), 0);
  EXPECT_EQ(no_crds.ListCount("services"), 1);
  core_only->Stop();
}

TEST(KubeProviderTest, WatchesGatewayKindsWhoseCrdsAppearLater) {
  FakeApiServerOptions so;
  so.gateway_versions = {};
  FakeApiServer server(so);
  server.Put("services", Object("v1", "Service", "a", "svc"));
  KubeOptions o = FastOptions(server.url());
  o.rediscovery_interval = std::chrono::milliseconds(50);
  auto provider = Make(o);
  Recorder rec;
  rec.Attach(provider.get());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Calls() >= 1; }));
  EXPECT_EQ(server.ListCount("gateways"), 0);

  server.Put("gateways", Object("gateway.networking.k8s.io/v1", "Gateway", "a", "gw"));
  server.SetGatewayVersions({"v1"});
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Seen().back() == 2; }));
  EXPECT_TRUE(provider->HasSynced());
  EXPECT_EQ(server.ListCount("gateways"), 1);
  provider->Stop();
}

TEST(KubeProviderTest, BearerToken) {
  FakeApiServerOptions so;
  so.token = "s3cret";
  FakeApiServer server(so);
  KubeOptions good = FastOptions(server.url());
  good.config.token = "s3cret";
  auto provider = Make(good);
  Recorder rec;
  rec.Attach(provider.get());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec.Calls() >= 1; }));
  EXPECT_EQ(server.Unauthorized(), 0);
  provider->Stop();

  KubeOptions bad = FastOptions(server.url());
  bad.config.token = "wrong";
  auto denied = Make(bad);
  denied->Start([] {});
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.Unauthorized() >= 3; }));
  EXPECT_FALSE(denied->HasSynced());
  denied->Stop();
}

TEST(KubeProviderTest, BadTlsMaterialIsAnError) {
  KubeOptions o = FastOptions("https://127.0.0.1:6443");
  o.config.ca_pem = "not a certificate";
  EXPECT_FALSE(MakeKubeProvider(o).ok());
  o = FastOptions("ftp://127.0.0.1");
  EXPECT_FALSE(MakeKubeProvider(o).ok());
}

TEST(KubeProviderTest, TlsRejectsAServerTheCaDidNotSign) {
  const testing::TestPki pki = testing::MakeTestPki();
  const testing::TestPki other = testing::MakeTestPki();
  FakeApiServerOptions so;
  so.tls = true;
  so.cert_pem = pki.server_cert_pem;
  so.key_pem = pki.server_key_pem;
  FakeApiServer server(so);
  KubeOptions o = FastOptions(server.url());
  o.config.ca_pem = other.ca_pem;
  auto provider = Make(o);
  provider->Start([] {});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(provider->HasSynced());
  EXPECT_EQ(server.Requests(), 0);  // no request got past the handshake
  provider->Stop();
}

TEST(KubeProviderTest, LeaderElectionOnALease) {
  FakeApiServer server;
  server.Put("gateways", Object("gateway.networking.k8s.io/v1", "Gateway", "a", "gw"));
  server.Put("gateways", Object("gateway.networking.k8s.io/v1", "Gateway", "a", "gw2"));
  auto options = [&](const std::string& id) {
    KubeOptions o = FastOptions(server.url());
    o.leader_elect = true;
    o.lease_namespace = "gatehouse-system";
    o.identity = id;
    o.lease_duration = std::chrono::seconds(3);
    o.renew_interval = std::chrono::milliseconds(100);
    o.renew_deadline = std::chrono::seconds(2);
    return o;
  };
  auto a = Make(options("a"));
  Recorder rec_a;
  rec_a.Attach(a.get());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return a->IsLeader(); }));
  auto b = Make(options("b"));
  Recorder rec_b;
  rec_b.Attach(b.get());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return b->HasSynced() && rec_b.Calls() >= 1; }));
  EXPECT_FALSE(b->IsLeader());
  EXPECT_EQ(server.Get("leases", "gatehouse-system", "gatehouse-controller")
                .at("spec")
                .at("holderIdentity"),
            json::value("a"));

  // Only the leader writes.
  b->Objects();
  b->WriteStatus({Update("Gateway", "a", "gw", kAccepted)});
  a->Objects();
  a->WriteStatus({Update("Gateway", "a", "gw2", kAccepted)});
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return server.Patches().size() >= 1; }));
  EXPECT_EQ(server.Patches().size(), 1u);
  EXPECT_EQ(server.Patches()[0].path,
            "/apis/gateway.networking.k8s.io/v1/namespaces/a/gateways/gw2/status");

  // The leader steps down on Stop and releases the Lease; the other takes over
  // and is told (a notification).
  const int b_calls = rec_b.Calls();
  a->Stop();
  EXPECT_FALSE(a->IsLeader());
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return b->IsLeader(); }));
  ASSERT_TRUE(FakeApiServer::WaitFor([&] { return rec_b.Calls() > b_calls; }));
  const json::object lease = server.Get("leases", "gatehouse-system", "gatehouse-controller");
  EXPECT_EQ(lease.at("spec").at("holderIdentity"), json::value("b"));
  EXPECT_EQ(lease.at("spec").at("leaseTransitions"), json::value(1));
  b->Stop();
}

TEST(KindsTest, ChoosesThePreferredServedVersion) {
  const auto kinds = ChooseKinds({
      {"gateway.networking.k8s.io/v1", {"gateways", "httproutes", "referencegrants"}},
      {"gateway.networking.k8s.io/v1beta1", {"gateways", "referencegrants", "gatewayclasses"}},
      {"gateway.networking.k8s.io/v1alpha2", {"tcproutes"}},
  });
  std::map<std::string, std::string> versions;
  for (const auto& k : kinds) versions[k.resource] = k.ApiVersion();
  EXPECT_EQ(versions, (std::map<std::string, std::string>{
                          {"configmaps", "v1"},
                          {"endpointslices", "discovery.k8s.io/v1"},
                          {"gatewayclasses", "gateway.networking.k8s.io/v1beta1"},
                          {"gateways", "gateway.networking.k8s.io/v1"},
                          {"httproutes", "gateway.networking.k8s.io/v1"},
                          {"namespaces", "v1"},
                          {"referencegrants", "gateway.networking.k8s.io/v1"},
                          {"secrets", "v1"},
                          {"services", "v1"},
                          {"tcproutes", "gateway.networking.k8s.io/v1alpha2"}}));
  auto gw = FindKind(kinds, "gateway.networking.k8s.io/v1beta1", "Gateway");
  ASSERT_TRUE(gw.has_value());
  EXPECT_EQ(gw->ObjectPath("a", "x"), "/apis/gateway.networking.k8s.io/v1/namespaces/a/gateways/x");
  auto ns = FindKind(kinds, "v1", "Namespace");
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(ns->ObjectPath("ignored", "a"), "/api/v1/namespaces/a");
  EXPECT_EQ(ns->CollectionPath(), "/api/v1/namespaces");
  EXPECT_FALSE(FindKind(kinds, "gateway.networking.k8s.io/v1", "TLSRoute").has_value());
}

}  // namespace
}  // namespace gatehouse::kube
