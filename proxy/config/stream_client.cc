#include "proxy/config/stream_client.h"

#include <random>

#include <grpcpp/grpcpp.h>

#include "gatehouse/service/v1/stream.grpc.pb.h"
#include "proxy/admin/log.h"

namespace gatehouse::proxy::config {
namespace {

namespace svc = ::gatehouse::service::v1;
constexpr char kBuildVersion[] = "gatehouse-proxy/0.1";

}  // namespace

StreamClient::StreamClient(StreamClientOptions options, ApplyFn apply, VersionFn version,
                           ConnectedFn connected)
    : options_(std::move(options)),
      apply_(std::move(apply)),
      version_(std::move(version)),
      connected_(std::move(connected)) {}

StreamClient::~StreamClient() { Stop(); }

void StreamClient::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StreamClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    if (active_ != nullptr) active_->TryCancel();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StreamClient::SleepBackoff(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, delay, [this] { return stopping_; });
}

void StreamClient::Run() {
  std::mt19937_64 rng(std::random_device{}());
  auto backoff = options_.initial_backoff;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    bool received = RunStream();
    if (received) backoff = options_.initial_backoff;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    // Full jitter over [backoff/2, backoff] keeps a fleet of proxies from reconnecting
    // in lockstep after a controller restart.
    std::uniform_int_distribution<int64_t> jitter(backoff.count() / 2, backoff.count());
    auto delay = std::chrono::milliseconds(jitter(rng));
    log::Info("controller reconnect scheduled", {{"delay_ms", delay.count()}});
    SleepBackoff(delay);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

bool StreamClient::RunStream() {
  grpc::ChannelArguments args;
  // Notice a silently vanished controller, not only a closed socket.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 256 * 1024 * 1024);
  auto channel =
      grpc::CreateCustomChannel(options_.controller, grpc::InsecureChannelCredentials(), args);
  auto stub = svc::ConfigStream::NewStub(channel);

  grpc::ClientContext ctx;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    active_ = &ctx;
  }
  bool received = false;
  auto stream = stub->Stream(&ctx);
  svc::StreamRequest hello;
  auto* node = hello.mutable_node();
  node->set_gateway_namespace(options_.gateway_namespace);
  node->set_gateway_name(options_.gateway_name);
  node->set_proxy_id(options_.proxy_id);
  node->set_build_version(kBuildVersion);
  hello.set_version(version_());
  if (stream->Write(hello)) {
    svc::StreamResponse response;
    bool announced = false;
    while (stream->Read(&response)) {
      if (!announced) {
        announced = true;
        log::Info("controller connected", {{"controller", options_.controller}});
        if (connected_) connected_(true);
      }
      received = true;
      const auto& snapshot = response.snapshot();
      absl::Status status = apply_(snapshot);
      svc::StreamRequest reply;
      reply.set_version(snapshot.version());
      if (!status.ok()) {
        reply.set_nack(true);
        reply.set_error(std::string(status.message()));
      }
      if (!stream->Write(reply)) break;
    }
    if (announced && connected_) connected_(false);
  }
  grpc::Status st = stream->Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_ = nullptr;
  }
  log::Warn("controller stream ended", {{"controller", options_.controller},
                                        {"code", static_cast<int>(st.error_code())},
                                        {"error", st.error_message()}});
  return received;
}

}  // namespace gatehouse::proxy::config
