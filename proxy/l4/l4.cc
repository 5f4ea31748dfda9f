#include "proxy/l4/l4.h"

#include <span>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "proxy/admin/log.h"
#include "proxy/listener/client_hello.h"
#include "proxy/router/actions.h"

namespace gatehouse::proxy::l4 {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace pb = ::gatehouse::config::v1;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

void LogCrash(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::Error("l4 session failed with an exception", {{"error", ex.what()}});
  } catch (...) {
  }
}

// The endpoint a weighted backend list picks, or nullptr (invalid, none ready).
const config::EndpointRef* PickEndpoint(
    listener::Worker& worker, const config::Tables& tables,
    const google::protobuf::RepeatedPtrField<pb::WeightedBackend>& backends,
    const config::ClusterTable** cluster_out = nullptr) {
  const pb::WeightedBackend* b = router::ChooseBackend(backends, worker.Random());
  if (router::BackendIsInvalid(b)) return nullptr;
  const config::ClusterTable* cluster = tables.FindCluster(b->cluster());
  if (cluster == nullptr) return nullptr;
  if (cluster_out != nullptr) *cluster_out = cluster;
  return cluster->NextEndpoint(worker.id());
}

// Keeps a tunnel registered with its listener so a drain can close it.
class Tunnel : public listener::Drainable {
 public:
  Tunnel(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime)
      : worker_(worker), runtime_(std::move(runtime)) {
    runtime_->Add(this);
    worker_.stats().l4_sessions_total.Inc();
    worker_.stats().downstream_connections_active.Add(1);
  }
  ~Tunnel() override {
    runtime_->Remove(this);
    worker_.stats().downstream_connections_active.Add(-1);
  }
  // A byte stream has no request boundary to stop at: it runs until the drain timeout.
  void Drain() override {}
  void Abort() override {
    for (auto* s : sockets_) {
      boost::system::error_code ignored;
      s->close(ignored);
    }
  }
  void Track(asio::ip::tcp::socket& s) { sockets_.push_back(&s); }

 private:
  listener::Worker& worker_;
  std::shared_ptr<listener::ListenerRuntime> runtime_;
  std::vector<asio::ip::tcp::socket*> sockets_;
};

// Copies `from` to `to` until EOF, then half-closes `to` so the other side sees the end.
template <class From, class To>
asio::awaitable<void> Pump(From& from, To& to, std::chrono::milliseconds idle) {
  std::unique_ptr<char[]> buf(new char[16 * 1024]);
  while (true) {
    beast::get_lowest_layer(from).expires_after(idle);
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf.get(), 16 * 1024), kTuple);
    if (n > 0) {
      beast::get_lowest_layer(to).expires_after(idle);
      auto [wec, wn] = co_await asio::async_write(to, asio::buffer(buf.get(), n), kTuple);
      if (wec) break;
    }
    if (ec) break;
  }
  boost::system::error_code ignored;
  beast::get_lowest_layer(to).socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

// Connects to `ep` (with TLS when the cluster has a BackendTLSPolicy) and pipes `down`
// (plus `initial` bytes already read from it) both ways.
template <class Down>
asio::awaitable<void> Splice(listener::Worker& worker, Tunnel& tunnel, Down& down,
                             const config::ClusterTable& cluster, const config::EndpointRef& ep,
                             std::span<const char> initial) {
  upstream::ConnectParams params;
  params.key = &ep.pool_key;
  params.endpoint = ep.address;
  params.tls = cluster.tls.get();
  params.tls_config = cluster.proto->has_tls() ? &cluster.proto->tls() : nullptr;
  params.timeout = worker.limits().upstream_connect_timeout;
  auto [ec, conn] = co_await worker.pool().Connect(params);
  if (ec) co_return;
  tunnel.Track(conn->tcp().socket());
  const auto idle = worker.limits().l4_idle_timeout;
  co_await conn->Visit([&](auto& up) -> asio::awaitable<void> {
    if (!initial.empty()) {
      beast::get_lowest_layer(up).expires_after(idle);
      auto [wec, wn] =
          co_await asio::async_write(up, asio::buffer(initial.data(), initial.size()), kTuple);
      if (wec) co_return;
    }
    using namespace asio::experimental::awaitable_operators;
    co_await (Pump(down, up, idle) && Pump(up, down, idle));
  });
  conn->tcp().close();
}

asio::awaitable<void> TcpSession(listener::Worker& worker,
                                 std::shared_ptr<listener::ListenerRuntime> runtime,
                                 asio::ip::tcp::socket socket) {
  Tunnel tunnel(worker, runtime);
  beast::tcp_stream down(std::move(socket));
  tunnel.Track(down.socket());
  auto tables = worker.store().Load();
  const config::ListenerTable* lt = tables ? tables->FindListener(runtime->key()) : nullptr;
  if (lt == nullptr || lt->proto->l4_routes().empty()) co_return;
  // The oldest route wins; the controller puts it first.
  const config::ClusterTable* cluster = nullptr;
  const config::EndpointRef* ep =
      PickEndpoint(worker, *tables, lt->proto->l4_routes(0).backends(), &cluster);
  if (ep == nullptr) co_return;
  co_await Splice(worker, tunnel, down, *cluster, *ep, {});
  down.close();
}

asio::awaitable<void> TlsSession(listener::Worker& worker,
                                 std::shared_ptr<listener::ListenerRuntime> runtime,
                                 asio::ip::tcp::socket socket) {
  Tunnel tunnel(worker, runtime);
  beast::tcp_stream down(std::move(socket));
  tunnel.Track(down.socket());
  beast::flat_buffer hello;
  listener::ClientHello ch;
  down.expires_after(worker.limits().tls_handshake_timeout);
  while (true) {
    auto [ec, n] = co_await down.async_read_some(hello.prepare(4096), kTuple);
    if (ec) co_return;
    hello.commit(n);
    auto data = hello.cdata();
    ch = listener::ParseClientHello(
        std::span<const uint8_t>(static_cast<const uint8_t*>(data.data()), data.size()));
    if (ch.result == listener::ClientHello::Result::kOk) break;
    if (ch.result == listener::ClientHello::Result::kNotTls ||
        hello.size() > listener::kMaxClientHelloBytes)
      co_return;
  }
  auto tables = worker.store().Load();
  const config::ListenerTable* lt = tables ? tables->FindListener(runtime->key()) : nullptr;
  const config::TlsRouteEntry* route = lt != nullptr ? lt->SelectTlsRoute(ch.sni) : nullptr;
  const config::ClusterTable* cluster = nullptr;
  const config::EndpointRef* ep =
      route != nullptr ? PickEndpoint(worker, *tables, route->route->backends(), &cluster)
                       : nullptr;
  if (ep == nullptr) {
    // Unknown name (or no usable backend): close, never a TLS alert.
    log::Debug("tls route: no match", {{"sni", ch.sni}, {"listener", runtime->key().ToString()}});
    down.close();
    co_return;
  }
  if (route->route->mode() == pb::TlsRoute::PASSTHROUGH) {
    auto data = hello.cdata();
    co_await Splice(worker, tunnel, down, *cluster, *ep,
                    std::span<const char>(static_cast<const char*>(data.data()), data.size()));
    down.close();
    co_return;
  }
  std::shared_ptr<config::ServerTlsContext> ctx = route->context;
  beast::ssl_stream<beast::tcp_stream> tls(std::move(down), ctx->ctx);
  auto [ec, used] =
      co_await tls.async_handshake(asio::ssl::stream_base::server, hello.data(), kTuple);
  if (ec) {
    worker.stats().tls_handshake_failures.Inc();
    co_return;
  }
  worker.stats().tls_handshakes.Inc();
  hello.consume(used);
  auto rest = hello.cdata();
  co_await Splice(worker, tunnel, tls, *cluster, *ep,
                  std::span<const char>(static_cast<const char*>(rest.data()), rest.size()));
  beast::get_lowest_layer(tls).close();
}

// ---- UDP --------------------------------------------------------------------------------

// One client address's flow: an upstream socket connected to the chosen endpoint.
struct UdpFlow {
  explicit UdpFlow(asio::io_context& io) : upstream(io) {}
  asio::ip::udp::socket upstream;
  Clock::time_point last_active;
  bool closed = false;
};

struct EndpointHash {
  size_t operator()(const asio::ip::udp::endpoint& ep) const {
    return std::hash<std::string>()(ep.address().to_string()) ^ ep.port();
  }
};

asio::awaitable<void> UdpReplies(listener::Worker& worker,
                                 std::shared_ptr<listener::ListenerRuntime> runtime,
                                 std::shared_ptr<UdpFlow> flow, asio::ip::udp::endpoint client) {
  std::unique_ptr<char[]> buf(new char[65536]);
  while (!flow->closed) {
    auto [ec, n] = co_await flow->upstream.async_receive(asio::buffer(buf.get(), 65536), kTuple);
    if (ec) break;
    flow->last_active = Clock::now();
    if (!runtime->udp || !runtime->udp->is_open()) break;
    boost::system::error_code ignored;
    runtime->udp->send_to(asio::buffer(buf.get(), n), client, 0, ignored);
  }
}

// The flows of one UDP listener socket, shared with its idle sweeper.
struct UdpState {
  explicit UdpState(asio::io_context& io) : sweeper(io) {}
  std::unordered_map<asio::ip::udp::endpoint, std::shared_ptr<UdpFlow>, EndpointHash> flows;
  asio::steady_timer sweeper;
  bool stopped = false;

  void CloseIdle(Clock::time_point now, std::chrono::milliseconds idle) {
    for (auto it = flows.begin(); it != flows.end();) {
      if (now - it->second->last_active > idle) {
        it->second->closed = true;
        boost::system::error_code ignored;
        it->second->upstream.close(ignored);
        it = flows.erase(it);
      } else {
        ++it;
      }
    }
  }
};

asio::awaitable<void> UdpSweep(std::shared_ptr<UdpState> state, std::chrono::milliseconds idle) {
  while (!state->stopped) {
    state->sweeper.expires_after(std::min(idle, std::chrono::milliseconds(1000)));
    auto [ec] = co_await state->sweeper.async_wait(kTuple);
    if (ec || state->stopped) break;
    state->CloseIdle(Clock::now(), idle);
  }
}

asio::awaitable<void> UdpLoop(listener::Worker& worker,
                              std::shared_ptr<listener::ListenerRuntime> runtime) {
  auto state = std::make_shared<UdpState>(worker.io());
  const auto idle = worker.limits().udp_idle_timeout;
  asio::co_spawn(worker.io(), UdpSweep(state, idle), asio::detached);
  std::unique_ptr<char[]> buf(new char[65536]);
  while (runtime->udp && runtime->udp->is_open()) {
    asio::ip::udp::endpoint client;
    auto [ec, n] =
        co_await runtime->udp->async_receive_from(asio::buffer(buf.get(), 65536), client, kTuple);
    if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) break;
    if (ec) continue;
    auto it = state->flows.find(client);
    if (it == state->flows.end()) {
      auto tables = worker.store().Load();
      const config::ListenerTable* lt = tables ? tables->FindListener(runtime->key()) : nullptr;
      if (lt == nullptr || lt->proto->l4_routes().empty()) continue;
      const config::EndpointRef* ep =
          PickEndpoint(worker, *tables, lt->proto->l4_routes(0).backends());
      if (ep == nullptr) continue;
      auto flow = std::make_shared<UdpFlow>(worker.io());
      asio::ip::udp::endpoint target(ep->address.address(), ep->address.port());
      boost::system::error_code cec;
      flow->upstream.open(target.protocol(), cec);
      if (!cec) flow->upstream.connect(target, cec);
      if (cec) continue;
      flow->last_active = Clock::now();
      worker.stats().l4_sessions_total.Inc();
      it = state->flows.emplace(client, flow).first;
      asio::co_spawn(worker.io(), UdpReplies(worker, runtime, flow, client), asio::detached);
    }
    it->second->last_active = Clock::now();
    boost::system::error_code ignored;
    it->second->upstream.send(asio::buffer(buf.get(), n), 0, ignored);
  }
  state->stopped = true;
  state->sweeper.cancel();
  state->CloseIdle(Clock::time_point::max(), std::chrono::milliseconds(0));
}

}  // namespace

void ServeTcp(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime,
              asio::ip::tcp::socket socket) {
  worker.stats().downstream_connections_total.Inc();
  asio::co_spawn(worker.io(), TcpSession(worker, std::move(runtime), std::move(socket)), LogCrash);
}

void ServeTls(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime,
              asio::ip::tcp::socket socket) {
  worker.stats().downstream_connections_total.Inc();
  asio::co_spawn(worker.io(), TlsSession(worker, std::move(runtime), std::move(socket)), LogCrash);
}

void ServeUdp(listener::Worker& worker, std::shared_ptr<listener::ListenerRuntime> runtime) {
  asio::co_spawn(worker.io(), UdpLoop(worker, std::move(runtime)), LogCrash);
}

}  // namespace gatehouse::proxy::l4
