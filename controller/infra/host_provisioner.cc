#include "controller/infra/host_provisioner.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "controller/infra/address_pool.h"
#include "controller/source/log.h"

namespace gatehouse::infra {
namespace {

// Whether this host can listen on `ip` (the address is configured locally).
bool Bindable(const std::string& ip) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  if (::inet_pton(AF_INET, ip.c_str(), &sa.sin_addr) != 1) return false;
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  ::close(fd);
  return ok;
}

class HostProvisioner : public Provisioner {
 public:
  HostProvisioner(HostOptions options, AddressPool pool)
      : options_(std::move(options)), pool_(pool), supervisor_(options_.supervisor) {}

  ~HostProvisioner() override { Stop(); }

  absl::Status Ensure(const std::string& gateway,
                      const std::vector<Address>& spec_addresses) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> requested;
    for (const auto& [type, value] : spec_addresses) {
      if (IsIpAddressType(type)) requested.push_back(value);
    }

    std::vector<std::string> assigned;
    if (!requested.empty()) {
      std::vector<std::string> unusable;
      for (const auto& ip : requested) {
        bool in_pool = pool_.empty() ? ParseIpv4(ip).has_value() : pool_.Contains(ip);
        if (!in_pool || !Bindable(ip)) unusable.push_back(ip);
      }
      if (!unusable.empty()) {
        RemoveLocked(gateway);
        return absl::FailedPreconditionError(absl::StrCat(
            "address not usable by this provisioner: ", absl::StrJoin(unusable, ", ")));
      }
      assigned = requested;
    } else if (auto it = assigned_.find(gateway); it != assigned_.end() && it->second.dynamic) {
      assigned = it->second.ips;  // sticky
    } else if (!pool_.empty()) {
      auto ip = pool_.Allocate(InUseLocked());
      if (!ip) {
        RemoveLocked(gateway);
        return absl::ResourceExhaustedError(
            absl::StrCat("address pool ", options_.address_pool, " is exhausted"));
      }
      assigned = {*ip};
    }

    Assignment& a = assigned_[gateway];
    a.ips = std::move(assigned);
    a.dynamic = requested.empty();
    supervisor_.Run(gateway, ProxyArgv(options_, gateway));
    return absl::OkStatus();
  }

  void Remove(const std::string& gateway) override {
    std::lock_guard<std::mutex> lock(mu_);
    RemoveLocked(gateway);
  }

  std::vector<Address> Addresses(const std::string& gateway) const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Address> out;
    if (auto it = assigned_.find(gateway); it != assigned_.end()) {
      for (const auto& ip : it->second.ips) out.emplace_back("IPAddress", ip);
    }
    return out;
  }

  std::vector<std::string> Gateways() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [gw, _] : assigned_) out.push_back(gw);
    return out;
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      assigned_.clear();
    }
    supervisor_.StopAll();
  }

 private:
  struct Assignment {
    std::vector<std::string> ips;
    bool dynamic = false;
  };

  void RemoveLocked(const std::string& gateway) {
    if (assigned_.erase(gateway) > 0) supervisor_.Stop(gateway);
  }

  std::set<std::string> InUseLocked() const {
    std::set<std::string> used;
    for (const auto& [gw, a] : assigned_) used.insert(a.ips.begin(), a.ips.end());
    return used;
  }

  const HostOptions options_;
  const AddressPool pool_;
  Supervisor supervisor_;
  mutable std::mutex mu_;
  std::map<std::string, Assignment> assigned_;
};

}  // namespace

std::vector<std::string> ProxyArgv(const HostOptions& options, const std::string& gateway) {
  std::vector<std::string> argv = {options.proxy_binary,
                                   "--controller=" + options.controller_address,
                                   "--gateway=" + gateway, "--admin=127.0.0.1:0"};
  if (options.proxy_workers > 0) {
    argv.push_back("--workers=" + std::to_string(options.proxy_workers));
  }
  argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
  return argv;
}

absl::StatusOr<std::unique_ptr<Provisioner>> MakeHostProvisioner(HostOptions options) {
  auto pool = AddressPool::Parse(options.address_pool);
  if (!pool.ok()) return pool.status();
  return std::unique_ptr<Provisioner>(new HostProvisioner(std::move(options), *pool));
}

}  // namespace gatehouse::infra
