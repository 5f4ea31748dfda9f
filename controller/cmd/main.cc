// gatehouse-controller: flags and wiring. Provider -> reconcile loop ->
// config stream + provisioner + status writer; SIGINT/SIGTERM stop it cleanly.
#include <signal.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <boost/json.hpp>

#include "controller/cmd/admin.h"
#include "controller/cmd/flags.h"
#include "controller/cmd/loop.h"
#include "controller/infra/address_pool.h"
#include "controller/infra/host_provisioner.h"
#include "controller/infra/kube_objects.h"
#include "controller/infra/kube_provisioner.h"
#include "controller/infra/provisioner.h"
#include "controller/kube/object_client.h"
#include "controller/kube/provider.h"
#include "controller/reconcile/reconcile.h"
#include "controller/source/dir_provider.h"
#include "controller/source/log.h"
#include "controller/stream/server.h"

namespace gatehouse::cmd {
namespace {

namespace fs = std::filesystem;

bool Executable(const fs::path& p) {
  return ::access(p.c_str(), X_OK) == 0 && fs::is_regular_file(p);
}

// --proxy-binary if given (searched in $PATH when it has no slash); else
// gatehouse-proxy beside this binary; else from $PATH.
std::string ResolveProxyBinary(const std::string& flag) {
  std::string name = flag.empty() ? "gatehouse-proxy" : flag;
  if (name.find('/') != std::string::npos) return fs::absolute(name).string();
  if (flag.empty()) {
    std::error_code ec;
    fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (!ec && Executable(self.parent_path() / name)) return (self.parent_path() / name).string();
  }
  if (const char* path = std::getenv("PATH")) {
    std::string_view rest = path;
    while (!rest.empty()) {
      auto colon = rest.find(':');
      fs::path candidate = fs::path(std::string(rest.substr(0, colon))) / name;
      if (Executable(candidate)) return candidate.string();
      rest = colon == std::string_view::npos ? "" : rest.substr(colon + 1);
    }
  }
  return name;
}

// Where proxies reach the stream server: a wildcard listen address becomes loopback.
std::string ConnectAddress(const std::string& listen, int port) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  return host + ":" + std::to_string(port);
}

std::string ControllerNamespace(const Flags& flags) {
  if (!flags.controller_namespace.empty()) return flags.controller_namespace;
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns != nullptr && *ns != '\0') return ns;
  return "gatehouse-system";
}

std::string SnapshotsJson(const Loop& loop, const stream::Registry& registry) {
  boost::json::object gateways;
  auto states = registry.States();
  for (const auto& [gw, snapshot] : loop.Snapshots()) {
    std::string json;
    google::protobuf::util::JsonPrintOptions opts;
    opts.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(snapshot, &json, opts);
    boost::json::object entry;
    entry["snapshot"] = boost::json::parse(json);
    const stream::GatewayState& st = states[gw];
    entry["acked_version"] = st.acked_version;
    entry["nacked_version"] = st.nacked_version;
    entry["nack_error"] = st.nack_error;
    entry["connected_proxies"] = st.connected_proxies;
    gateways[gw] = std::move(entry);
  }
  return boost::json::serialize(boost::json::object{{"gateways", std::move(gateways)}}) + "\n";
}

int Main(int argc, char** argv) {
  auto flags = ParseFlags(std::vector<std::string>(argv + 1, argv + argc));
  if (!flags.ok()) {
    std::cerr << flags.status().message() << "\n" << Usage();
    return 2;
  }
  if (flags->help) {
    std::cout << Usage();
    return 0;
  }

  // Every thread inherits this mask; the main thread takes the signals with sigwait.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<source::Provider> provider;
  kube::KubeProvider* kube_provider = nullptr;
  // Writes the objects provisioners create (kube source only); outlives them.
  std::unique_ptr<kube::ObjectClient> objects;
  if (flags->source == Flags::Source::kDir) {
    provider = std::make_unique<source::DirProvider>(
        source::DirOptions{.dir = flags->source_dir, .status_file = flags->status_file});
  } else {
    auto config = kube::LoadDefaultConfig(flags->kubeconfig);
    if (!config.ok()) {
      log::Error("no Kubernetes configuration",
                 {{"error", std::string(config.status().message())}});
      return 1;
    }
    kube::KubeOptions options;
    options.config = *config;
    options.leader_elect = flags->leader_elect;
    auto kp = kube::MakeKubeProvider(options);
    if (!kp.ok()) {
      log::Error("Kubernetes provider not started",
                 {{"error", std::string(kp.status().message())}});
      return 1;
    }
    kube_provider = kp->get();
    provider = std::move(*kp);
    auto oc = kube::ObjectClient::Create(*config);
    if (!oc.ok()) {
      log::Error("Kubernetes object client not started",
                 {{"error", std::string(oc.status().message())}});
      return 1;
    }
    objects = std::move(*oc);
  }

  stream::Registry registry;
  stream::Server server(stream::ServerOptions{.listen = flags->stream_listen}, &registry);
  if (absl::Status st = server.Start(); !st.ok()) {
    log::Error("config stream not started", {{"error", std::string(st.message())}});
    return 1;
  }

  std::unique_ptr<infra::Provisioner> provisioner;
  if (flags->provisioner == Flags::Provisioner::kHost) {
    infra::HostOptions options;
    options.proxy_binary = ResolveProxyBinary(flags->proxy_binary);
    options.controller_address = ConnectAddress(flags->stream_listen, server.port());
    options.proxy_workers = flags->proxy_workers;
    options.address_pool = flags->address_pool;
    auto host = infra::MakeHostProvisioner(options);
    if (!host.ok()) {
      log::Error("bad provisioner options", {{"error", std::string(host.status().message())}});
      return 2;
    }
    provisioner = std::move(*host);
    log::Info("host provisioner", {{"proxy_binary", options.proxy_binary},
                                   {"controller", options.controller_address},
                                   {"address_pool", options.address_pool},
                                   {"publish_to_kubernetes", objects != nullptr}});
    // Make the proxies visible in the cluster (ServiceAccount, Service, EndpointSlice).
    if (objects) provisioner = infra::PublishToKubernetes(std::move(provisioner), objects.get());
  } else if (flags->provisioner == Flags::Provisioner::kKubernetes) {
    infra::KubeProvisionerOptions options;
    options.proxy.image = flags->proxy_image.empty() ? infra::kProxyImage : flags->proxy_image;
    options.proxy.controller_address = !flags->controller_service_address.empty()
                                           ? flags->controller_service_address
                                           : "gatehouse-controller." + ControllerNamespace(*flags) +
                                                 ".svc:" + std::to_string(server.port());
    options.proxy.replicas = flags->proxy_replicas;
    options.proxy.service_type = flags->proxy_service_type;
    options.proxy.proxy_workers = flags->proxy_workers;
    auto pool = infra::AddressPool::Parse(flags->address_pool);
    if (!pool.ok()) {
      log::Error("bad --address-pool", {{"error", std::string(pool.status().message())}});
      return 2;
    }
    options.static_addresses = *pool;
    provisioner = infra::MakeKubernetesProvisioner(objects.get(), options);
    log::Info("kubernetes provisioner", {{"image", options.proxy.image},
                                         {"controller", options.proxy.controller_address},
                                         {"replicas", options.proxy.replicas},
                                         {"service_type", options.proxy.service_type},
                                         {"static_addresses", flags->address_pool}});
  } else {
    provisioner = infra::MakeNoopProvisioner();
  }

  LoopOptions loop_options;
  loop_options.provider = provider.get();
  loop_options.registry = &registry;
  loop_options.provisioner = provisioner.get();
  loop_options.reconcile = [](const reconcile::Inputs& in) { return reconcile::Reconcile(in); };
  loop_options.controller_name = flags->controller_name;
  // Proxy pods listen on every address; the Gateway's address is their Service's.
  loop_options.bind_to_gateway_addresses = flags->provisioner != Flags::Provisioner::kKubernetes;
  if (kube_provider) {
    loop_options.may_act = [kube_provider] { return kube_provider->IsLeader(); };
  }
  Loop loop(loop_options);
  registry.SetOnStateChange([&loop](const std::string&) { loop.Trigger(); });

  std::unique_ptr<AdminServer> admin;
  if (!flags->admin_listen.empty()) {
    admin = std::make_unique<AdminServer>(
        flags->admin_listen,
        AdminServer::Handlers{.ready = [&loop] { return loop.Passes() > 0; },
                              .snapshots_json = [&] { return SnapshotsJson(loop, registry); }});
    if (absl::Status st = admin->Start(); !st.ok()) {
      log::Error("admin endpoint not started", {{"error", std::string(st.message())}});
      return 1;
    }
  }

  std::thread loop_thread([&loop] { loop.Run(); });
  provider->Start([&loop] { loop.Trigger(); });
  log::Info("controller started",
            {{"controller_name", flags->controller_name},
             {"source", flags->source == Flags::Source::kDir ? "dir:" + flags->source_dir
                                                             : std::string("kube")}});

  int sig = 0;
  sigwait(&signals, &sig);
  log::Info("shutting down", {{"signal", strsignal(sig)}});
  loop.Stop();
  loop_thread.join();
  provider->Stop();
  provisioner->Stop();  // proxies drain and exit while the stream is still up
  server.Stop();
  if (admin) admin->Stop();
  log::Info("stopped");
  return 0;
}

}  // namespace
}  // namespace gatehouse::cmd

int main(int argc, char** argv) { return gatehouse::cmd::Main(argc, argv); }
