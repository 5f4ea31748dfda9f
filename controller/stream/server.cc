#include "controller/stream/server.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "controller/source/log.h"
#include "gatehouse/service/v1/stream.grpc.pb.h"

namespace gatehouse::stream {

using gatehouse::service::v1::ConfigStream;
using gatehouse::service::v1::StreamRequest;
using gatehouse::service::v1::StreamResponse;

class Server::Reactor : public grpc::ServerBidiReactor<StreamRequest, StreamResponse>,
                        public Subscriber {
 public:
  Reactor(Server* server, std::string peer) : server_(server), peer_(std::move(peer)) {
    ++server_->open_streams_;
    StartRead(&request_);
  }

  void Offer(SnapshotPtr snapshot) override {
    bool write = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finishing_) return;
      if (writing_) {
        pending_ = std::move(snapshot);  // coalesce: only the newest matters
        return;
      }
      if (snapshot->version() == last_sent_) return;
      write = PrepareWriteLocked(*snapshot);
    }
    if (write) StartWrite(&response_);
  }

  // Ends the stream as soon as no write is in flight.
  void Close(grpc::Status status) {
    bool finish_now;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (finishing_) return;
      finishing_ = true;
      pending_.reset();
      status_ = std::move(status);
      finish_now = !writing_;
    }
    if (finish_now) Finish(status_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The proxy closed its side or the stream broke.
      Unsubscribe();
      Close(grpc::Status::OK);
      return;
    }
    if (gateway_.empty()) {
      const auto& node = request_.node();
      if (node.gateway_namespace().empty() || node.gateway_name().empty()) {
        Close(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                           "first message must carry node.gateway_namespace and gateway_name"));
        return;
      }
      gateway_ = absl::StrCat(node.gateway_namespace(), "/", node.gateway_name());
      proxy_id_ = node.proxy_id().empty() ? peer_ : node.proxy_id();
      log::Info("proxy connected", {{"gateway", gateway_},
                                    {"proxy_id", proxy_id_},
                                    {"peer", peer_},
                                    {"serving_version", request_.version()},
                                    {"build_version", node.build_version()}});
      {
        std::lock_guard<std::mutex> lock(mu_);
        last_sent_ = request_.version();
        subscribed_ = true;
      }
      server_->registry_->Subscribe(gateway_, proxy_id_, this, request_.version());
    } else if (!request_.version().empty()) {
      if (request_.nack()) {
        log::Warn("snapshot nacked", {{"gateway", gateway_},
                                      {"proxy_id", proxy_id_},
                                      {"version", request_.version()},
                                      {"error", request_.error()}});
      } else {
        log::Info(
            "snapshot acked",
            {{"gateway", gateway_}, {"proxy_id", proxy_id_}, {"version", request_.version()}});
      }
      server_->registry_->RecordResponse(gateway_, proxy_id_, request_.version(), request_.nack(),
                                         request_.error());
    }
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    enum { kNothing, kWrite, kFinish } next = kNothing;
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (finishing_) {
        next = kFinish;
      } else if (ok && pending_ && pending_->version() != last_sent_) {
        next = PrepareWriteLocked(*pending_) ? kWrite : kNothing;
      }
      // On !ok the read side sees the broken stream too and finishes it.
      pending_.reset();
    }
    if (next == kWrite) StartWrite(&response_);
    if (next == kFinish) Finish(status_);
  }

  void OnDone() override {
    Unsubscribe();
    if (!gateway_.empty()) {
      log::Info("proxy disconnected", {{"gateway", gateway_}, {"proxy_id", proxy_id_}});
    }
    Server* server = server_;
    delete this;
    {
      std::lock_guard<std::mutex> lock(server->done_mu_);
      --server->open_streams_;
    }
    server->done_cv_.notify_all();
  }

 private:
  // Fills the response buffer; the caller starts the write after unlocking
  // (gRPC may run reactions inline, and they take mu_).
  bool PrepareWriteLocked(const gatehouse::config::v1::Snapshot& snapshot) {
    response_.mutable_snapshot()->CopyFrom(snapshot);
    last_sent_ = snapshot.version();
    writing_ = true;
    return true;
  }

  void Unsubscribe() {
    bool was;
    {
      std::lock_guard<std::mutex> lock(mu_);
      was = subscribed_;
      subscribed_ = false;
    }
    if (was) server_->registry_->Unsubscribe(gateway_, proxy_id_, this);
  }

  Server* server_;
  const std::string peer_;
  StreamRequest request_;  // only touched by the read chain
  std::string gateway_;
  std::string proxy_id_;

  std::mutex mu_;
  StreamResponse response_;  // owned by the write in flight
  bool writing_ = false;
  bool subscribed_ = false;
  bool finishing_ = false;
  grpc::Status status_;
  SnapshotPtr pending_;
  std::string last_sent_;
};

class Server::Service : public ConfigStream::CallbackService {
 public:
  explicit Service(Server* server) : server_(server) {}

  grpc::ServerBidiReactor<StreamRequest, StreamResponse>* Stream(
      grpc::CallbackServerContext* context) override {
    return new Reactor(server_, context->peer());
  }

 private:
  Server* server_;
};

Server::Server(ServerOptions options, Registry* registry)
    : options_(std::move(options)), registry_(registry) {}

Server::~Server() { Stop(); }

absl::Status Server::Start() {
  service_ = std::make_unique<Service>(this);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options_.listen, grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(service_.get());
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, options_.keepalive_time_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options_.keepalive_timeout_ms);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Proxies may ping as often as every 5 s.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) {
    server_.reset();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen));
  }
  log::Info("config stream listening", {{"address", options_.listen}, {"port", port_}});
  return absl::OkStatus();
}

void Server::Stop() {
  if (!server_ || stopped_) return;
  stopped_ = true;
  // Cancels every stream now (they never end by themselves); each reactor then
  // sees its read fail, finishes and deletes itself. Proxies reconnect later.
  server_->Shutdown(std::chrono::system_clock::now());
  // Wait for every reactor to be deleted: they point at this Server.
  std::unique_lock<std::mutex> lock(done_mu_);
  done_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return open_streams_.load() == 0; });
  lock.unlock();
  server_.reset();
}

}  // namespace gatehouse::stream
