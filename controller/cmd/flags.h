// gatehouse-controller's command line (the contract in the lead's task notes):
// parsed into one struct, with errors for anything unknown or malformed.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gatehouse::cmd {

struct Flags {
  enum class Source { kDir, kKube };
  Source source = Source::kDir;
  std::string source_dir;  // --source=dir:PATH
  std::string kubeconfig;
  std::string controller_name = "gatehouse.dev/gateway-controller";
  std::string stream_listen = "127.0.0.1:18000";
  std::string admin_listen;  // empty: no admin endpoint
  enum class Provisioner { kNone, kHost, kKubernetes };
  // Default: none for the directory source, host for the API server.
  Provisioner provisioner = Provisioner::kNone;
  std::string proxy_binary;  // empty: gatehouse-proxy beside this binary, else $PATH
  int proxy_workers = 0;
  std::string address_pool;
  // --provisioner=kubernetes: the proxy image, where proxy pods reach the config
  // stream (empty: gatehouse-controller.<controller namespace>.svc:<stream port>),
  // the controller's namespace (empty: $POD_NAMESPACE, else gatehouse-system),
  // replicas per Gateway and the type of each Gateway's Service.
  std::string proxy_image;
  std::string controller_service_address;
  std::string controller_namespace;
  int proxy_replicas = 1;
  std::string proxy_service_type = "LoadBalancer";
  std::string status_file;
  bool leader_elect = false;
  bool help = false;
};

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args);

std::string Usage();

}  // namespace gatehouse::cmd
