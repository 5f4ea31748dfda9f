#include "controller/source/dir_provider.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

#include <boost/json.hpp>

#include "absl/strings/str_cat.h"
#include "controller/resources/yaml.h"
#include "controller/source/log.h"

namespace gatehouse::source {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

bool HasManifestSuffix(std::string_view name) {
  for (std::string_view ext : {".yaml", ".yml", ".json"}) {
    if (name.size() > ext.size() && name.substr(name.size() - ext.size()) == ext) return true;
  }
  return false;
}

// Kinds without a namespace; every other kind defaults to "default" the way
// kubectl apply does.
bool IsClusterScoped(std::string_view kind) {
  static const std::set<std::string_view> kinds = {"GatewayClass",
                                                   "Namespace",
                                                   "Node",
                                                   "PersistentVolume",
                                                   "StorageClass",
                                                   "ClusterRole",
                                                   "ClusterRoleBinding",
                                                   "CustomResourceDefinition",
                                                   "PriorityClass",
                                                   "IngressClass",
                                                   "APIService",
                                                   "ValidatingWebhookConfiguration",
                                                   "MutatingWebhookConfiguration"};
  return kinds.count(kind) > 0;
}

std::string_view StringAt(const json::object& o, std::string_view key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return v->get_string();
  return {};
}

std::string GroupOf(std::string_view api_version) {
  auto slash = api_version.find('/');
  return slash == std::string_view::npos ? "" : std::string(api_version.substr(0, slash));
}

// The object without metadata and status: what a user edit changes.
std::string SpecJson(const json::object& obj) {
  json::object copy = obj;
  copy.erase("metadata");
  copy.erase("status");
  return json::serialize(copy);
}

// Splits parsed documents into objects; `kind: List` documents are flattened.
std::vector<json::object> ObjectsOf(std::vector<json::value> docs, std::string* error) {
  std::vector<json::object> out;
  std::vector<json::value> pending = std::move(docs);
  for (size_t i = 0; i < pending.size(); ++i) {
    json::value& doc = pending[i];
    auto fail = [&](std::string_view why) {
      if (!error->empty()) error->append("; ");
      absl::StrAppend(error, "document ", i + 1, ": ", std::string(why));
    };
    if (!doc.is_object()) {
      fail("not a mapping");
      continue;
    }
    json::object& obj = doc.get_object();
    if (StringAt(obj, "kind") == "List" && obj.contains("items") && obj["items"].is_array()) {
      for (auto& item : obj["items"].get_array()) pending.push_back(std::move(item));
      continue;
    }
    if (StringAt(obj, "apiVersion").empty() || StringAt(obj, "kind").empty()) {
      fail("apiVersion and kind are required");
      continue;
    }
    auto* meta = obj.if_contains("metadata");
    if (!meta || !meta->is_object() || StringAt(meta->get_object(), "name").empty()) {
      fail("metadata.name is required");
      continue;
    }
    if (auto* ns = meta->get_object().if_contains("namespace"); ns && !ns->is_string()) {
      fail("metadata.namespace must be a string");
      continue;
    }
    out.push_back(std::move(obj));
  }
  return out;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
  return ss.str();
}

bool WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return false;
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

ObjectKey KeyOf(const json::object& obj) {
  std::string ns, name;
  if (auto* meta = obj.if_contains("metadata"); meta && meta->is_object()) {
    ns = StringAt(meta->get_object(), "namespace");
    name = StringAt(meta->get_object(), "name");
  }
  return {GroupOf(StringAt(obj, "apiVersion")), std::string(StringAt(obj, "kind")), ns, name};
}

DirProvider::DirProvider(DirOptions options) : options_(std::move(options)) {}

DirProvider::~DirProvider() { Stop(); }

void DirProvider::Start(std::function<void()> on_change) {
  on_change_ = std::move(on_change);
  // Watch before the first read so no change slips between the two.
  if (!options_.force_polling) {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM |
                               IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
    if (inotify_fd_ >= 0 && ::inotify_add_watch(inotify_fd_, options_.dir.c_str(), kMask) < 0) {
      log::Warn("inotify unavailable, polling",
                {{"dir", options_.dir}, {"error", std::strerror(errno)}});
      ::close(inotify_fd_);
      inotify_fd_ = -1;
    }
  }
  LoadStatusFile();
  Rescan();
  log::Info("directory source loaded",
            {{"dir", options_.dir}, {"objects", static_cast<int64_t>(Objects().size())}});
  if (on_change_) on_change_();
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  thread_ = std::thread([this] { WatchLoop(); });
}

void DirProvider::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (wake_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
    (void)ignored;
  }
  if (thread_.joinable()) thread_.join();
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
}

std::vector<ObjectPtr> DirProvider::Objects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_;
}

std::map<std::string, std::string> DirProvider::FileErrors() const {
  std::lock_guard<std::mutex> lock(scan_mu_);
  std::map<std::string, std::string> out;
  for (const auto& [name, state] : files_) {
    if (!state.error.empty()) out[name] = state.error;
  }
  return out;
}

void DirProvider::WatchLoop() {
  int ifd = inotify_fd_;
  auto interval = [&] { return ifd >= 0 ? options_.resync_interval : options_.poll_interval; };
  Clock::time_point next_rescan = Clock::now() + interval();
  bool events = false;  // file events seen since the last rescan
  Clock::time_point first_event, last_event;
  std::set<std::string> open_writes;  // modified but not yet closed

  while (true) {
    Clock::time_point deadline = next_rescan;
    if (events) {
      deadline = last_event + options_.debounce;
      if (!open_writes.empty()) deadline = std::max(deadline, first_event + options_.max_settle);
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {ifd, POLLIN, 0}};
    int rc = ::poll(fds, ifd >= 0 ? 2 : 1, static_cast<int>(std::max<int64_t>(0, wait.count())));
    if (rc < 0 && errno != EINTR) break;
    if (fds[0].revents & POLLIN) break;
    if (ifd >= 0 && (fds[1].revents & POLLIN)) {
      alignas(inotify_event) char buf[16384];
      ssize_t n;
      bool lost = false;
      while ((n = ::read(ifd, buf, sizeof(buf))) > 0) {
        for (char* p = buf; p < buf + n;) {
          auto* ev = reinterpret_cast<inotify_event*>(p);
          std::string name = ev->len > 0 ? std::string(ev->name) : std::string();
          if (ev->mask & IN_MODIFY) open_writes.insert(name);
          if (ev->mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM)) open_writes.erase(name);
          if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) lost = true;
          p += sizeof(inotify_event) + ev->len;
        }
      }
      auto now = Clock::now();
      if (!events) first_event = now;
      events = true;
      last_event = now;
      if (lost) {
        log::Warn("directory watch lost, polling", {{"dir", options_.dir}});
        ::close(ifd);
        ifd = -1;
        next_rescan = now;
      }
    }
    auto now = Clock::now();
    bool settled = events && now >= deadline;
    if (settled || now >= next_rescan) {
      events = false;
      open_writes.clear();
      if (Rescan() && on_change_) on_change_();
      next_rescan = Clock::now() + interval();
    }
  }
  if (ifd >= 0) ::close(ifd);
}

bool DirProvider::Rescan() {
  // Only this function changes files_ (under scan_mu_), so it moves the states
  // of unchanged files over instead of copying every file's content and objects.
  std::lock_guard<std::mutex> scan_lock(scan_mu_);
  std::map<std::string, FileState> next;
  bool files_changed = false;
  if (DIR* d = ::opendir(options_.dir.c_str())) {
    while (dirent* ent = ::readdir(d)) {
      std::string name = ent->d_name;
      // Hidden names cover editor swap files and ConfigMap-mount internals (..data).
      if (name.empty() || name[0] == '.' || !HasManifestSuffix(name)) continue;
      std::string path = options_.dir + "/" + name;
      struct stat st;
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      FileState state;
      if (auto node = files_.extract(name); !node.empty()) {
        state = std::move(node.mapped());
      } else {
        files_changed = true;  // a new file
      }
      int64_t mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
      if (state.size == st.st_size && state.mtime_ns == mtime_ns && state.inode == st.st_ino) {
        next[name] = std::move(state);
        continue;
      }
      state.size = st.st_size;
      state.mtime_ns = mtime_ns;
      state.inode = st.st_ino;
      auto content = ReadFile(path);
      if (!content.ok()) continue;  // vanished between readdir and open
      if (*content != state.content || state.content.empty()) {
        files_changed = true;
        state.content = std::move(*content);
        ++state.version;
        auto docs = resources::YamlToJson(state.content);
        if (docs.ok()) {
          state.error.clear();
          state.objects = ObjectsOf(std::move(*docs), &state.error);
        } else {
          // Keep the file's last good objects: a half-saved file must not
          // withdraw routes that are serving.
          state.error = std::string(docs.status().message());
        }
        if (!state.error.empty()) {
          log::Error("manifest error", {{"file", path}, {"error", state.error}});
        }
      }
      next[name] = std::move(state);
    }
    ::closedir(d);
  }
  if (!files_.empty()) files_changed = true;  // files that are gone
  files_ = std::move(next);
  if (!files_changed) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return RebuildLocked();
}

bool DirProvider::RebuildLocked() {
  // Which file each object comes from (the last file wins a duplicate).
  struct Source {
    const std::string* file;
    const FileState* state;
    const json::object* raw;
  };
  std::map<ObjectKey, Source> merged;
  for (const auto& [name, state] : files_) {
    for (const json::object& raw : state.objects) {
      const json::object& meta = raw.at("metadata").as_object();
      std::string ns;
      if (!IsClusterScoped(StringAt(raw, "kind"))) {
        ns = StringAt(meta, "namespace");
        if (ns.empty()) ns = "default";
      }
      ObjectKey key{GroupOf(StringAt(raw, "apiVersion")), std::string(StringAt(raw, "kind")),
                    std::move(ns), std::string(StringAt(meta, "name"))};
      if (auto it = merged.find(key); it != merged.end()) {
        log::Warn("duplicate object, last file wins",
                  {{"kind", std::get<1>(key)},
                   {"namespace", std::get<2>(key)},
                   {"name", std::get<3>(key)},
                   {"files", json::array{json::string(*it->second.file), json::string(name)}}});
      }
      merged[key] = Source{&name, &state, &raw};
    }
  }

  bool changed = merged.size() != tracked_.size();
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (merged.count(it->first)) {
      ++it;
    } else {
      statuses_.erase(it->first);
      it = tracked_.erase(it);
      changed = true;
    }
  }

  std::vector<ObjectPtr> objects;
  std::vector<ObjectKey> keys;
  objects.reserve(merged.size());
  keys.reserve(merged.size());
  for (auto& [key, src] : merged) {
    auto [it, inserted] = tracked_.try_emplace(key);
    Tracked& t = it->second;
    // Same file at the same version: the object is what it was (status included,
    // WriteStatus keeps `finished` current), so skip the copy and compare.
    if (!inserted && t.finished && t.file == *src.file && t.file_version == src.state->version &&
        t.raw == src.raw) {
      objects.push_back(t.finished);
      keys.push_back(key);
      continue;
    }
    json::object obj = *src.raw;
    json::object& meta = obj["metadata"].as_object();
    // The key holds the effective namespace: none for cluster-scoped kinds, else defaulted.
    if (const std::string& ns = std::get<2>(key); ns.empty()) {
      meta.erase("namespace");
    } else {
      meta["namespace"] = ns;
    }
    std::string spec = SpecJson(obj);
    json::object without_status = obj;
    without_status.erase("status");
    std::string content = json::serialize(without_status);
    if (inserted) {
      t.spec_json = spec;
      t.content_json = content;
      t.generation = 1;
      t.resource_version = std::to_string(++resource_version_counter_);
      t.creation_timestamp = log::NowRfc3339();
      changed = true;
    } else if (t.content_json != content) {
      if (t.spec_json != spec) ++t.generation;
      t.spec_json = spec;
      t.content_json = content;
      t.resource_version = std::to_string(++resource_version_counter_);
      changed = true;
    }
    t.file = *src.file;
    t.file_version = src.state->version;
    t.raw = src.raw;
    t.finished = Finish(std::move(obj), key);
    objects.push_back(t.finished);
    keys.push_back(key);
  }
  objects_ = std::move(objects);
  object_keys_ = std::move(keys);
  key_index_.clear();
  for (size_t i = 0; i < object_keys_.size(); ++i)
    key_index_.emplace_hint(key_index_.end(), object_keys_[i], i);
  return changed;
}

// Fills in what the API server would have set, and the last written status.
ObjectPtr DirProvider::Finish(json::object obj, const ObjectKey& key) {
  const Tracked& t = tracked_.at(key);
  json::object& meta = obj["metadata"].as_object();
  if (!meta.contains("generation")) meta["generation"] = t.generation;
  if (!meta.contains("resourceVersion")) meta["resourceVersion"] = t.resource_version;
  if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = t.creation_timestamp;
  if (!meta.contains("uid")) {
    size_t h = std::hash<std::string>{}(absl::StrCat(std::get<0>(key), "/", std::get<1>(key), "/",
                                                     std::get<2>(key), "/", std::get<3>(key)));
    char uid[32];
    std::snprintf(uid, sizeof(uid), "dir-%016zx", h);
    meta["uid"] = uid;
  }
  if (auto it = statuses_.find(key); it != statuses_.end()) obj["status"] = it->second;
  return std::make_shared<const json::object>(std::move(obj));
}

void DirProvider::LoadStatusFile() {
  if (options_.status_file.empty()) return;
  auto text = ReadFile(options_.status_file);
  if (!text.ok()) return;
  auto docs = resources::YamlToJson(*text);
  if (!docs.ok()) {
    log::Warn("ignoring unreadable status file",
              {{"file", options_.status_file}, {"error", std::string(docs.status().message())}});
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& doc : *docs) {
    if (!doc.is_object() || !doc.get_object().contains("status")) continue;
    statuses_[KeyOf(doc.get_object())] = doc.get_object().at("status");
  }
  last_status_text_ = std::move(*text);
}

void DirProvider::WriteStatus(const std::vector<status::StatusUpdate>& updates) {
  std::string text;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& u : updates) {
      ObjectKey key{GroupOf(u.api_version), u.kind, u.ns, u.name};
      auto at = key_index_.find(key);
      if (at == key_index_.end()) continue;  // deleted since the reconcile read it
      auto current = statuses_.find(key);
      if (current != statuses_.end() && current->second == u.status) continue;
      statuses_[key] = u.status;
      json::object obj = *objects_[at->second];
      obj["status"] = u.status;
      objects_[at->second] = std::make_shared<const json::object>(std::move(obj));
      tracked_[key].finished = objects_[at->second];
    }
    if (options_.status_file.empty()) return;
    for (size_t i = 0; i < object_keys_.size(); ++i) {
      auto st = statuses_.find(object_keys_[i]);
      if (st == statuses_.end()) continue;
      const json::object& obj = *objects_[i];
      json::object meta;
      const json::object& src = obj.at("metadata").as_object();
      if (auto ns = StringAt(src, "namespace"); !ns.empty()) meta["namespace"] = ns;
      meta["name"] = src.at("name");
      json::object doc;
      doc["apiVersion"] = obj.at("apiVersion");
      doc["kind"] = obj.at("kind");
      doc["metadata"] = std::move(meta);
      doc["status"] = st->second;
      if (!text.empty()) text += "---\n";
      text += resources::JsonToYaml(doc);
    }
    if (last_status_text_ && text == *last_status_text_) return;
    last_status_text_ = text;
  }
  if (!WriteFileAtomically(options_.status_file, text)) {
    log::Error("cannot write status file",
               {{"file", options_.status_file}, {"error", std::strerror(errno)}});
    std::lock_guard<std::mutex> lock(mu_);
    last_status_text_.reset();  // retry on the next call
  }
}

}  // namespace gatehouse::source
