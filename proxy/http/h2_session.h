// One downstream HTTP/2 connection (h2c with prior knowledge on HTTP listeners, h2 via
// ALPN on HTTPS listeners). Each request stream is routed like an HTTP/1.1 request and
// served by its own coroutine; streams of one connection share the worker's pools.
#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "proxy/http/http1_session.h"
#include "proxy/listener/worker.h"
#include "proxy/upstream/h2_connection.h"

namespace gatehouse::proxy::http {

// The client connection preface that starts h2c with prior knowledge.
inline constexpr std::string_view kH2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

template <class Stream>
class H2Session : public listener::Drainable,
                  public std::enable_shared_from_this<H2Session<Stream>> {
 public:
  H2Session(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime,
            Stream stream, ConnectionInfo info, boost::beast::flat_buffer initial);
  ~H2Session() override;

  static boost::asio::awaitable<void> Run(std::shared_ptr<H2Session> self);

  // Sends GOAWAY: open streams finish, no new ones start.
  void Drain() override;
  void Abort() override;

 private:
  static boost::asio::awaitable<void> Serve(std::shared_ptr<H2Session> self,
                                            std::shared_ptr<upstream::H2Stream> stream);

  listener::Worker& worker_;
  std::shared_ptr<listener::ListenerRuntime> runtime_;
  Stream stream_;
  ConnectionInfo info_;
  boost::beast::flat_buffer initial_;
  upstream::H2Connection h2_;
  std::shared_ptr<const config::Tables> tables_;
  const config::ListenerTable* listener_ = nullptr;
  std::string scratch_;
};

}  // namespace gatehouse::proxy::http
