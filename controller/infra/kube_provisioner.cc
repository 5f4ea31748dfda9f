#include "controller/infra/kube_provisioner.h"

#include <arpa/inet.h>

#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "controller/infra/gateway_info.h"

namespace gatehouse::infra {
namespace {

namespace json = boost::json;

GatewayInfo InfoFromKey(const std::string& key, const std::vector<Address>& spec_addresses) {
  return MakeGatewayInfo(key, nullptr, nullptr, spec_addresses);
}

bool IsIp(const std::string& s) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The requested addresses, or the ones this provisioner cannot put on a Service.
struct Requested {
  std::vector<Address> usable;
  std::vector<std::string> unusable;
};

Requested CheckRequested(const std::vector<Address>& spec_addresses, const AddressPool& pool) {
  Requested r;
  for (const auto& [type, value] : spec_addresses) {
    bool ok = IsIpAddressType(type) && IsIp(value) && (pool.empty() || pool.Contains(value));
    if (ok) {
      r.usable.emplace_back("IPAddress", value);
    } else {
      r.unusable.push_back(value);
    }
  }
  return r;
}

class KubernetesProvisioner : public Provisioner {
 public:
  KubernetesProvisioner(kube::ObjectClient* client, KubeProvisionerOptions options)
      : options_(std::move(options)), sync_(client, options_.sync) {}

  ~KubernetesProvisioner() override { Stop(); }

  absl::Status Ensure(const std::string& gateway,
                      const std::vector<Address>& spec_addresses) override {
    return EnsureGateway(InfoFromKey(gateway, spec_addresses));
  }

  absl::Status EnsureGateway(const GatewayInfo& gw) override {
    Requested requested = CheckRequested(gw.spec_addresses, options_.static_addresses);
    if (!requested.unusable.empty()) {
      Remove(gw.key);
      return absl::FailedPreconditionError(
          absl::StrCat("address not usable by the kubernetes provisioner: ",
                       absl::StrJoin(requested.unusable, ", ")));
    }
    std::vector<json::object> objects = {ServiceAccountFor(gw), DeploymentFor(gw, options_.proxy)};
    if (json::object svc = ServiceFor(gw, options_.proxy); !svc.empty()) {
      objects.push_back(std::move(svc));
    }
    {
      std::lock_guard lock(mu_);
      auto prev = gateways_.find(gw.key);
      if (!requested.usable.empty()) {
        addresses_[gw.key] = requested.usable;
      } else if (prev != gateways_.end() && !prev->second.spec_addresses.empty()) {
        addresses_.erase(gw.key);  // the Service decides again (next Observe)
      }
      gateways_[gw.key] = gw;
    }
    sync_.Set(gw.key, std::move(objects));
    return absl::OkStatus();
  }

  void Observe(const std::vector<source::ObjectPtr>& objects) override {
    std::lock_guard lock(mu_);
    for (const auto& [key, gw] : gateways_) {
      // Requested addresses are the Service's external IPs: they are the Gateway's.
      if (!gw.spec_addresses.empty()) continue;
      addresses_[key] = ServiceAddresses(gw, objects);
    }
  }

  void Remove(const std::string& gateway) override {
    {
      std::lock_guard lock(mu_);
      gateways_.erase(gateway);
      addresses_.erase(gateway);
    }
    sync_.Remove(gateway);
  }

  std::vector<Address> Addresses(const std::string& gateway) const override {
    std::lock_guard lock(mu_);
    auto it = addresses_.find(gateway);
    return it == addresses_.end() ? std::vector<Address>{} : it->second;
  }

  std::vector<std::string> Gateways() const override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& [key, _] : gateways_) out.push_back(key);
    return out;
  }

  // The Deployments keep serving their last snapshot while the controller is away.
  void Stop() override { sync_.Stop(); }

 private:
  const KubeProvisionerOptions options_;
  ObjectSync sync_;
  mutable std::mutex mu_;
  std::map<std::string, GatewayInfo> gateways_;
  std::map<std::string, std::vector<Address>> addresses_;
};

class Publisher : public Provisioner {
 public:
  Publisher(std::unique_ptr<Provisioner> inner, kube::ObjectClient* client,
            ObjectSyncOptions options)
      : inner_(std::move(inner)), sync_(client, options) {}

  ~Publisher() override { Stop(); }

  absl::Status Ensure(const std::string& gateway,
                      const std::vector<Address>& spec_addresses) override {
    return EnsureGateway(InfoFromKey(gateway, spec_addresses));
  }

  absl::Status EnsureGateway(const GatewayInfo& gw) override {
    absl::Status st = inner_->EnsureGateway(gw);
    if (!st.ok()) {
      sync_.Remove(gw.key);
      return st;
    }
    sync_.Set(gw.key, {ServiceAccountFor(gw), HeadlessServiceFor(gw),
                       EndpointSliceFor(gw, inner_->Addresses(gw.key))});
    return st;
  }

  void Observe(const std::vector<source::ObjectPtr>& objects) override { inner_->Observe(objects); }

  void Remove(const std::string& gateway) override {
    inner_->Remove(gateway);
    sync_.Remove(gateway);
  }

  std::vector<Address> Addresses(const std::string& gateway) const override {
    return inner_->Addresses(gateway);
  }

  std::vector<std::string> Gateways() const override { return inner_->Gateways(); }

  void Stop() override {
    inner_->Stop();
    sync_.Stop();
  }

 private:
  std::unique_ptr<Provisioner> inner_;
  ObjectSync sync_;
};

}  // namespace

std::unique_ptr<Provisioner> MakeKubernetesProvisioner(kube::ObjectClient* client,
                                                       KubeProvisionerOptions options) {
  return std::make_unique<KubernetesProvisioner>(client, std::move(options));
}

std::unique_ptr<Provisioner> PublishToKubernetes(std::unique_ptr<Provisioner> inner,
                                                 kube::ObjectClient* client,
                                                 ObjectSyncOptions options) {
  return std::make_unique<Publisher>(std::move(inner), client, options);
}

}  // namespace gatehouse::infra
