#include <map>
#include <mutex>

#include "controller/infra/provisioner.h"

namespace gatehouse::infra {
namespace {

class NoopProvisioner : public Provisioner {
 public:
  absl::Status Ensure(const std::string& gateway,
                      const std::vector<Address>& spec_addresses) override {
    std::vector<Address> ips;
    for (const auto& [type, value] : spec_addresses) {
      if (IsIpAddressType(type)) ips.emplace_back("IPAddress", value);
    }
    std::lock_guard<std::mutex> lock(mu_);
    gateways_[gateway] = std::move(ips);
    return absl::OkStatus();
  }

  void Remove(const std::string& gateway) override {
    std::lock_guard<std::mutex> lock(mu_);
    gateways_.erase(gateway);
  }

  std::vector<Address> Addresses(const std::string& gateway) const override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = gateways_.find(gateway);
    return it == gateways_.end() ? std::vector<Address>{} : it->second;
  }

  std::vector<std::string> Gateways() const override {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [gw, _] : gateways_) out.push_back(gw);
    return out;
  }

  void Stop() override {}

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<Address>> gateways_;
};

}  // namespace

bool IsIpAddressType(const std::string& type) { return type.empty() || type == "IPAddress"; }

std::unique_ptr<Provisioner> MakeNoopProvisioner() { return std::make_unique<NoopProvisioner>(); }

}  // namespace gatehouse::infra
