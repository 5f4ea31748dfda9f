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
  enum class Provisioner { kNone, kHost };
  // Default: none for the directory source, host for the API server.
  Provisioner provisioner = Provisioner::kNone;
  std::string proxy_binary;  // empty: gatehouse-proxy beside this binary, else $PATH
  int proxy_workers = 0;
  std::string address_pool;
  std::string status_file;
  bool leader_elect = false;
  bool help = false;
};

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args);

std::string Usage();

}  // namespace gatehouse::cmd
