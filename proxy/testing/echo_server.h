// A test upstream on loopback (Beast): answers every request with a JSON echo of what
// it received, counts connections and requests, and can be told to delay, fail, stream
// or close, so proxy tests can observe exactly what crossed the proxy.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace gatehouse::proxy::testing {

// Query parameters the echo server obeys:
//   status=N     answer with status N
//   delay_ms=N   wait N ms before answering
//   chunks=N     stream the body as N chunks, 20 ms apart (Transfer-Encoding: chunked)
//   close=1      close the connection after the response (no Content-Length)
// A request with "Upgrade: websocket" gets 101 and then every byte is echoed back.
// A connection that opens with the HTTP/2 preface is served as h2c (see ServeH2).
class EchoServer {
 public:
  explicit EchoServer(std::string name, std::string address = "127.0.0.1");
  ~EchoServer();

  // Binds (port 0 = any) and serves on a new thread.
  int Start(int port = 0);
  void Stop();

  int port() const { return port_; }
  const std::string& name() const { return name_; }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }
  // Makes the next `n` requests answer `status` (for retry tests).
  void FailNext(int n, int status) {
    fail_status_ = status;
    fail_count_ = n;
  }

 private:
  struct Impl;
  std::string name_;
  std::string address_;
  int port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::atomic<int> fail_count_{0};
  std::atomic<int> fail_status_{0};
  boost::asio::io_context io_{1};
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::thread thread_;
};

}  // namespace gatehouse::proxy::testing
