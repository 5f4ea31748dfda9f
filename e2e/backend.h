// A tiny HTTP/1.1 test backend for the end-to-end test: answers every request
// with its own name (body and X-Backend header), keeps connections alive, and
// runs on its own thread on a loopback address.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace gatehouse::e2e {

class Backend {
 public:
  Backend(std::string name, std::string address);
  ~Backend();

  // Binds a free port on the address and starts serving.
  bool Start();
  int port() const { return port_; }
  const std::string& address() const { return address_; }
  int requests() const { return requests_.load(); }

 private:
  void Accept();

  std::string name_;
  std::string address_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
};

}  // namespace gatehouse::e2e
