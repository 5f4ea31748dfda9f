// Provisioners that write Kubernetes objects. The Kubernetes provisioner runs
// each Gateway's proxies as a Deployment behind a Service (with a
// ServiceAccount) and publishes the Service's address. The publisher wraps a
// provisioner whose proxies run outside pods (the host one) and makes them
// visible in the cluster: a ServiceAccount and a headless Service whose
// EndpointSlice names the proxy's address, so the Gateway has a DNS name.
#pragma once

#include <memory>

#include "controller/infra/address_pool.h"
#include "controller/infra/kube_objects.h"
#include "controller/infra/object_sync.h"
#include "controller/infra/provisioner.h"
#include "controller/kube/object_client.h"

namespace gatehouse::infra {

struct KubeProvisionerOptions {
  ProxyObjectOptions proxy;
  ObjectSyncOptions sync;
  // The addresses a Gateway may ask for (spec.addresses); empty: any IP address.
  AddressPool static_addresses;
};

// `client` must outlive the provisioner. A Gateway's requested IP addresses go
// on its Service as spec.externalIPs (the cluster routes them to the proxy
// pods) and become its status addresses; one outside `static_addresses`, or of
// another type, is refused (AddressNotUsable). Without requested addresses the
// Service decides: its LoadBalancer ingress, else the ready proxy pods' IPs.
std::unique_ptr<Provisioner> MakeKubernetesProvisioner(kube::ObjectClient* client,
                                                       KubeProvisionerOptions options);

// `client` must outlive the provisioner.
std::unique_ptr<Provisioner> PublishToKubernetes(std::unique_ptr<Provisioner> inner,
                                                 kube::ObjectClient* client,
                                                 ObjectSyncOptions options = {});

}  // namespace gatehouse::infra
