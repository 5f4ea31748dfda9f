// Layer-4 listeners: TCP proxying, TLS routed by SNI (passthrough without terminating,
// or terminated and forwarded as plain TCP), and UDP with one upstream socket per client
// address. Backends come from the listener's routes with the same weighted choice as
// HTTP.
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "proxy/listener/worker.h"

namespace gatehouse::proxy::l4 {

// A connection on a TCP listener: piped to a backend of the first L4 route.
void ServeTcp(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime,
              boost::asio::ip::tcp::socket socket);

// A connection on a TLS listener: the ClientHello's SNI picks the TLS route; passthrough
// forwards the raw bytes, terminate decrypts first. No route: closed without an alert.
void ServeTls(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime,
              boost::asio::ip::tcp::socket socket);

// Starts the receive loop of a UDP listener socket (runtime->udp); it ends when the
// socket is closed.
void ServeUdp(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime);

}  // namespace gatehouse::proxy::l4
