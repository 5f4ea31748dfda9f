// Test helpers for the router: snapshot messages from text protos, and a one-call
// Select over a list of request headers.
#ifndef GATEHOUSE_PROXY_ROUTER_TEST_UTIL_H_
#define GATEHOUSE_PROXY_ROUTER_TEST_UTIL_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "gatehouse/config/v1/config.pb.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "proxy/router/headers.h"
#include "proxy/router/router.h"

namespace gatehouse::router::testing {

// Parses a text-format message; fails the test on a syntax error.
template <typename T>
T ParseText(const std::string& text) {
  T msg;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &msg)) << text;
  return msg;
}

// Compiles `listener` text; fails the test when it does not compile.
inline std::shared_ptr<const RouteTable> MustCompile(const std::string& listener_text) {
  auto table = RouteTable::Compile(ParseText<config::v1::Listener>(listener_text));
  EXPECT_TRUE(table.ok()) << table.status();
  return table.ok() ? *table : nullptr;
}

// One request to Select.
struct TestRequest {
  std::string host;
  std::string target = "/";
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string sni;
};

// Owns the storage the Selection's views point into.
struct TestSelection {
  std::string scratch;
  std::vector<std::pair<std::string, std::string>> headers;
  TestRequest request;
  Selection sel;
  // The selected route's name, or "404"/"400"/"421".
  std::string Outcome() const {
    return sel.routed() ? sel.route->name() : std::to_string(sel.HttpStatus());
  }
};

inline std::unique_ptr<TestSelection> SelectFor(const RouteTable& table, TestRequest request) {
  auto out = std::make_unique<TestSelection>();
  out->request = std::move(request);
  out->headers = out->request.headers;
  PairVectorHeaders headers(out->headers);
  Request r;
  r.method = out->request.method;
  r.authority = out->request.host;
  r.target = out->request.target;
  r.sni = out->request.sni;
  out->sel = table.Select(r, headers, out->scratch);
  return out;
}

}  // namespace gatehouse::router::testing

#endif  // GATEHOUSE_PROXY_ROUTER_TEST_UTIL_H_
