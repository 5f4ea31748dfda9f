#include "controller/kube/testing/fake_apiserver.h"

#include <openssl/ssl.h>

#include <deque>
#include <future>
#include <list>
#include <map>
#include <optional>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "controller/kube/json_util.h"
#include "controller/kube/kinds.h"

namespace gatehouse::kube::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using boost::system::error_code;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct Watcher {
  explicit Watcher(asio::any_io_executor ex) : wake(ex) {}
  std::string resource;
  std::deque<std::string> out;  // lines to send, each ending in '\n'
  bool end = false;
  bool drop = false;
  asio::steady_timer wake;
  void Notify() { wake.cancel(); }
};

struct Reply {
  int status = 200;
  json::value body;
  std::shared_ptr<Watcher> watch;  // set: stream this watch instead
};

json::object StatusBody(int code, std::string_view reason, std::string_view message) {
  return {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", json::object()},
          {"status", "Failure"}, {"reason", reason},   {"message", message},
          {"code", code}};
}

Reply Error(int code, std::string_view reason, std::string_view message) {
  return Reply{code, StatusBody(code, reason, message), nullptr};
}

// RFC 7386 JSON merge patch.
json::value MergePatch(json::value target, const json::value& patch) {
  if (!patch.is_object()) return patch;
  if (!target.is_object()) target = json::object();
  json::object& t = target.get_object();
  for (const auto& [key, value] : patch.get_object()) {
    if (value.is_null()) {
      t.erase(key);
    } else {
      auto it = t.find(key);
      t[key] = MergePatch(it == t.end() ? json::value() : it->value(), value);
    }
  }
  return target;
}

// Removes from `target` every leaf that `applied` sets: what a field manager
// owned and no longer applies goes away (a simplified server-side apply).
void RemoveApplied(json::object& target, const json::object& applied) {
  for (const auto& [key, value] : applied) {
    auto it = target.find(key);
    if (it == target.end()) continue;
    if (value.is_object() && it->value().is_object() && !value.get_object().empty()) {
      RemoveApplied(it->value().get_object(), value.get_object());
      if (it->value().get_object().empty()) target.erase(key);
    } else {
      target.erase(key);
    }
  }
}

// Equality-based label selectors: "k=v", "k==v", "k!=v", "k", "!k", comma-separated.
bool MatchesSelector(const json::object& obj, std::string_view selector) {
  const json::object* meta = ObjectField(obj, "metadata");
  const json::object* labels = meta != nullptr ? ObjectField(*meta, "labels") : nullptr;
  auto label = [&](const std::string& k) -> std::optional<std::string> {
    if (labels == nullptr) return std::nullopt;
    auto it = labels->find(k);
    if (it == labels->end() || !it->value().is_string()) return std::nullopt;
    return std::string(it->value().get_string());
  };
  size_t start = 0;
  while (start < selector.size()) {
    size_t end = selector.find(',', start);
    if (end == std::string_view::npos) end = selector.size();
    std::string term(selector.substr(start, end - start));
    start = end + 1;
    if (term.empty()) continue;
    if (term[0] == '!') {
      if (label(term.substr(1))) return false;
      continue;
    }
    size_t ne = term.find("!=");
    if (ne != std::string::npos) {
      if (label(term.substr(0, ne)) == term.substr(ne + 2)) return false;
      continue;
    }
    size_t eq = term.find('=');
    if (eq == std::string::npos) {
      if (!label(term)) return false;
      continue;
    }
    std::string value = term.substr(term.find_first_not_of('=', eq));
    if (label(term.substr(0, eq)) != value) return false;
  }
  return true;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string ObjKey(std::string_view ns, std::string_view name) {
  return std::string(ns) + "/" + std::string(name);
}

}  // namespace

struct FakeApiServer::Impl {
  explicit Impl(FakeApiServerOptions o) : opts(std::move(o)), acceptor(ioc) {}

  FakeApiServerOptions opts;
  asio::io_context ioc;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  std::thread thread;

  // Everything below: io thread only.
  int64_t rv = 100;
  int64_t compacted = 0;
  std::map<std::string, std::map<std::string, json::object>> store;
  struct Event {
    int64_t rv;
    std::string resource;
    std::string line;
  };
  std::vector<Event> history;
  std::list<std::shared_ptr<Watcher>> watchers;
  std::map<int, std::function<void()>> conns;
  int next_conn = 0;
  int live_sessions = 0;
  std::map<std::string, int> lists;
  std::map<std::string, int> watches;
  std::map<std::string, std::vector<std::string>> watch_rvs;
  std::vector<Patch> patches;
  // Last applied configuration per resource and object key (one field manager).
  std::map<std::string, std::map<std::string, json::object>> applied;
  int next_uid = 0;
  int unauthorized = 0;
  int requests = 0;
  int failing = 0;

  template <class F>
  auto Call(F f) -> decltype(f()) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto fut = task.get_future();
    asio::post(ioc, std::move(task));
    return fut.get();
  }

  std::string NextRv() { return std::to_string(++rv); }

  void Emit(const std::string& resource, std::string_view type, const json::object& obj) {
    std::string line = json::serialize(json::object{{"type", type}, {"object", obj}}) + "\n";
    history.push_back({rv, resource, line});
    Send(resource, std::move(line));
  }

  void Send(const std::string& resource, std::string line) {
    for (auto& w : watchers) {
      if (w->resource != resource) continue;
      w->out.push_back(line);
      w->Notify();
    }
  }

  void DropAll() {
    for (auto& w : watchers) {
      w->drop = true;
      w->Notify();
    }
    for (auto& [id, close] : conns) close();
  }

  std::string StoreObject(const std::string& resource, json::object obj) {
    json::object& meta = obj["metadata"].is_object() ? obj["metadata"].get_object()
                                                     : obj["metadata"].emplace_object();
    const std::string key = ObjKey(StringField(meta, "namespace"), StringField(meta, "name"));
    auto& objects = store[resource];
    const bool existed = objects.count(key) > 0;
    meta["resourceVersion"] = NextRv();
    objects[key] = obj;
    Emit(resource, existed ? "MODIFIED" : "ADDED", obj);
    return std::string(StringField(meta, "resourceVersion"));
  }

  json::object DiscoveryResources() const {
    json::array resources;
    for (const WatchedKind& k : WatchedKinds()) {
      if (k.group != kGatewayGroup) continue;
      if (std::find(opts.unserved_resources.begin(), opts.unserved_resources.end(), k.resource) !=
          opts.unserved_resources.end()) {
        continue;
      }
      resources.push_back(json::object{{"name", k.resource},
                                       {"kind", k.kind},
                                       {"namespaced", k.namespaced},
                                       {"verbs", json::array{"get", "list", "watch", "patch"}}});
      resources.push_back(json::object{{"name", k.resource + "/status"}, {"kind", k.kind}});
    }
    return {{"kind", "APIResourceList"}, {"resources", std::move(resources)}};
  }

  Reply Handle(const http::request<http::string_body>& req, bool client_cert) {
    ++requests;
    if (failing != 0) return Error(failing, "InternalError", "failing on purpose");
    if (!opts.token.empty() && !client_cert &&
        req[http::field::authorization] != "Bearer " + opts.token) {
      ++unauthorized;
      return Error(401, "Unauthorized", "Unauthorized");
    }
    const std::string target(req.target());
    const size_t q = target.find('?');
    const std::vector<std::string> seg = Split(target.substr(0, q), '/');
    std::map<std::string, std::string> query;
    if (q != std::string::npos) {
      for (const std::string& kv : Split(target.substr(q + 1), '&')) {
        const size_t eq = kv.find('=');
        query[kv.substr(0, eq)] = eq == std::string::npos ? "" : PercentDecode(kv.substr(eq + 1));
      }
    }

    const std::string group(kGatewayGroup);
    if (seg.size() == 2 && seg[0] == "apis" && seg[1] == group) {
      if (opts.gateway_versions.empty()) return Error(404, "NotFound", "no such group");
      json::array versions;
      for (const auto& v : opts.gateway_versions) {
        versions.push_back(json::object{{"groupVersion", group + "/" + v}, {"version", v}});
      }
      return Reply{200,
                   json::object{{"kind", "APIGroup"}, {"name", group}, {"versions", versions}}};
    }
    if (seg.size() == 3 && seg[0] == "apis" && seg[1] == group) {
      const auto& vs = opts.gateway_versions;
      if (std::find(vs.begin(), vs.end(), seg[2]) == vs.end()) {
        return Error(404, "NotFound", "no such version");
      }
      return Reply{200, DiscoveryResources()};
    }

    // /api/v1/... or /apis/<group>/<version>/...
    size_t base = !seg.empty() && seg[0] == "api" ? 2 : 3;
    if (seg.size() <= base) return Error(404, "NotFound", "unknown path");
    std::vector<std::string> rest(seg.begin() + static_cast<long>(base), seg.end());
    std::string ns;
    if (rest.size() >= 3 && rest[0] == "namespaces") {
      ns = rest[1];
      rest.erase(rest.begin(), rest.begin() + 2);
    }
    const std::string resource = rest[0];
    const std::string name = rest.size() > 1 ? rest[1] : "";
    const std::string sub = rest.size() > 2 ? rest[2] : "";
    auto& objects = store[resource];

    if (name.empty() && req.method() == http::verb::get) {
      if (query.count("watch") > 0) return StartWatch(resource, query["resourceVersion"]);
      return List(resource, ns, query);
    }
    if (name.empty() && req.method() == http::verb::post) {
      json::error_code ec;
      json::value v = json::parse(req.body(), ec);
      if (ec || !v.is_object()) return Error(400, "BadRequest", "not JSON");
      json::object obj = v.get_object();
      obj["metadata"].get_object()["namespace"] = ns;
      const std::string key = ObjKey(ns, MetaField(obj, "name"));
      if (objects.count(key) > 0) return Error(409, "AlreadyExists", "already exists");
      StoreObject(resource, obj);
      return Reply{201, objects[key]};
    }
    if (req.method() == http::verb::patch && sub.empty() &&
        req[http::field::content_type] == "application/apply-patch+yaml") {
      return Apply(req, resource, ns, name, query);
    }
    auto it = objects.find(ObjKey(ns, name));
    if (it == objects.end()) return Error(404, "NotFound", "not found");
    if (req.method() == http::verb::delete_ && sub.empty()) {
      json::object gone = it->second;
      objects.erase(it);
      applied[resource].erase(ObjKey(ns, name));
      NextRv();
      Emit(resource, "DELETED", gone);
      return Reply{200, StatusBody(200, "", "deleted")};
    }
    json::object& current = it->second;
    if (req.method() == http::verb::get && sub.empty()) return Reply{200, current};

    json::error_code ec;
    json::value body = json::parse(req.body(), ec);
    if (ec || !body.is_object()) return Error(400, "BadRequest", "not JSON");
    const std::string_view want_rv = MetaField(body.get_object(), "resourceVersion");
    const bool conflict = !want_rv.empty() && want_rv != MetaField(current, "resourceVersion");

    if (req.method() == http::verb::put && sub.empty()) {
      if (conflict) return Error(409, "Conflict", "the object has been modified");
      json::object obj = body.get_object();
      obj["metadata"].get_object()["namespace"] = ns;
      StoreObject(resource, obj);
      return Reply{200, objects[ObjKey(ns, name)]};
    }
    if (req.method() == http::verb::patch && sub == "status") {
      Patch p{target, std::string(req[http::field::content_type]), body, 200};
      Reply reply;
      if (p.content_type != "application/merge-patch+json") {
        reply = Error(415, "UnsupportedMediaType", "want a merge patch");
      } else if (conflict) {
        reply = Error(409, "Conflict", "the object has been modified");
      } else {
        json::object obj = current;
        auto status = body.get_object().find("status");
        if (status != body.get_object().end()) {
          auto cur = obj.find("status");
          json::value merged =
              MergePatch(cur == obj.end() ? json::value() : cur->value(), status->value());
          if (merged.is_null()) {
            obj.erase("status");
          } else {
            obj["status"] = std::move(merged);
          }
        }
        StoreObject(resource, obj);
        reply = Reply{200, objects[ObjKey(ns, name)]};
      }
      p.status = reply.status;
      patches.push_back(std::move(p));
      return reply;
    }
    return Error(405, "MethodNotAllowed", "not supported by the fake");
  }

  Reply Apply(const http::request<http::string_body>& req, const std::string& resource,
              const std::string& ns, const std::string& name,
              std::map<std::string, std::string>& query) {
    json::error_code ec;
    json::value body = json::parse(req.body(), ec);
    Patch p{std::string(req.target()), std::string(req[http::field::content_type]), body, 200};
    Reply reply;
    if (ec || !body.is_object()) {
      reply = Error(400, "BadRequest", "the fake takes JSON apply bodies only");
    } else if (query["fieldManager"].empty()) {
      reply = Error(422, "Invalid", "fieldManager is required for apply");
    } else if (MetaField(body.get_object(), "name") != name ||
               (!ns.empty() && !MetaField(body.get_object(), "namespace").empty() &&
                MetaField(body.get_object(), "namespace") != ns)) {
      reply = Error(400, "BadRequest", "name or namespace differs from the URL");
    } else {
      const std::string key = ObjKey(ns, name);
      auto& objects = store[resource];
      json::object obj;
      if (auto cur = objects.find(key); cur != objects.end()) {
        obj = cur->second;
        if (auto prev = applied[resource].find(key); prev != applied[resource].end()) {
          json::object prev_applied = prev->second;
          // Identity is not released by re-applying.
          prev_applied.erase("apiVersion");
          prev_applied.erase("kind");
          if (auto* m = prev_applied["metadata"].if_object()) {
            m->erase("name");
            m->erase("namespace");
          }
          RemoveApplied(obj, prev_applied);
        }
      } else {
        obj["metadata"] = json::object{{"uid", "uid-" + std::to_string(++next_uid)},
                                       {"creationTimestamp", "2026-01-01T00:00:00Z"}};
      }
      json::value merged = MergePatch(obj, body);
      obj = std::move(merged.get_object());
      obj["metadata"].get_object()["namespace"] = ns;
      applied[resource][key] = body.get_object();
      StoreObject(resource, obj);
      reply = Reply{200, objects[key]};
    }
    p.status = reply.status;
    patches.push_back(std::move(p));
    return reply;
  }

  Reply List(const std::string& resource, const std::string& ns,
             std::map<std::string, std::string>& query) {
    ++lists[resource];
    size_t offset = query.count("continue") ? std::stoul(query["continue"]) : 0;
    size_t limit = query.count("limit") ? std::stoul(query["limit"]) : 0;
    json::array items;
    size_t index = 0;
    bool more = false;
    for (const auto& [key, obj] : store[resource]) {
      if (!ns.empty() && MetaField(obj, "namespace") != ns) continue;
      if (query.count("labelSelector") && !MatchesSelector(obj, query["labelSelector"])) continue;
      if (index++ < offset) continue;
      if (limit > 0 && items.size() == limit) {
        more = true;
        break;
      }
      json::object item = obj;
      // Like kube-apiserver: list items carry no apiVersion/kind.
      item.erase("apiVersion");
      item.erase("kind");
      items.push_back(std::move(item));
    }
    json::object meta{{"resourceVersion", std::to_string(rv)}};
    if (more) meta["continue"] = std::to_string(offset + items.size());
    return Reply{200, json::object{{"kind", "List"},
                                   {"apiVersion", "v1"},
                                   {"metadata", std::move(meta)},
                                   {"items", std::move(items)}}};
  }

  Reply StartWatch(const std::string& resource, const std::string& from) {
    ++watches[resource];
    watch_rvs[resource].push_back(from);
    const int64_t since = from.empty() ? 0 : std::stoll(from);
    auto w = std::make_shared<Watcher>(ioc.get_executor());
    w->resource = resource;
    if (since < compacted) {
      if (opts.expire_with_http_410) return Error(410, "Expired", "too old resource version");
      w->out.push_back(json::serialize(json::object{
                           {"type", "ERROR"},
                           {"object", StatusBody(410, "Expired", "too old resource version")}}) +
                       "\n");
      w->end = true;
      return Reply{200, nullptr, w};
    }
    for (const Event& e : history) {
      if (e.rv > since && e.resource == resource) w->out.push_back(e.line);
    }
    watchers.push_back(w);
    return Reply{200, nullptr, w};
  }

  template <class Stream>
  asio::awaitable<void> StreamWatch(Stream& s, std::shared_ptr<Watcher> w) {
    http::response<http::empty_body> res{http::status::ok, 11};
    res.set(http::field::content_type, "application/json");
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    auto [hec, hn] = co_await http::async_write_header(s, sr, kNoThrow);
    bool ok = !hec;
    while (ok) {
      // Everything queued goes out as one chunk, so a burst arrives together.
      std::string chunk;
      while (!w->out.empty()) {
        chunk += w->out.front();
        w->out.pop_front();
      }
      if (!chunk.empty()) {
        auto [ec, n] =
            co_await asio::async_write(s, http::make_chunk(asio::buffer(chunk)), kNoThrow);
        if (ec) break;
        continue;
      }
      if (w->drop) break;
      if (w->end) {
        co_await asio::async_write(s, http::make_chunk_last(), kNoThrow);
        break;
      }
      w->wake.expires_at(asio::steady_timer::time_point::max());
      co_await w->wake.async_wait(kNoThrow);
    }
    watchers.remove(w);
  }

  template <class Stream>
  asio::awaitable<void> Serve(Stream& s, bool client_cert) {
    beast::flat_buffer buf;
    for (;;) {
      http::request<http::string_body> req;
      auto [ec, n] = co_await http::async_read(s, buf, req, kNoThrow);
      if (ec) co_return;
      Reply reply = Handle(req, client_cert);
      if (reply.watch) {
        co_await StreamWatch(s, reply.watch);
        co_return;
      }
      http::response<http::string_body> res{static_cast<http::status>(reply.status), 11};
      res.set(http::field::content_type, "application/json");
      res.keep_alive(req.keep_alive());
      res.body() = json::serialize(reply.body);
      res.prepare_payload();
      auto [wec, wn] = co_await http::async_write(s, res, kNoThrow);
      if (wec || !res.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> Session(tcp::socket sock) {
    const int id = next_conn++;
    ++live_sessions;
    if (tls) {
      auto stream = std::make_shared<ssl::stream<tcp::socket>>(std::move(sock), *tls);
      conns[id] = [stream] {
        error_code ec;
        stream->lowest_layer().close(ec);
      };
      auto [ec] = co_await stream->async_handshake(ssl::stream_base::server, kNoThrow);
      if (!ec) {
        X509* peer = SSL_get_peer_certificate(stream->native_handle());
        const bool verified = peer != nullptr;  // the handshake verified it
        X509_free(peer);
        co_await Serve(*stream, verified);
      }
    } else {
      auto stream = std::make_shared<tcp::socket>(std::move(sock));
      conns[id] = [stream] {
        error_code ec;
        stream->close(ec);
      };
      co_await Serve(*stream, false);
    }
    conns.erase(id);
    --live_sessions;
  }

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(kNoThrow);
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;
      asio::co_spawn(ioc, Session(std::move(sock)), asio::detached);
    }
  }
};

FakeApiServer::FakeApiServer(FakeApiServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& m = *impl_;
  tls_ = m.opts.tls;
  if (tls_) {
    m.tls.emplace(ssl::context::tls_server);
    m.tls->use_certificate_chain(asio::buffer(m.opts.cert_pem));
    m.tls->use_private_key(asio::buffer(m.opts.key_pem), ssl::context::pem);
    if (!m.opts.client_ca_pem.empty()) {
      m.tls->add_certificate_authority(asio::buffer(m.opts.client_ca_pem));
      m.tls->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
    }
  }
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), m.opts.port);
  m.acceptor.open(ep.protocol());
  m.acceptor.set_option(tcp::acceptor::reuse_address(true));
  m.acceptor.bind(ep);
  m.acceptor.listen();
  port_ = m.acceptor.local_endpoint().port();
  asio::co_spawn(m.ioc, m.Accept(), asio::detached);
  m.thread = std::thread([&m] {
    // Calls are posted here even when no connection is open.
    auto guard = asio::make_work_guard(m.ioc);
    m.ioc.run();
  });
}

FakeApiServer::~FakeApiServer() {
  Impl& m = *impl_;
  m.Call([&m] {
    error_code ec;
    m.acceptor.close(ec);
    m.DropAll();
  });
  // Let every session see its closed socket and finish before the io_context
  // goes away.
  WaitFor([&m] { return m.Call([&m] { return m.live_sessions == 0; }); }, std::chrono::seconds(5));
  m.ioc.stop();
  m.thread.join();
}

std::string FakeApiServer::url() const {
  return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port_);
}

std::string FakeApiServer::Put(const std::string& resource, json::object obj) {
  return impl_->Call([&] { return impl_->StoreObject(resource, std::move(obj)); });
}

void FakeApiServer::PutMany(const std::string& resource, std::vector<json::object> objs) {
  // One posted task: the watch writer runs only after all are queued.
  impl_->Call([&] {
    for (auto& o : objs) impl_->StoreObject(resource, std::move(o));
  });
}

void FakeApiServer::Delete(const std::string& resource, const std::string& ns,
                           const std::string& name) {
  impl_->Call([&] {
    auto& objects = impl_->store[resource];
    auto it = objects.find(ObjKey(ns, name));
    if (it == objects.end()) return;
    json::object obj = std::move(it->second);
    objects.erase(it);
    obj["metadata"].get_object()["resourceVersion"] = impl_->NextRv();
    impl_->Emit(resource, "DELETED", obj);
  });
}

json::object FakeApiServer::Get(const std::string& resource, const std::string& ns,
                                const std::string& name) {
  return impl_->Call([&] {
    auto& objects = impl_->store[resource];
    auto it = objects.find(ObjKey(ns, name));
    return it == objects.end() ? json::object() : it->second;
  });
}

void FakeApiServer::Compact() {
  impl_->Call([&] {
    impl_->compacted = impl_->rv;
    impl_->history.clear();
  });
}

std::string FakeApiServer::Bookmark(const std::string& resource) {
  return impl_->Call([&] {
    const std::string rv = impl_->NextRv();
    impl_->Send(resource, json::serialize(json::object{
                              {"type", "BOOKMARK"},
                              {"object", json::object{{"metadata", {{"resourceVersion", rv}}}}}}) +
                              "\n");
    return rv;
  });
}

void FakeApiServer::ExpireWatches(const std::string& resource) {
  impl_->Call([&] {
    const std::string line =
        json::serialize(
            json::object{{"type", "ERROR"},
                         {"object", StatusBody(410, "Expired", "too old resource version")}}) +
        "\n";
    for (auto& w : impl_->watchers) {
      if (w->resource != resource) continue;
      w->out.push_back(line);
      w->end = true;
      w->Notify();
    }
  });
}

void FakeApiServer::EndWatches() {
  impl_->Call([&] {
    for (auto& w : impl_->watchers) {
      w->end = true;
      w->Notify();
    }
  });
}

void FakeApiServer::DropConnections() {
  impl_->Call([&] { impl_->DropAll(); });
}

void FakeApiServer::SendRawWatchLine(const std::string& resource, const std::string& line) {
  impl_->Call([&] { impl_->Send(resource, line + "\n"); });
}

void FakeApiServer::SetGatewayVersions(std::vector<std::string> versions) {
  impl_->Call([&] { impl_->opts.gateway_versions = std::move(versions); });
}

void FakeApiServer::SetFailing(int http_status) {
  impl_->Call([&] {
    impl_->failing = http_status;
    if (http_status != 0) impl_->DropAll();
  });
}

int FakeApiServer::ListCount(const std::string& resource) {
  return impl_->Call([&] { return impl_->lists[resource]; });
}

int FakeApiServer::WatchCount(const std::string& resource) {
  return impl_->Call([&] { return impl_->watches[resource]; });
}

int FakeApiServer::OpenWatches(const std::string& resource) {
  return impl_->Call([&] {
    int n = 0;
    for (const auto& w : impl_->watchers) n += w->resource == resource ? 1 : 0;
    return n;
  });
}

std::vector<std::string> FakeApiServer::WatchResourceVersions(const std::string& resource) {
  return impl_->Call([&] { return impl_->watch_rvs[resource]; });
}

int FakeApiServer::Requests() {
  return impl_->Call([&] { return impl_->requests; });
}

std::vector<FakeApiServer::Patch> FakeApiServer::Patches() {
  return impl_->Call([&] { return impl_->patches; });
}

int FakeApiServer::Unauthorized() {
  return impl_->Call([&] { return impl_->unauthorized; });
}

bool FakeApiServer::WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace gatehouse::kube::testing
