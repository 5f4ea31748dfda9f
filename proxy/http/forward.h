// Forwarding that does not assume both sides speak HTTP/1.1: a request from an HTTP/2
// stream, or one bound for an HTTP/2 (h2c, gRPC) upstream. The downstream side is an
// interface the HTTP/2 session (and the HTTP/1.1 session, for h2c upstreams)
// implements; the upstream side is an HTTP/1.1 pooled connection or an HTTP/2 stream.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>

#include "proxy/config/tables.h"
#include "proxy/http/request_plan.h"
#include "proxy/listener/worker.h"
#include "proxy/upstream/h2_connection.h"

namespace gatehouse::proxy::http {

struct BodyChunk {
  std::string data;
  bool last = false;   // the request body ends with this chunk
  bool error = false;  // the downstream is gone or sent garbage
};

class Downstream {
 public:
  virtual ~Downstream() = default;
  virtual bool request_has_body() const = 0;
  // Next piece of the request body (only when request_has_body()).
  virtual boost::asio::awaitable<BodyChunk> ReadBody() = 0;
  // The response header; `end` when no body follows. False when the client is gone.
  virtual boost::asio::awaitable<bool> WriteHeader(boost::beast::http::response_header<>& header,
                                                   bool end) = 0;
  virtual boost::asio::awaitable<bool> WriteBody(std::string data, bool last) = 0;
  // Ends the response with trailer fields (gRPC status).
  virtual boost::asio::awaitable<bool> WriteTrailers(upstream::HeaderList trailers) = 0;
};

struct ForwardInfo {
  std::string client_ip;
  const char* scheme = "http";
  std::chrono::steady_clock::time_point start;
  bool head = false;
};

// Answers locally through `down` (status, body, extra headers, response modifiers).
boost::asio::awaitable<void> ReplyVia(
    Downstream& down, unsigned status, const std::string& body,
    const std::vector<std::pair<std::string, std::string>>& headers, const ResponsePlan* plan,
    bool head);

// Sends the planned request (plan.kind == kForward) to plan.cluster over HTTP/2 when the
// cluster speaks it (H2C/H2 or a gRPC route), else over a pooled HTTP/1.1 connection,
// and relays the response through `down`. Answers 503/502/504 itself on failures.
boost::asio::awaitable<void> ForwardGeneric(listener::Worker& worker, const Plan& plan,
                                            boost::beast::http::request_header<>& req,
                                            Downstream& down, const ForwardInfo& info);

// Fire-and-forget copies of a request header (requests without a body) to the plan's
// mirror clusters; their responses are read and dropped and never affect the client.
void SpawnMirrors(listener::Worker& worker, const std::shared_ptr<const config::Tables>& tables,
                  const ResponsePlan& plan, const boost::beast::http::request_header<>& req);

// True when requests to `cluster` for `route` go over HTTP/2.
bool UsesHttp2(const config::ClusterTable& cluster, const pb::Route& route);

}  // namespace gatehouse::proxy::http
