// Temporary stub so dependents can build against the public headers; replaced by the
// implementation files.
#include "proxy/router/actions.h"
#include "proxy/router/path.h"
#include "proxy/router/router.h"

namespace gatehouse::router {

struct RouteTable::Data {
  config::v1::Listener listener;
};

RouteTable::RouteTable(std::unique_ptr<Data> data) : data_(std::move(data)) {}
RouteTable::~RouteTable() = default;

absl::StatusOr<std::shared_ptr<const RouteTable>> RouteTable::Compile(
    const config::v1::Listener& listener) {
  auto data = std::make_unique<Data>();
  data->listener = listener;
  return std::shared_ptr<const RouteTable>(new RouteTable(std::move(data)));
}
Selection RouteTable::Select(const Request&, const HeaderSource&, std::string&) const {
  return Selection{};
}
const config::v1::VirtualHost* RouteTable::FindVirtualHost(std::string_view) const {
  return nullptr;
}
const config::v1::Listener& RouteTable::listener() const { return data_->listener; }
uint32_t RouteTable::virtual_host_count() const { return 0; }
uint32_t RouteTable::route_count() const { return 0; }
const config::v1::Route& RouteTable::route(uint32_t) const {
  return config::v1::Route::default_instance();
}
int Selection::HttpStatus() const { return result == SelectResult::kRouted ? 0 : 404; }
absl::Status CheckRouteOrder(const config::v1::HostRoutes&) { return absl::OkStatus(); }
std::string_view HostWithoutPort(std::string_view a) { return a; }

bool HeaderNameEquals(std::string_view a, std::string_view b) { return a == b; }
std::optional<std::string_view> PairVectorHeaders::Get(std::string_view) const {
  return std::nullopt;
}
void PairVectorHeaders::Set(std::string_view, std::string_view) {}
void PairVectorHeaders::Add(std::string_view, std::string_view) {}
void PairVectorHeaders::Remove(std::string_view) {}

bool SplitTarget(std::string_view, TargetParts*, std::string_view*) { return false; }
NormalizedPath NormalizePath(std::string_view, std::string&) { return {}; }
bool PathPrefixMatches(std::string_view, std::string_view) { return false; }
std::string ReplacePathPrefix(std::string_view p, std::string_view, std::string_view) {
  return std::string(p);
}

const config::v1::WeightedBackend* ChooseBackend(const config::v1::ForwardAction&, uint64_t) {
  return nullptr;
}
const config::v1::WeightedBackend* ChooseBackend(
    const google::protobuf::RepeatedPtrField<config::v1::WeightedBackend>&, uint64_t) {
  return nullptr;
}
Redirect BuildRedirect(const config::v1::RedirectAction&, const RedirectInput&) { return {}; }
std::string ModifyPath(const config::v1::PathModifier&, std::string_view p) {
  return std::string(p);
}
UrlRewriteResult ApplyUrlRewrite(const config::v1::UrlRewrite&, std::string_view, std::string_view,
                                 bool) {
  return {};
}
void ApplyHeaderModifier(const config::v1::HeaderModifier&, HeaderMap&) {}
bool IsCorsPreflight(std::string_view, const HeaderSource&) { return false; }
bool CorsOriginAllowed(const config::v1::Cors&, std::string_view) { return false; }
uint32_t CorsPreflight(const config::v1::Cors&, const HeaderSource&, HeaderMap&) { return 204; }
void AddCorsResponseHeaders(const config::v1::Cors&, std::string_view, HeaderMap&) {}
bool ShouldMirror(const config::v1::RequestMirror&, uint64_t) { return false; }
bool ShouldRetry(const config::v1::RetryPolicy&, uint32_t, const AttemptOutcome&) { return false; }
uint32_t RetryBackoffMs(const config::v1::RetryPolicy&, uint32_t, uint64_t) { return 0; }

}  // namespace gatehouse::router
