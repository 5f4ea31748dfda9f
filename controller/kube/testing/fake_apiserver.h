// An in-process stand-in for kube-apiserver for tests: plain HTTP or TLS (with
// optional client-certificate or bearer-token auth) on 127.0.0.1, discovery for
// the Gateway API group, paginated lists, watches that speak the real protocol
// (chunked JSON lines: ADDED/MODIFIED/DELETED/BOOKMARK/ERROR, 410 for a
// compacted resourceVersion), status PATCH (merge patch), plain object
// GET/POST/PUT/DELETE, server-side apply (JSON bodies; one field manager's
// previously applied fields are dropped before merging) and equality label
// selectors on lists. Tests can drop connections, end or expire watches and
// make the server fail. Objects are keyed by resource plural ("gateways",
// "services", "leases"); group and version in the URL are not checked.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace gatehouse::kube::testing {

struct FakeApiServerOptions {
  bool tls = false;
  std::string cert_pem;  // server certificate and key (tls)
  std::string key_pem;
  // When set, the TLS handshake requires a client certificate signed by it.
  std::string client_ca_pem;
  // When set, requests without a client certificate need "Bearer <token>".
  std::string token;
  // A watch from a compacted resourceVersion: HTTP 410 (true) or a 200 stream
  // with one ERROR event of code 410 (false; what kube-apiserver does).
  bool expire_with_http_410 = false;
  // Served versions of gateway.networking.k8s.io (each serves every Gateway API
  // resource); empty: the group is not served (404).
  std::vector<std::string> gateway_versions = {"v1"};
  // Resources left out of the Gateway API discovery documents.
  std::vector<std::string> unserved_resources;
  // Port to bind (0: any free port).
  uint16_t port = 0;
};

class FakeApiServer {
 public:
  struct Patch {
    std::string path;
    std::string content_type;
    boost::json::value body;
    int status = 0;  // what the server answered
  };

  explicit FakeApiServer(FakeApiServerOptions options = {});
  ~FakeApiServer();
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:PORT" or "https://..."
  std::string url() const;

  // Creates or replaces an object (its metadata.name/namespace say where),
  // assigns the next resourceVersion and sends ADDED/MODIFIED to watches.
  // Returns the new resourceVersion.
  std::string Put(const std::string& resource, boost::json::object obj);
  void Delete(const std::string& resource, const std::string& ns, const std::string& name);
  // The stored object (empty object if absent).
  boost::json::object Get(const std::string& resource, const std::string& ns,
                          const std::string& name);
  // Several changes delivered to watches as one write (a burst).
  void PutMany(const std::string& resource, std::vector<boost::json::object> objs);

  // Forgets the event history: watches from an older resourceVersion get 410.
  void Compact();
  // Advances the resourceVersion (as writes to other kinds would) and sends a
  // BOOKMARK carrying it to the open watches of `resource`. Returns it.
  std::string Bookmark(const std::string& resource);
  // Sends ERROR 410 on the open watches of `resource` and ends them.
  void ExpireWatches(const std::string& resource);
  // Ends every open watch cleanly (as when timeoutSeconds elapses).
  void EndWatches();
  // Closes every open connection abruptly.
  void DropConnections();
  // Sends one raw line on the open watches of `resource`.
  void SendRawWatchLine(const std::string& resource, const std::string& line);
  // Changes the served Gateway API versions (as installing CRDs does).
  void SetGatewayVersions(std::vector<std::string> versions);
  // Non-zero: every request is answered with this HTTP status (and open
  // watches are dropped). Zero: normal service.
  void SetFailing(int http_status);

  int ListCount(const std::string& resource);
  int WatchCount(const std::string& resource);
  int OpenWatches(const std::string& resource);
  // The resourceVersion parameter of each watch request for `resource`.
  std::vector<std::string> WatchResourceVersions(const std::string& resource);
  std::vector<Patch> Patches();
  // Requests answered 401.
  int Unauthorized();
  // Every request received (including failed ones).
  int Requests();

  // Polls `pred` (on the caller's thread) until true or the deadline; a
  // deadline only bounds how long a failing test waits.
  static bool WaitFor(const std::function<bool()>& pred,
                      std::chrono::milliseconds deadline = std::chrono::seconds(20));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  bool tls_ = false;
};

}  // namespace gatehouse::kube::testing
