// AppendHead must write what Beast's serializer writes: the upstream and the client see
// the same bytes whichever path sent the message.
#include "proxy/http/headers.h"

#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/write.hpp>

namespace gatehouse::proxy::http {
namespace {

namespace bhttp = boost::beast::http;

template <bool isRequest>
std::string BeastHead(const bhttp::header<isRequest>& h) {
  bhttp::message<isRequest, bhttp::empty_body> m(h);
  std::ostringstream os;
  os << m;
  return os.str();
}

template <bool isRequest>
std::string OurHead(const bhttp::header<isRequest>& h) {
  std::string out = "prefix|";
  AppendHead(h, out);
  EXPECT_EQ(out.substr(0, 7), "prefix|");  // appends, never overwrites
  return out.substr(7);
}

TEST(AppendHeadTest, RequestMatchesBeast) {
  bhttp::request_header<> req;
  req.method(bhttp::verb::get);
  req.target("/a/b?x=1&y=%20");
  req.version(11);
  req.set(bhttp::field::host, "example.com:8080");
  req.insert("X-Custom", "one");
  req.insert("X-Custom", "two");
  req.set("x-empty", "");
  EXPECT_EQ(OurHead(req), BeastHead(req));
  EXPECT_EQ(OurHead(req).substr(0, 31), "GET /a/b?x=1&y=%20 HTTP/1.1\r\nHo");

  bhttp::request_header<> custom;
  custom.method_string("PURGE");
  custom.target("*");
  custom.version(10);
  EXPECT_EQ(OurHead(custom), BeastHead(custom));
  EXPECT_EQ(OurHead(custom), "PURGE * HTTP/1.0\r\n\r\n");
}

TEST(AppendHeadTest, ResponseMatchesBeast) {
  bhttp::response_header<> res;
  res.result(bhttp::status::ok);
  res.version(11);
  res.set(bhttp::field::content_length, "13");
  res.set(bhttp::field::server, "upstream");
  EXPECT_EQ(OurHead(res), BeastHead(res));
  EXPECT_EQ(OurHead(res).substr(0, 17), "HTTP/1.1 200 OK\r\n");

  bhttp::response_header<> reason;  // the upstream's own reason phrase is kept
  reason.result(404);
  reason.reason("Nothing Here");
  reason.version(10);
  EXPECT_EQ(OurHead(reason), BeastHead(reason));
  EXPECT_EQ(OurHead(reason), "HTTP/1.0 404 Nothing Here\r\n\r\n");

  bhttp::response_header<> unknown;  // a code without a standard phrase
  unknown.result(599);
  unknown.version(11);
  EXPECT_EQ(OurHead(unknown), BeastHead(unknown));
}

}  // namespace
}  // namespace gatehouse::proxy::http
