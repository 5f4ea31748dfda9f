#include "controller/stream/server.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "gatehouse/service/v1/stream.grpc.pb.h"

namespace gatehouse::stream {
namespace {

using gatehouse::service::v1::ConfigStream;
using gatehouse::service::v1::StreamRequest;
using gatehouse::service::v1::StreamResponse;
using Stream = grpc::ClientReaderWriter<StreamRequest, StreamResponse>;

SnapshotPtr Snap(const std::string& version, size_t padding = 0) {
  auto s = std::make_shared<gatehouse::config::v1::Snapshot>();
  s->set_version(version);
  s->set_gateway("ns/gw");
  if (padding > 0) {
    auto* secret = s->add_secrets();
    secret->set_name("pad");
    secret->set_cert_pem(std::string(padding, 'x'));
  }
  return s;
}

StreamRequest Hello(const std::string& proxy_id, const std::string& version) {
  StreamRequest req;
  req.mutable_node()->set_gateway_namespace("ns");
  req.mutable_node()->set_gateway_name("gw");
  req.mutable_node()->set_proxy_id(proxy_id);
  req.set_version(version);
  return req;
}

StreamRequest Ack(const std::string& version, bool nack = false, const std::string& error = "") {
  StreamRequest req;
  req.set_version(version);
  req.set_nack(nack);
  req.set_error(error);
  return req;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.SetOnStateChange([this](const std::string&) {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    });
    server_ = std::make_unique<Server>(ServerOptions{.listen = "127.0.0.1:0"}, &registry_);
    ASSERT_TRUE(server_->Start().ok());
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()),
                                   grpc::InsecureChannelCredentials());
    stub_ = ConfigStream::NewStub(channel_);
  }

  void TearDown() override { server_->Stop(); }

  // Waits (bounded) until the Gateway's state satisfies `pred`.
  bool WaitState(const std::function<bool(const GatewayState&)>& pred) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10),
                        [&] { return pred(registry_.State("ns/gw")); });
  }

  Registry registry_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ConfigStream::Stub> stub_;
  std::mutex mu_;
  std::condition_variable cv_;
};

TEST_F(ServerTest, SendsCurrentSnapshotAndRecordsAckAndNack) {
  registry_.Publish("ns/gw", Snap("v1"));
  grpc::ClientContext ctx;
  std::unique_ptr<Stream> stream = stub_->Stream(&ctx);
  ASSERT_TRUE(stream->Write(Hello("proxy-a", "")));
  StreamResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.snapshot().version(), "v1");
  EXPECT_EQ(resp.snapshot().gateway(), "ns/gw");
  ASSERT_TRUE(stream->Write(Ack("v1")));
  EXPECT_TRUE(WaitState([](const GatewayState& s) { return s.acked_version == "v1"; }));

  registry_.Publish("ns/gw", Snap("v2"));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.snapshot().version(), "v2");
  ASSERT_TRUE(stream->Write(Ack("v2", true, "unknown cluster")));
  EXPECT_TRUE(WaitState([](const GatewayState& s) {
    return s.nacked_version == "v2" && s.nack_error == "unknown cluster" &&
           s.nack_proxy_id == "proxy-a" && s.acked_version == "v1";
  }));

  stream->WritesDone();
  EXPECT_TRUE(WaitState([](const GatewayState& s) { return s.connected_proxies == 0; }));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServerTest, DoesNotResendTheVersionTheProxyAlreadyServes) {
  registry_.Publish("ns/gw", Snap("v1"));
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  ASSERT_TRUE(stream->Write(Hello("proxy-b", "v1")));
  EXPECT_TRUE(WaitState(
      [](const GatewayState& s) { return s.acked_version == "v1" && s.connected_proxies == 1; }));
  registry_.Publish("ns/gw", Snap("v2"));
  StreamResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.snapshot().version(), "v2");  // not v1 first
  ctx.TryCancel();
}

TEST_F(ServerTest, CoalescesToTheNewestSnapshotWhenTheProxyIsSlow) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  ASSERT_TRUE(stream->Write(Hello("proxy-c", "")));
  ASSERT_TRUE(WaitState([](const GatewayState& s) { return s.connected_proxies == 1; }));
  // 1 MiB snapshots fill the transport windows while the client reads nothing.
  constexpr int kVersions = 20;
  for (int i = 1; i <= kVersions; ++i) {
    registry_.Publish("ns/gw", Snap("v" + std::to_string(i), 1 << 20));
  }
  std::vector<std::string> received;
  StreamResponse resp;
  while (received.empty() || received.back() != "v" + std::to_string(kVersions)) {
    ASSERT_TRUE(stream->Read(&resp));
    received.push_back(resp.snapshot().version());
  }
  EXPECT_LT(received.size(), static_cast<size_t>(kVersions));
  EXPECT_EQ(received.front(), "v1");
  ctx.TryCancel();
}

TEST_F(ServerTest, RejectsAStreamWithoutNode) {
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  ASSERT_TRUE(stream->Write(Ack("v1")));
  StreamResponse resp;
  EXPECT_FALSE(stream->Read(&resp));
  grpc::Status st = stream->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServerTest, StopEndsOpenStreams) {
  registry_.Publish("ns/gw", Snap("v1"));
  grpc::ClientContext ctx;
  auto stream = stub_->Stream(&ctx);
  ASSERT_TRUE(stream->Write(Hello("proxy-d", "")));
  StreamResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  server_->Stop();
  EXPECT_FALSE(stream->Read(&resp));
  EXPECT_FALSE(stream->Finish().ok());
  EXPECT_EQ(server_->OpenStreams(), 0);
}

}  // namespace
}  // namespace gatehouse::stream
