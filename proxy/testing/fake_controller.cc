#include "proxy/testing/fake_controller.h"

#include <thread>

#include <grpcpp/grpcpp.h>

#include "gatehouse/service/v1/stream.grpc.pb.h"

namespace gatehouse::proxy::testing {

namespace svc = ::gatehouse::service::v1;

class FakeController::Service final : public svc::ConfigStream::Service {
 public:
  explicit Service(FakeController& owner) : owner_(owner) {}

  grpc::Status Stream(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<svc::StreamResponse, svc::StreamRequest>* stream) override {
    svc::StreamRequest first;
    if (!stream->Read(&first)) return grpc::Status::OK;
    {
      std::lock_guard<std::mutex> lock(owner_.mu_);
      ++owner_.streams_;
      owner_.node_ = first.node();
      owner_.hello_version_ = first.version();
    }
    owner_.cv_.notify_all();
    {
      std::lock_guard<std::mutex> lock(owner_.mu_);
      done_ = false;
    }
    // Replies are read on their own thread while this one writes.
    std::thread reader([&] {
      svc::StreamRequest req;
      while (stream->Read(&req)) {
        {
          std::lock_guard<std::mutex> lock(owner_.mu_);
          owner_.acks_.push_back(Ack{req.version(), req.nack(), req.error()});
        }
        owner_.cv_.notify_all();
      }
      std::lock_guard<std::mutex> lock(owner_.mu_);
      done_ = true;
      owner_.cv_.notify_all();
    });
    uint64_t sent = 0;
    std::unique_lock<std::mutex> lock(owner_.mu_);
    while (true) {
      owner_.cv_.wait_for(lock, std::chrono::milliseconds(50), [&] {
        return owner_.stopping_ || done_ || ctx->IsCancelled() ||
               (owner_.latest_ && owner_.generation_ != sent);
      });
      if (owner_.stopping_ || done_ || ctx->IsCancelled()) break;
      if (owner_.latest_ && owner_.generation_ != sent) {
        svc::StreamResponse res;
        *res.mutable_snapshot() = *owner_.latest_;
        sent = owner_.generation_;
        lock.unlock();
        bool ok = stream->Write(res);
        lock.lock();
        if (!ok) break;
      }
    }
    lock.unlock();
    ctx->TryCancel();
    reader.join();
    return grpc::Status::OK;
  }

 private:
  FakeController& owner_;
  bool done_ = false;  // guarded by owner_.mu_; one stream at a time in tests
};

FakeController::FakeController() = default;

FakeController::~FakeController() { Stop(); }

int FakeController::Start(int port) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = false;
  }
  service_ = std::make_unique<Service>(*this);
  grpc::ServerBuilder builder;
  int bound = 0;
  builder.AddListeningPort("127.0.0.1:" + std::to_string(port), grpc::InsecureServerCredentials(),
                           &bound);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  return bound;
}

void FakeController::Stop() {
  if (!server_) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  server_.reset();
  service_.reset();
}

void FakeController::Push(const ::gatehouse::config::v1::Snapshot& snapshot) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    latest_ = snapshot;
    ++generation_;
  }
  cv_.notify_all();
}

std::optional<Ack> FakeController::WaitForAck(const std::string& version,
                                              std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  std::optional<Ack> found;
  cv_.wait_for(lock, timeout, [&] {
    for (const auto& a : acks_) {
      if (a.version == version) {
        found = a;
        return true;
      }
    }
    return false;
  });
  return found;
}

bool FakeController::WaitForStreams(int n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return streams_ >= n; });
}

int FakeController::streams() const {
  std::lock_guard<std::mutex> lock(mu_);
  return streams_;
}

svc::Node FakeController::last_node() const {
  std::lock_guard<std::mutex> lock(mu_);
  return node_;
}

std::string FakeController::last_hello_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hello_version_;
}

}  // namespace gatehouse::proxy::testing
