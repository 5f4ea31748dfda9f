#include "controller/kube/object_client.h"

#include <future>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "absl/strings/str_cat.h"
#include "controller/kube/api_client.h"
#include "controller/kube/informer.h"
#include "controller/kube/json_util.h"

namespace gatehouse::kube {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using boost::beast::http::verb;

// An API answer as a status: 2xx is OK, the rest carries the server's message.
absl::Status HttpStatus(std::string_view what, const HttpResponse& res) {
  if (res.status >= 200 && res.status < 300) return absl::OkStatus();
  std::string msg = absl::StrCat(std::string(what), ": ", ErrorMessage(res));
  switch (res.status) {
    case 404:
      return absl::NotFoundError(msg);
    case 409:
      return absl::AlreadyExistsError(msg);
    case 400:
    case 422:
      return absl::InvalidArgumentError(msg);
    case 401:
    case 403:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::UnavailableError(msg);
  }
}

absl::StatusOr<json::object> ParseObject(std::string_view what, const std::string& body) {
  json::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object())
    return absl::DataLossError(absl::StrCat(std::string(what), ": not a JSON object"));
  return std::move(v.get_object());
}

class ObjectClientImpl final : public ObjectClient {
 public:
  ObjectClientImpl(std::unique_ptr<asio::io_context> ioc, std::shared_ptr<ApiClient> client)
      : ioc_(std::move(ioc)), client_(std::move(client)), work_(asio::make_work_guard(*ioc_)) {
    thread_ = std::thread([this] { ioc_->run(); });
  }

  ~ObjectClientImpl() override {
    work_.reset();
    ioc_->stop();
    thread_.join();
    // As in the provider: connections go before their io_context.
    client_->CloseIdle();
    ioc_.reset();
  }

  absl::StatusOr<json::object> Apply(const json::object& obj) override {
    const std::string api_version(StringField(obj, "apiVersion"));
    const std::string kind_name(StringField(obj, "kind"));
    const KindInfo* kind = ManagedKind(api_version, kind_name);
    if (kind == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("cannot apply ", api_version, " ", kind_name));
    }
    const std::string target = absl::StrCat(
        kind->ObjectPath(MetaField(obj, "namespace"), MetaField(obj, "name")), "?", ApplyQuery());
    const std::string what =
        absl::StrCat("apply ", kind_name, " ", std::string(MetaField(obj, "namespace")), "/",
                     std::string(MetaField(obj, "name")));
    // JSON is YAML: the apply content type takes it as it is.
    auto res = Call(verb::patch, target, json::serialize(obj), "application/apply-patch+yaml");
    if (!res.ok()) return res.status();
    if (absl::Status st = HttpStatus(what, *res); !st.ok()) return st;
    return ParseObject(what, res->body);
  }

  absl::Status Delete(const KindInfo& kind, std::string_view ns, std::string_view name) override {
    const std::string what =
        absl::StrCat("delete ", kind.kind, " ", std::string(ns), "/", std::string(name));
    json::object opts{
        {"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", "Background"}};
    auto res =
        Call(verb::delete_, kind.ObjectPath(ns, name), json::serialize(opts), "application/json");
    if (!res.ok()) return res.status();
    if (res->status == 404) return absl::OkStatus();
    return HttpStatus(what, *res);
  }

  absl::StatusOr<std::vector<json::object>> List(const KindInfo& kind, std::string_view ns,
                                                 std::string_view label_selector) override {
    std::string target = kind.CollectionPath();
    if (!ns.empty() && kind.namespaced) {
      // CollectionPath is cluster-wide; insert the namespace segment.
      const std::string base = kind.group.empty()
                                   ? absl::StrCat("/api/", kind.version)
                                   : absl::StrCat("/apis/", kind.group, "/", kind.version);
      target = absl::StrCat(base, "/namespaces/", std::string(ns), "/", kind.resource);
    }
    if (!label_selector.empty()) {
      absl::StrAppend(&target, "?labelSelector=", QueryEscape(label_selector));
    }
    const std::string what = absl::StrCat("list ", kind.resource);
    auto res = Call(verb::get, target, "", "");
    if (!res.ok()) return res.status();
    if (absl::Status st = HttpStatus(what, *res); !st.ok()) return st;
    auto list = ParseObject(what, res->body);
    if (!list.ok()) return list.status();
    std::vector<json::object> out;
    auto items = list->find("items");
    if (items == list->end() || !items->value().is_array()) return out;
    for (json::value& item : items->value().get_array()) {
      if (!item.is_object()) continue;
      // List items carry no apiVersion/kind; put them back for the caller.
      item.get_object()["apiVersion"] = kind.ApiVersion();
      item.get_object()["kind"] = kind.kind;
      out.push_back(std::move(item.get_object()));
    }
    return out;
  }

 private:
  absl::StatusOr<HttpResponse> Call(verb v, std::string target, std::string body,
                                    std::string content_type) {
    std::promise<absl::StatusOr<HttpResponse>> done;
    auto fut = done.get_future();
    asio::co_spawn(*ioc_,
                   client_->Request(v, std::move(target), std::move(body), std::move(content_type)),
                   [&done](std::exception_ptr e, absl::StatusOr<HttpResponse> res) {
                     if (e) {
                       done.set_value(absl::InternalError("request failed with an exception"));
                     } else {
                       done.set_value(std::move(res));
                     }
                   });
    return fut.get();
  }

  std::unique_ptr<asio::io_context> ioc_;
  std::shared_ptr<ApiClient> client_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

}  // namespace

const KindInfo& ServiceAccountKind() {
  static const KindInfo k{"", "v1", "serviceaccounts", "ServiceAccount", true};
  return k;
}
const KindInfo& ServiceKind() {
  static const KindInfo k{"", "v1", "services", "Service", true};
  return k;
}
const KindInfo& DeploymentKind() {
  static const KindInfo k{"apps", "v1", "deployments", "Deployment", true};
  return k;
}
const KindInfo& EndpointSliceKind() {
  static const KindInfo k{"discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true};
  return k;
}

const KindInfo* ManagedKind(std::string_view api_version, std::string_view kind) {
  for (const KindInfo* k :
       {&ServiceAccountKind(), &ServiceKind(), &DeploymentKind(), &EndpointSliceKind()}) {
    if (k->ApiVersion() == api_version && k->kind == kind) return k;
  }
  return nullptr;
}

std::string ApplyQuery() {
  return absl::StrCat("fieldManager=", std::string(kFieldManager), "&force=true");
}

absl::StatusOr<std::unique_ptr<ObjectClient>> ObjectClient::Create(const KubeConfig& config) {
  auto ioc = std::make_unique<asio::io_context>(1);
  auto client = ApiClient::Create(ioc->get_executor(), config);
  if (!client.ok()) return client.status();
  return std::unique_ptr<ObjectClient>(new ObjectClientImpl(std::move(ioc), *std::move(client)));
}

}  // namespace gatehouse::kube
