#include <algorithm>

#include "absl/strings/escaping.h"
#include "controller/resources/decode_internal.h"
#include "controller/resources/resources.h"

namespace gatehouse::resources {

namespace json = boost::json;
using internal::Fail;
using internal::ForEachObject;
using internal::GetArray;
using internal::GetBool;
using internal::GetInt32;
using internal::GetObject;
using internal::GetString;
using internal::GetStringList;
using internal::GetStringMap;
using internal::GetStringOr;
using internal::Path;

namespace internal {

ObjectRef DecodeObjectRef(const json::object& o, const Path& path, std::string_view default_group,
                          std::string_view default_kind) {
  ObjectRef ref;
  ref.group = GetStringOr(o, "group", path, default_group);
  ref.kind = GetStringOr(o, "kind", path, default_kind);
  ref.name = GetStringOr(o, "name", path, "");
  ref.ns = GetString(o, "namespace", path);
  ref.port = GetInt32(o, "port", path);
  return ref;
}

LabelSelector DecodeSelector(const json::object& o, const Path& path) {
  LabelSelector sel;
  sel.match_labels = GetStringMap(o, "matchLabels", path);
  ForEachObject(o, "matchExpressions", path, [&](const json::object& e, const Path& p) {
    LabelSelectorRequirement req;
    req.key = GetStringOr(e, "key", p, "");
    req.op = GetStringOr(e, "operator", p, "");
    req.values = GetStringList(e, "values", p);
    sel.match_expressions.push_back(std::move(req));
  });
  return sel;
}

}  // namespace internal

namespace {

void DecodeMeta(const json::object& o, ObjectBase& base) {
  Path root;
  base.api_version = GetStringOr(o, "apiVersion", root, "");
  base.kind = GetStringOr(o, "kind", root, "");
  const json::object* md = GetObject(o, "metadata", root);
  if (md == nullptr) Fail(root, "metadata is missing");
  Path p(&root, "metadata");
  ObjectMeta& m = base.meta;
  m.name = GetStringOr(*md, "name", p, "");
  if (m.name.empty()) Fail(p, "name is missing");
  m.ns = GetStringOr(*md, "namespace", p, "");
  m.uid = GetStringOr(*md, "uid", p, "");
  m.resource_version = GetStringOr(*md, "resourceVersion", p, "");
  m.creation_timestamp = GetStringOr(*md, "creationTimestamp", p, "");
  m.generation = internal::GetInt(*md, "generation", p).value_or(0);
  m.labels = GetStringMap(*md, "labels", p);
  m.annotations = GetStringMap(*md, "annotations", p);
}

void DecodeService(const json::object& spec, const Path& path, Service& out) {
  out.type = GetStringOr(spec, "type", path, "ClusterIP");
  out.cluster_ip = GetStringOr(spec, "clusterIP", path, "");
  ForEachObject(spec, "ports", path, [&](const json::object& o, const Path& p) {
    ServicePort port;
    port.name = GetStringOr(o, "name", p, "");
    port.protocol = GetStringOr(o, "protocol", p, "TCP");
    port.port = GetInt32(o, "port", p).value_or(0);
    if (const json::value* tp = o.if_contains("targetPort"); tp != nullptr && !tp->is_null()) {
      if (tp->is_string()) {
        port.target_port_name = std::string(tp->get_string());
      } else {
        port.target_port_number = GetInt32(o, "targetPort", p);
      }
    }
    port.app_protocol = GetString(o, "appProtocol", p);
    out.ports.push_back(std::move(port));
  });
}

void DecodeEndpointSlice(const json::object& o, const Path& path, EndpointSlice& out) {
  auto it = out.meta.labels.find("kubernetes.io/service-name");
  if (it != out.meta.labels.end()) out.service_name = it->second;
  out.address_type = GetStringOr(o, "addressType", path, "");
  ForEachObject(o, "endpoints", path, [&](const json::object& e, const Path& p) {
    EndpointSlice::Endpoint ep;
    ep.addresses = GetStringList(e, "addresses", p);
    if (const json::object* cond = GetObject(e, "conditions", p)) {
      ep.ready = GetBool(*cond, "ready", Path(&p, "conditions")).value_or(true);
    }
    out.endpoints.push_back(std::move(ep));
  });
  ForEachObject(o, "ports", path, [&](const json::object& e, const Path& p) {
    EndpointSlice::Port port;
    port.name = GetStringOr(e, "name", p, "");
    port.protocol = GetStringOr(e, "protocol", p, "TCP");
    port.port = GetInt32(e, "port", p);
    port.app_protocol = GetString(e, "appProtocol", p);
    out.ports.push_back(std::move(port));
  });
}

void DecodeSecret(const json::object& o, const Path& path, Secret& out) {
  out.type = GetStringOr(o, "type", path, "Opaque");
  for (const auto& [k, v] : GetStringMap(o, "data", path)) {
    std::string decoded;
    if (!absl::Base64Unescape(v, &decoded)) {
      Fail(Path(&path, "data"), "key " + k + " is not valid base64");
    }
    out.data[k] = std::move(decoded);
  }
  for (auto& [k, v] : GetStringMap(o, "stringData", path)) out.data[k] = std::move(v);
}

// Group of an apiVersion ("" for the core group).
std::string_view GroupOf(std::string_view api_version) {
  auto slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

template <typename T, typename Fn>
void DecodeKind(const RawObject& object, std::vector<T>& list, Fn decode_body) {
  T item;
  DecodeMeta(*object, item);
  item.raw = object;
  decode_body(item);
  list.push_back(std::move(item));
}

}  // namespace

absl::Status Decode(const RawObject& object, Resources& out) {
  if (!object) return absl::InvalidArgumentError("null object");
  const json::object& o = *object;
  const json::value* kind_v = o.if_contains("kind");
  const json::value* api_v = o.if_contains("apiVersion");
  if (kind_v == nullptr || !kind_v->is_string() || api_v == nullptr || !api_v->is_string()) {
    return absl::InvalidArgumentError("object without apiVersion/kind");
  }
  std::string_view kind = kind_v->get_string();
  std::string_view group = GroupOf(api_v->get_string());
  Path root;
  json::object empty;
  try {
    const json::object* spec_ptr = GetObject(o, "spec", root);
    const json::object& spec = spec_ptr ? *spec_ptr : empty;
    Path sp(&root, "spec");
    using namespace internal;  // NOLINT: the decoders of every kind
    if (group == kGatewayGroup) {
      if (kind == "GatewayClass") {
        DecodeKind(object, out.gateway_classes, [&](auto& x) { DecodeGatewayClass(spec, sp, x); });
      } else if (kind == "Gateway") {
        DecodeKind(object, out.gateways, [&](auto& x) { DecodeGateway(spec, sp, x); });
      } else if (kind == "ListenerSet") {
        DecodeKind(object, out.listener_sets, [&](auto& x) { DecodeListenerSet(spec, sp, x); });
      } else if (kind == "HTTPRoute") {
        DecodeKind(object, out.http_routes, [&](auto& x) { DecodeHTTPRoute(spec, sp, x); });
      } else if (kind == "GRPCRoute") {
        DecodeKind(object, out.grpc_routes, [&](auto& x) { DecodeGRPCRoute(spec, sp, x); });
      } else if (kind == "TLSRoute" || kind == "TCPRoute" || kind == "UDPRoute") {
        auto& list = kind == "TLSRoute"   ? out.tls_routes
                     : kind == "TCPRoute" ? out.tcp_routes
                                          : out.udp_routes;
        DecodeKind(object, list, [&](auto& x) { DecodeL4Route(spec, sp, x); });
      } else if (kind == "ReferenceGrant") {
        DecodeKind(object, out.reference_grants,
                   [&](auto& x) { DecodeReferenceGrant(spec, sp, x); });
      } else if (kind == "BackendTLSPolicy") {
        DecodeKind(object, out.backend_tls_policies,
                   [&](auto& x) { DecodeBackendTLSPolicy(spec, sp, x); });
      }
    } else if (group.empty()) {
      if (kind == "Service") {
        DecodeKind(object, out.services, [&](auto& x) { DecodeService(spec, sp, x); });
      } else if (kind == "Secret") {
        DecodeKind(object, out.secrets, [&](auto& x) { DecodeSecret(o, root, x); });
      } else if (kind == "ConfigMap") {
        DecodeKind(object, out.config_maps,
                   [&](auto& x) { x.data = GetStringMap(o, "data", root); });
      } else if (kind == "Namespace") {
        DecodeKind(object, out.namespaces, [](auto&) {});
      }
    } else if (group == "discovery.k8s.io" && kind == "EndpointSlice") {
      DecodeKind(object, out.endpoint_slices, [&](auto& x) { DecodeEndpointSlice(o, root, x); });
    }
  } catch (const internal::FieldError& e) {
    return absl::InvalidArgumentError(e.path.empty() ? e.message : e.path + ": " + e.message);
  }
  return absl::OkStatus();
}

namespace {

// Sorts by namespace/name; when a source lists the same object twice the first
// one wins, so every key appears once.
template <typename T>
void SortByKey(std::vector<T>& list) {
  auto less = [](const T& a, const T& b) {
    if (a.meta.ns != b.meta.ns) return a.meta.ns < b.meta.ns;
    return a.meta.name < b.meta.name;
  };
  std::stable_sort(list.begin(), list.end(), less);
  auto same = [](const T& a, const T& b) {
    return a.meta.ns == b.meta.ns && a.meta.name == b.meta.name;
  };
  list.erase(std::unique(list.begin(), list.end(), same), list.end());
}

std::string KeyOf(const json::object& o) {
  const json::value* md = o.if_contains("metadata");
  if (md == nullptr || !md->is_object()) return "";
  auto str = [&](std::string_view k) -> std::string {
    const json::value* v = md->get_object().if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  std::string ns = str("namespace");
  return ns.empty() ? str("name") : ns + "/" + str("name");
}

}  // namespace

Resources Load(const std::vector<RawObject>& objects) {
  Resources out;
  for (const RawObject& obj : objects) {
    absl::Status st = Decode(obj, out);
    if (!st.ok()) {
      DecodeError err;
      if (obj) {
        if (const auto* k = obj->if_contains("kind"); k && k->is_string()) {
          err.kind = std::string(k->get_string());
        }
        err.key = KeyOf(*obj);
      }
      err.message = std::string(st.message());
      out.errors.push_back(std::move(err));
    }
  }
  SortByKey(out.gateway_classes);
  SortByKey(out.gateways);
  SortByKey(out.listener_sets);
  SortByKey(out.http_routes);
  SortByKey(out.grpc_routes);
  SortByKey(out.tls_routes);
  SortByKey(out.tcp_routes);
  SortByKey(out.udp_routes);
  SortByKey(out.reference_grants);
  SortByKey(out.backend_tls_policies);
  SortByKey(out.services);
  SortByKey(out.endpoint_slices);
  SortByKey(out.secrets);
  SortByKey(out.config_maps);
  SortByKey(out.namespaces);
  return out;
}

}  // namespace gatehouse::resources
