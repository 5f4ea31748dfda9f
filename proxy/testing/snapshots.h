// Small builders for snapshot protos in proxy tests, so each test states only what it
// is about.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gatehouse/config/v1/config.pb.h"

namespace gatehouse::proxy::testing {

namespace pb = ::gatehouse::config::v1;

inline pb::Listener* AddListener(pb::Snapshot& s, uint32_t port, pb::Protocol protocol,
                                 const std::string& address = "127.0.0.1") {
  pb::Listener* l = s.add_listeners();
  l->set_name(pb::Protocol_Name(protocol) + "-" + std::to_string(port));
  l->set_address(address);
  l->set_port(port);
  l->set_protocol(protocol);
  return l;
}

inline pb::VirtualHost* AddVirtualHost(pb::Listener* l, const std::string& hostname) {
  pb::VirtualHost* vh = l->add_virtual_hosts();
  vh->set_name("ns/gw/" + (hostname.empty() ? std::string("any") : hostname));
  vh->set_hostname(hostname);
  return vh;
}

// A PathPrefix route forwarding to `cluster` in the host group `group_hostname`
// (created when missing).
inline pb::Route* AddPrefixRoute(pb::VirtualHost* vh, const std::string& prefix,
                                 const std::string& cluster,
                                 const std::string& group_hostname = "") {
  pb::HostRoutes* group = nullptr;
  for (auto& g : *vh->mutable_hosts()) {
    if (g.hostname() == group_hostname) group = &g;
  }
  if (group == nullptr) {
    group = vh->add_hosts();
    group->set_hostname(group_hostname);
  }
  pb::Route* r = group->add_routes();
  r->set_name("ns/route-" + std::to_string(group->routes_size()) + prefix);
  r->mutable_match()->mutable_path()->set_type(pb::PathMatch::PREFIX);
  r->mutable_match()->mutable_path()->set_value(prefix);
  auto* b = r->mutable_forward()->add_backends();
  b->set_cluster(cluster);
  b->set_weight(1);
  return r;
}

inline pb::Cluster* AddCluster(pb::Snapshot& s, const std::string& name,
                               const std::vector<std::pair<std::string, uint32_t>>& endpoints) {
  pb::Cluster* c = s.add_clusters();
  c->set_name(name);
  for (const auto& [addr, port] : endpoints) {
    auto* e = c->add_endpoints();
    e->set_address(addr);
    e->set_port(port);
    e->set_ready(true);
  }
  return c;
}

inline pb::Secret* AddSecret(pb::Snapshot& s, const std::string& name, const std::string& cert,
                             const std::string& key) {
  pb::Secret* secret = s.add_secrets();
  secret->set_name(name);
  secret->set_cert_pem(cert);
  secret->set_key_pem(key);
  return secret;
}

inline pb::ServerTls* AddServerTls(pb::Listener* l, const std::string& secret,
                                   const std::vector<std::string>& names,
                                   const std::string& vhost = "") {
  pb::ServerTls* t = l->add_server_tls();
  for (const auto& n : names) t->add_server_names(n);
  t->add_certificate_secrets(secret);
  t->set_virtual_host(vhost);
  return t;
}

}  // namespace gatehouse::proxy::testing
