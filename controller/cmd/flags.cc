#include "controller/cmd/flags.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace gatehouse::cmd {

std::string Usage() {
  return "usage: gatehouse-controller --source=dir:PATH|kube [--kubeconfig=PATH]\n"
         "  [--controller-name=gatehouse.dev/gateway-controller]\n"
         "  [--stream-listen=127.0.0.1:18000] [--admin-listen=ADDR:PORT]\n"
         "  [--provisioner=none|host|kubernetes] [--proxy-binary=PATH] [--proxy-workers=N]\n"
         "  [--address-pool=FIRST-LAST] [--status-file=PATH] [--leader-elect]\n"
         "  kubernetes provisioner: [--proxy-image=IMAGE] "
         "[--controller-service-address=HOST:PORT]\n"
         "  [--controller-namespace=NS] [--proxy-replicas=N]\n"
         "  [--proxy-service-type=LoadBalancer|ClusterIP|NodePort]\n";
}

absl::StatusOr<Flags> ParseFlags(const std::vector<std::string>& args) {
  Flags f;
  bool have_source = false;
  std::optional<Flags::Provisioner> provisioner;
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      f.help = true;
      continue;
    }
    if (arg == "--leader-elect" || arg == "--leader-elect=true") {
      f.leader_elect = true;
      continue;
    }
    if (arg == "--leader-elect=false") {
      f.leader_elect = false;
      continue;
    }
    auto eq = arg.find('=');
    if (arg.rfind("--", 0) != 0 || eq == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", arg, "\""));
    }
    std::string name = arg.substr(2, eq - 2);
    std::string value = arg.substr(eq + 1);
    if (name == "source") {
      if (value == "kube") {
        f.source = Flags::Source::kKube;
      } else if (value.rfind("dir:", 0) == 0 && value.size() > 4) {
        f.source = Flags::Source::kDir;
        f.source_dir = value.substr(4);
      } else {
        return absl::InvalidArgumentError("--source must be dir:PATH or kube");
      }
      have_source = true;
    } else if (name == "kubeconfig") {
      f.kubeconfig = value;
    } else if (name == "controller-name") {
      if (value.empty()) return absl::InvalidArgumentError("--controller-name is empty");
      f.controller_name = value;
    } else if (name == "stream-listen") {
      f.stream_listen = value;
    } else if (name == "admin-listen") {
      f.admin_listen = value;
    } else if (name == "provisioner") {
      if (value == "none") {
        provisioner = Flags::Provisioner::kNone;
      } else if (value == "host") {
        provisioner = Flags::Provisioner::kHost;
      } else if (value == "kubernetes") {
        provisioner = Flags::Provisioner::kKubernetes;
      } else {
        return absl::InvalidArgumentError("--provisioner must be none, host or kubernetes");
      }
    } else if (name == "proxy-binary") {
      f.proxy_binary = value;
    } else if (name == "proxy-workers") {
      if (!absl::SimpleAtoi(value, &f.proxy_workers) || f.proxy_workers < 0) {
        return absl::InvalidArgumentError("--proxy-workers must be a number >= 0");
      }
    } else if (name == "address-pool") {
      f.address_pool = value;
    } else if (name == "proxy-image") {
      if (value.empty()) return absl::InvalidArgumentError("--proxy-image is empty");
      f.proxy_image = value;
    } else if (name == "controller-service-address") {
      f.controller_service_address = value;
    } else if (name == "controller-namespace") {
      f.controller_namespace = value;
    } else if (name == "proxy-replicas") {
      if (!absl::SimpleAtoi(value, &f.proxy_replicas) || f.proxy_replicas < 1) {
        return absl::InvalidArgumentError("--proxy-replicas must be a number >= 1");
      }
    } else if (name == "proxy-service-type") {
      if (value != "LoadBalancer" && value != "ClusterIP" && value != "NodePort") {
        return absl::InvalidArgumentError(
            "--proxy-service-type must be LoadBalancer, ClusterIP or NodePort");
      }
      f.proxy_service_type = value;
    } else if (name == "status-file") {
      f.status_file = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
    }
  }
  if (f.help) return f;
  if (!have_source) return absl::InvalidArgumentError("--source is required");
  f.provisioner = provisioner.value_or(
      f.source == Flags::Source::kKube ? Flags::Provisioner::kHost : Flags::Provisioner::kNone);
  if (f.provisioner == Flags::Provisioner::kKubernetes && f.source != Flags::Source::kKube) {
    return absl::InvalidArgumentError("--provisioner=kubernetes needs --source=kube");
  }
  if (f.source == Flags::Source::kKube && !f.status_file.empty()) {
    return absl::InvalidArgumentError("--status-file only applies to --source=dir:PATH");
  }
  return f;
}

}  // namespace gatehouse::cmd
