// OpenSSL contexts built from the PEM material in a snapshot. The proxy builds each
// context once per snapshot version, while validating, so a bad certificate NACKs the
// snapshot and no handshake ever parses PEM.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "absl/status/statusor.h"
#include "gatehouse/config/v1/config.pb.h"

namespace gatehouse::proxy::config {

// Wire-format ALPN list ("\x02h2\x08http/1.1") plus the context it configures; the
// context's ALPN callback points into this object, so they live and die together.
struct ServerTlsContext {
  boost::asio::ssl::context ctx{boost::asio::ssl::context::tls_server};
  std::string alpn_wire;
};

// A server context for one ServerTls entry (or TlsRoute terminate entry): the first
// usable certificate secret, the ALPN protocols offered (default h2, http/1.1), and,
// when `client_ca` is non-null, client-certificate validation.
absl::StatusOr<std::shared_ptr<ServerTlsContext>> MakeServerTlsContext(
    const std::vector<const ::gatehouse::config::v1::Secret*>& certificates,
    const std::vector<std::string>& alpn, const ::gatehouse::config::v1::Secret* client_ca,
    bool allow_insecure_fallback);

// A client context for connections to an upstream cluster with TLS (BackendTLSPolicy).
// Verification of the peer name happens per connection (see upstream/), so this only
// holds trust anchors, the client certificate and ALPN.
absl::StatusOr<std::shared_ptr<boost::asio::ssl::context>> MakeUpstreamTlsContext(
    const ::gatehouse::config::v1::UpstreamTls& tls, const ::gatehouse::config::v1::Secret* ca,
    const ::gatehouse::config::v1::Secret* client_certificate);

// Encodes ALPN protocol names into the length-prefixed wire format.
std::string AlpnWire(const std::vector<std::string>& protocols);

}  // namespace gatehouse::proxy::config
