// What to do with one request, decided once for HTTP/1.1 and HTTP/2 alike: route it with
// the listener's table, run the request-side filters (header modifiers, URL rewrite),
// and either answer locally (404, redirect, CORS preflight, 500 for invalid backends)
// or forward it to a chosen cluster with the response-side filters to apply later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/message.hpp>

#include "proxy/config/tables.h"

namespace gatehouse::proxy::http {

namespace pb = ::gatehouse::config::v1;

// The connection a request arrived on.
struct RequestContext {
  const char* scheme = "http";
  std::string_view sni;  // HTTPS: the client's SNI (lowercase); else empty
  uint32_t listener_port = 0;
};

// The filters of a route and its chosen backend that act after the request is sent.
struct ResponsePlan {
  std::vector<const pb::HeaderModifier*> response_modifiers;
  std::vector<const pb::RequestMirror*> mirrors;
  const pb::Cors* cors = nullptr;
  std::string origin;  // the request's Origin when cors is set
};

struct Plan {
  enum class Kind { kReply, kForward };
  Kind kind = Kind::kReply;

  // kReply: status, body and extra headers (Location, Access-Control-*). `close` when
  // the connection cannot be trusted afterwards (400).
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;

  // kForward: the route (timeouts, retries) and the cluster to send to.
  const pb::Route* route = nullptr;
  const config::ClusterTable* cluster = nullptr;

  // Both: response header modifiers (also for local replies), mirrors, CORS.
  ResponsePlan response;
};

// Routes `req` and applies the request-side filters to it in place. `random` is a
// uniform 64-bit number for the weighted backend choice. `scratch` is per-connection
// storage the router may use.
Plan MakePlan(const config::Tables& tables, const config::ListenerTable& listener,
              boost::beast::http::request_header<>& req, const RequestContext& ctx,
              std::string& scratch, uint64_t random);

// Applies the plan's response header modifiers and CORS headers to a response from the
// upstream.
void ApplyResponseFilters(const ResponsePlan& plan, boost::beast::http::fields& response);

}  // namespace gatehouse::proxy::http
