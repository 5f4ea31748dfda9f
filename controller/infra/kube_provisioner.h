// Provisioners that write Kubernetes objects. The Kubernetes provisioner runs
// each Gateway's proxies as a Deployment behind a Service (with a
// ServiceAccount) and publishes the Service's address. The publisher wraps a
// provisioner whose proxies run outside pods (the host one) and makes them
// visible in the cluster: a ServiceAccount and a headless Service whose
// EndpointSlice names the proxy's address, so the Gateway has a DNS name.
#pragma once

#include <memory>

#include "controller/infra/kube_objects.h"
#include "controller/infra/object_sync.h"
#include "controller/infra/provisioner.h"
#include "controller/kube/object_client.h"

namespace gatehouse::infra {

struct KubeProvisionerOptions {
  ProxyObjectOptions proxy;
  ObjectSyncOptions sync;
};

// `client` must outlive the provisioner. Gateways asking for static addresses
// are refused (AddressNotUsable): the Service decides the address.
std::unique_ptr<Provisioner> MakeKubernetesProvisioner(kube::ObjectClient* client,
                                                       KubeProvisionerOptions options);

// `client` must outlive the provisioner.
std::unique_ptr<Provisioner> PublishToKubernetes(std::unique_ptr<Provisioner> inner,
                                                 kube::ObjectClient* client,
                                                 ObjectSyncOptions options = {});

}  // namespace gatehouse::infra
