#include "proxy/cmd/proxy_server.h"

#include <thread>

#include <google/protobuf/util/json_util.h>

#include "proxy/admin/log.h"
#include "proxy/http/server.h"
#include "proxy/l4/l4.h"

namespace gatehouse::proxy {
namespace {

namespace pb = ::gatehouse::config::v1;

}  // namespace

ProxyServer::ProxyServer(ProxyOptions options)
    : options_(std::move(options)), metrics_(std::max(1, options_.workers)) {}

ProxyServer::~ProxyServer() { Stop(); }

absl::Status ProxyServer::Start() {
  const int n = std::max(1, options_.workers);
  std::vector<listener::Worker*> raw;
  for (int i = 0; i < n; ++i) {
    workers_.push_back(
        std::make_unique<listener::Worker>(i, metrics_.worker(i), store_, options_.limits));
    raw.push_back(workers_.back().get());
  }
  listeners_ = std::make_unique<listener::ListenerManager>(
      raw,
      [](listener::Worker& w, std::shared_ptr<listener::ListenerRuntime> rt,
         boost::asio::ip::tcp::socket s) {
        switch (rt->key().protocol) {
          case pb::HTTP:
            http::ServeHttp(w, std::move(rt), std::move(s));
            break;
          case pb::HTTPS:
            http::ServeHttps(w, std::move(rt), std::move(s));
            break;
          case pb::TLS:
            l4::ServeTls(w, std::move(rt), std::move(s));
            break;
          case pb::TCP:
            l4::ServeTcp(w, std::move(rt), std::move(s));
            break;
          default:
            break;  // closes the socket
        }
      },
      [](listener::Worker& w, std::shared_ptr<listener::ListenerRuntime> rt) {
        l4::ServeUdp(w, std::move(rt));
      });
  for (auto& w : workers_) w->Start();
  started_ = true;

  if (!options_.admin_address.empty()) {
    admin::AdminHandlers handlers;
    handlers.ready = [this] { return store_.Load() != nullptr; };
    handlers.config_dump = [this]() -> std::string {
      auto tables = store_.Load();
      if (!tables) return "{}";
      std::string json;
      google::protobuf::util::JsonPrintOptions opts;
      opts.add_whitespace = true;
      opts.preserve_proto_field_names = false;
      (void)google::protobuf::util::MessageToJsonString(*tables->snapshot, &json, opts);
      return json;
    };
    handlers.metrics = [this] { return metrics_.RenderPrometheus(); };
    admin_ = std::make_unique<admin::AdminServer>(std::move(handlers));
    auto port = admin_->Start(options_.admin_address, options_.admin_port);
    if (!port.ok()) return port.status();
    admin_port_ = *port;
    log::Info("admin listening", {{"port", admin_port_}, {"address", options_.admin_address}});
  }

  auto apply = [this](const pb::Snapshot& s) { return Apply(s); };
  if (!options_.snapshot_file.empty()) {
    file_ = std::make_unique<config::FileSource>(options_.snapshot_file, apply,
                                                 [this] { metrics_.SnapshotRejected(); });
    if (absl::Status s = file_->Start(); !s.ok()) return s;
  } else if (!options_.controller.empty()) {
    config::StreamClientOptions so;
    so.controller = options_.controller;
    so.gateway_namespace = options_.gateway_namespace;
    so.gateway_name = options_.gateway_name;
    so.proxy_id = options_.proxy_id;
    so.initial_backoff = options_.initial_backoff;
    so.max_backoff = options_.max_backoff;
    stream_ = std::make_unique<config::StreamClient>(
        so, apply, [this] { return version(); },
        [this](bool up) { metrics_.ControllerConnected(up); });
    stream_->Start();
  }
  return absl::OkStatus();
}

void ProxyServer::Stop() {
  if (!started_) return;
  started_ = false;
  if (stream_) stream_->Stop();
  if (file_) file_->Stop();
  listeners_->Shutdown();
  // Give in-flight requests the drain timeout to finish.
  auto deadline = std::chrono::steady_clock::now() + options_.limits.drain_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int64_t active = 0;
    for (int i = 0; i < metrics_.workers(); ++i)
      active += metrics_.worker(i).downstream_connections_active.Get();
    if (active <= 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& w : workers_) w->Stop();
  if (admin_) admin_->Stop();
  listeners_.reset();
  workers_.clear();
}

std::string ProxyServer::version() const {
  auto t = store_.Load();
  return t ? t->version() : "";
}

absl::Status ProxyServer::Apply(const pb::Snapshot& snapshot) {
  std::lock_guard<std::mutex> lock(apply_mu_);
  auto current = store_.Load();
  if (current && current->version() == snapshot.version()) return absl::OkStatus();
  auto tables =
      config::BuildTables(snapshot, config::BuildOptions{static_cast<int>(workers_.size())});
  absl::Status status = tables.status();
  if (status.ok()) status = listeners_->Prepare(**tables);
  if (!status.ok()) {
    listeners_->Abandon();
    metrics_.SnapshotRejected();
    log::Error("snapshot rejected",
               {{"version", snapshot.version()}, {"error", std::string(status.message())}});
    return status;
  }
  store_.Publish(*tables);
  listeners_->Commit();
  metrics_.SnapshotApplied(snapshot.version());
  log::Info("snapshot applied", {{"version", snapshot.version()},
                                 {"listeners", static_cast<int64_t>(snapshot.listeners_size())},
                                 {"clusters", static_cast<int64_t>(snapshot.clusters_size())}});
  return absl::OkStatus();
}

}  // namespace gatehouse::proxy
