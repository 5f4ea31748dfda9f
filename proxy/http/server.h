// Entry points for HTTP and HTTPS listener connections. A worker's accept loop hands
// each accepted socket here; everything after (TLS, HTTP/1.1 keep-alive, routing,
// forwarding) runs as coroutines on that worker's io_context.
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "proxy/listener/worker.h"

namespace gatehouse::proxy::http {

// A connection on a plaintext HTTP listener.
void ServeHttp(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime,
               boost::asio::ip::tcp::socket socket);

// A connection on an HTTPS listener: the certificate is chosen by SNI from the current
// snapshot; a name that matches no certificate (and no default) closes the connection
// without a TLS alert.
void ServeHttps(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime,
                boost::asio::ip::tcp::socket socket);

}  // namespace gatehouse::proxy::http
