#include "controller/cmd/admin.h"

#include <atomic>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace gatehouse::cmd {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

http::response<http::string_body> Get(int port, const std::string& target,
                                      http::verb verb = http::verb::get) {
  boost::asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  http::request<http::empty_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(socket, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(socket, buffer, res);
  return res;
}

TEST(AdminServerTest, ServesReadinessAndSnapshots) {
  std::atomic<bool> ready{false};
  AdminServer admin("127.0.0.1:0", {.ready = [&] { return ready.load(); },
                                    .snapshots_json = [] { return std::string("{\"a\":1}\n"); }});
  ASSERT_TRUE(admin.Start().ok());
  ASSERT_GT(admin.port(), 0);
  EXPECT_EQ(Get(admin.port(), "/ready").result(), http::status::service_unavailable);
  ready = true;
  EXPECT_EQ(Get(admin.port(), "/ready").result(), http::status::ok);
  auto snaps = Get(admin.port(), "/debug/snapshots");
  EXPECT_EQ(snaps.result(), http::status::ok);
  EXPECT_EQ(snaps.body(), "{\"a\":1}\n");
  EXPECT_EQ(snaps[http::field::content_type], "application/json");
  EXPECT_EQ(Get(admin.port(), "/nope").result(), http::status::not_found);
  EXPECT_EQ(Get(admin.port(), "/ready", http::verb::post).result(),
            http::status::method_not_allowed);
  admin.Stop();
}

TEST(AdminServerTest, RejectsBadListenAddresses) {
  EXPECT_FALSE(AdminServer("127.0.0.1", {}).Start().ok());
  EXPECT_FALSE(AdminServer("nohost:80", {}).Start().ok());
}

}  // namespace
}  // namespace gatehouse::cmd
