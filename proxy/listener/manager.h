// Keeps the proxy's sockets in step with the snapshots. Listeners are matched across
// snapshots by (address, port, protocol): an unchanged one keeps its sockets, a new one
// gets one SO_REUSEPORT socket per worker, a removed one stops accepting and its
// connections drain (finish the request in flight) before they are closed.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>

#include "absl/status/status.h"
#include "proxy/config/tables.h"
#include "proxy/listener/worker.h"

namespace gatehouse::proxy::listener {

class ListenerManager {
 public:
  // Called on the worker's thread for every accepted TCP connection.
  using TcpHandler =
      std::function<void(Worker&, std::shared_ptr<ListenerRuntime>, boost::asio::ip::tcp::socket)>;
  // Called on the worker's thread once per UDP listener socket; the handler owns the
  // receive loop and stops when the socket is closed.
  using UdpHandler = std::function<void(Worker&, std::shared_ptr<ListenerRuntime>)>;

  ListenerManager(std::vector<Worker*> workers, TcpHandler tcp, UdpHandler udp);
  ~ListenerManager();

  // Config thread. Opens the sockets `next` adds (bind errors fail the snapshot before it
  // is published; nothing changes then). Must be followed by Commit() or Abandon().
  absl::Status Prepare(const config::Tables& next);
  // Starts accepting on the new sockets and drains the removed listeners.
  void Commit();
  // Closes the sockets Prepare() opened.
  void Abandon();
  // Stops accepting everywhere and drains every connection (process shutdown).
  void Shutdown();

  // Keys currently open (for tests and logs).
  std::vector<config::ListenerKey> OpenKeys() const;

 private:
  struct Open {
    config::ListenerKey key;
    std::vector<int> fds;  // one per worker, handed over at Commit
    std::vector<std::shared_ptr<ListenerRuntime>> runtimes;
  };
  void Drain(std::unique_ptr<Open> open);

  std::vector<Worker*> workers_;
  TcpHandler tcp_;
  UdpHandler udp_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Open>> open_;
  std::vector<std::unique_ptr<Open>> pending_add_;
  std::vector<config::ListenerKey> pending_remove_;
};

}  // namespace gatehouse::proxy::listener
