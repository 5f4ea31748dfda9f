#include "controller/kube/informer.h"

#include <cctype>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/json/parse.hpp>

#include "absl/strings/str_cat.h"
#include "controller/kube/backoff.h"
#include "controller/kube/json_util.h"
#include "controller/source/log.h"

namespace gatehouse::kube {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<void> Sleep(std::chrono::milliseconds d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

std::string ErrorMessage(const HttpResponse& res) {
  json::error_code ec;
  json::value v = json::parse(res.body, ec);
  if (!ec && v.is_object()) {
    std::string_view msg = StringField(v.get_object(), "message");
    if (!msg.empty()) return absl::StrCat(res.status, ": ", std::string(msg));
  }
  return absl::StrCat(res.status, ": ", res.body.substr(0, 200));
}

std::string QueryEscape(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Informer::Informer(KindInfo kind, std::shared_ptr<ApiClient> client, InformerOptions options,
                   Hooks hooks)
    : kind_(std::move(kind)),
      client_(std::move(client)),
      options_(options),
      hooks_(std::move(hooks)) {}

std::string Informer::Key(std::string_view ns, std::string_view name) const {
  return kind_.namespaced ? absl::StrCat(std::string(ns), "/", std::string(name))
                          : std::string(name);
}

std::string Informer::ResourceVersion() const {
  std::lock_guard lock(mu_);
  return resource_version_;
}

void Informer::AppendObjects(std::vector<ObjectPtr>& out) const {
  std::lock_guard lock(mu_);
  for (const auto& [key, obj] : items_) out.push_back(obj);
}

ObjectPtr Informer::Get(std::string_view ns, std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = items_.find(Key(ns, name));
  return it == items_.end() ? nullptr : it->second;
}

size_t Informer::Size() const {
  std::lock_guard lock(mu_);
  return items_.size();
}

void Informer::SetSynced(bool synced) {
  if (synced_.exchange(synced) != synced && hooks_.on_synced) hooks_.on_synced(synced);
}

asio::awaitable<void> Informer::Run() {
  Backoff backoff(options_.backoff_min, options_.backoff_max);
  for (;;) {
    absl::Status listed = co_await List();
    if (!listed.ok()) {
      SetSynced(false);
      const auto wait = backoff.Next();
      log::Warn(
          "list failed",
          {{"resource", kind_.resource}, {"error", listed.ToString()}, {"retry_ms", wait.count()}});
      co_await Sleep(wait);
      continue;
    }
    SetSynced(true);
    for (;;) {
      const WatchEnd end = co_await Watch();
      if (end == WatchEnd::kClean) {
        // A server that ends watches at once must not make us spin.
        if (watch_lines_ == 0) {
          co_await Sleep(backoff.Next());
        } else {
          backoff.Reset();
        }
        continue;
      }
      // Events may have been missed: the cache is not trustworthy for status
      // writes until the relist completes.
      SetSynced(false);
      if (end == WatchEnd::kExpired) {
        log::Info("watch expired, relisting", {{"resource", kind_.resource}});
      } else {
        co_await Sleep(backoff.Next());
      }
      break;
    }
  }
}

asio::awaitable<absl::Status> Informer::List() {
  std::map<std::string, ObjectPtr> items;
  std::string rv;
  std::string cont;
  do {
    std::string target = absl::StrCat(kind_.CollectionPath(), "?limit=", options_.page_size);
    if (!cont.empty()) absl::StrAppend(&target, "&continue=", QueryEscape(cont));
    auto res = co_await client_->Request(boost::beast::http::verb::get, target);
    if (!res.ok()) co_return res.status();
    if (res->status != 200) {
      co_return absl::UnavailableError(
          absl::StrCat("list ", kind_.resource, ": ", ErrorMessage(*res)));
    }
    json::error_code ec;
    json::value v = json::parse(res->body, ec);
    if (ec || !v.is_object()) {
      co_return absl::DataLossError(absl::StrCat("list ", kind_.resource, ": not a JSON object"));
    }
    json::object& list = v.get_object();
    const json::object* meta = ObjectField(list, "metadata");
    rv = meta != nullptr ? std::string(StringField(*meta, "resourceVersion")) : "";
    cont = meta != nullptr ? std::string(StringField(*meta, "continue")) : "";
    auto it = list.find("items");
    if (it == list.end() || !it->value().is_array()) continue;  // `items: null` is an empty list
    for (json::value& item : it->value().get_array()) {
      if (!item.is_object() || MetaField(item.get_object(), "name").empty()) {
        log::Warn("skipping undecodable object", {{"resource", kind_.resource}});
        continue;
      }
      json::object& obj = item.get_object();
      // List items carry no apiVersion/kind; consumers dispatch on them.
      obj["apiVersion"] = kind_.ApiVersion();
      obj["kind"] = kind_.kind;
      const std::string key = Key(MetaField(obj, "namespace"), MetaField(obj, "name"));
      items[key] = std::make_shared<const json::object>(std::move(obj));
    }
  } while (!cont.empty());

  bool changed = false;
  {
    std::lock_guard lock(mu_);
    changed = items.size() != items_.size();
    for (auto a = items.begin(), b = items_.begin(); !changed && a != items.end(); ++a, ++b) {
      changed = a->first != b->first || MetaField(*a->second, "resourceVersion") !=
                                            MetaField(*b->second, "resourceVersion");
    }
    items_.swap(items);
    resource_version_ = rv;
  }
  log::Info("listed", {{"resource", kind_.resource}, {"objects", Size()}, {"resourceVersion", rv}});
  if (changed && hooks_.on_change) hooks_.on_change();
  co_return absl::OkStatus();
}

asio::awaitable<Informer::WatchEnd> Informer::Watch() {
  // Jitter spreads the re-watches of many kinds (client-go: timeout in [T, 2T)).
  std::uniform_int_distribution<long> jitter(0, options_.watch_timeout.count());
  const long timeout = options_.watch_timeout.count() + jitter(rng_);
  const std::string target =
      absl::StrCat(kind_.CollectionPath(), "?watch=1&allowWatchBookmarks=true&resourceVersion=",
                   QueryEscape(ResourceVersion()), "&timeoutSeconds=", timeout);
  watch_lines_ = 0;
  WatchEnd end = WatchEnd::kClean;
  auto on_line = [this, &end](std::string_view line) {
    ++watch_lines_;
    switch (HandleEventLine(line)) {
      case EventResult::kExpired:
        end = WatchEnd::kExpired;
        return false;
      case EventResult::kError:
        end = WatchEnd::kFailed;
        return false;
      default:
        return true;
    }
  };
  // No byte for longer than the server-side timeout plus a margin: a dead peer.
  auto res = co_await client_->Stream(target, on_line, std::chrono::seconds(timeout + 30));
  if (!res.ok()) {
    log::Warn("watch failed", {{"resource", kind_.resource}, {"error", res.status().ToString()}});
    co_return WatchEnd::kFailed;
  }
  if (res->status == 410) co_return WatchEnd::kExpired;
  if (res->status != 200) {
    log::Warn("watch refused", {{"resource", kind_.resource}, {"error", ErrorMessage(*res)}});
    co_return WatchEnd::kFailed;
  }
  co_return end;
}

Informer::EventResult Informer::HandleEventLine(std::string_view line) {
  json::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) {
    log::Warn("bad watch event", {{"resource", kind_.resource}, {"error", "not a JSON object"}});
    return EventResult::kBadLine;
  }
  json::object& event = v.get_object();
  const std::string type(StringField(event, "type"));
  auto it = event.find("object");
  if (it == event.end() || !it->value().is_object()) {
    log::Warn("bad watch event", {{"resource", kind_.resource}, {"error", "no object"}});
    return EventResult::kBadLine;
  }
  json::object& obj = it->value().get_object();

  if (type == "ERROR") {
    // The object is a metav1.Status; 410 means our resourceVersion is too old.
    auto code = obj.find("code");
    const bool gone =
        code != obj.end() && code->value().is_int64() && code->value().get_int64() == 410;
    if (gone) return EventResult::kExpired;
    log::Warn("watch error event",
              {{"resource", kind_.resource}, {"error", std::string(StringField(obj, "message"))}});
    return EventResult::kError;
  }

  const std::string rv(MetaField(obj, "resourceVersion"));
  if (type == "BOOKMARK") {
    if (!rv.empty()) {
      std::lock_guard lock(mu_);
      resource_version_ = rv;
    }
    return EventResult::kBookmark;
  }
  if (type != "ADDED" && type != "MODIFIED" && type != "DELETED") {
    log::Warn("bad watch event", {{"resource", kind_.resource}, {"type", type}});
    return EventResult::kBadLine;
  }
  const std::string_view name = MetaField(obj, "name");
  if (name.empty()) {
    log::Warn("skipping undecodable object", {{"resource", kind_.resource}, {"type", type}});
    if (!rv.empty()) {
      std::lock_guard lock(mu_);
      resource_version_ = rv;
    }
    return EventResult::kBadLine;
  }
  const std::string key = Key(MetaField(obj, "namespace"), name);
  bool applied = false;
  {
    std::lock_guard lock(mu_);
    if (!rv.empty()) resource_version_ = rv;
    auto cur = items_.find(key);
    if (type == "DELETED") {
      applied = cur != items_.end();
      if (applied) items_.erase(cur);
    } else if (cur == items_.end() || MetaField(*cur->second, "resourceVersion") != rv ||
               rv.empty()) {
      obj["apiVersion"] = kind_.ApiVersion();
      obj["kind"] = kind_.kind;
      items_[key] = std::make_shared<const json::object>(std::move(obj));
      applied = true;
    }
  }
  if (!applied) return EventResult::kUnchanged;
  if (hooks_.on_change) hooks_.on_change();
  return EventResult::kApplied;
}

}  // namespace gatehouse::kube
