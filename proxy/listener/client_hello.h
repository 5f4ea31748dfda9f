// Reads the SNI and ALPN offer out of a TLS ClientHello before any TLS library sees
// the connection. Needed to pick a certificate (or refuse the connection without a TLS
// alert) and to route TLS passthrough connections, which are never terminated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gatehouse::proxy::listener {

struct ClientHello {
  enum class Result {
    kNeedMore,  // the bytes so far are a valid prefix; read more
    kNotTls,    // not a TLS handshake (or malformed)
    kOk,
  };
  Result result = Result::kNeedMore;
  // Lowercased host name from the server_name extension; empty when absent.
  std::string sni;
  // Protocols from the application_layer_protocol_negotiation extension, in order.
  std::vector<std::string> alpn;
};

// The largest prefix this parser will ask for; callers give up beyond it.
inline constexpr size_t kMaxClientHelloBytes = 64 * 1024;

// Parses the start of a connection. The ClientHello may span several TLS records.
ClientHello ParseClientHello(std::span<const uint8_t> data);

}  // namespace gatehouse::proxy::listener
