// Header rules a proxy owes both hops: hop-by-hop fields are not forwarded, the client
// address is appended to X-Forwarded-For, and request shapes that two parsers could
// disagree on (smuggling) are refused.
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

namespace gatehouse::proxy::http {

// Removes Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade (unless
// `keep_upgrade`) and every field the Connection header names. Transfer-Encoding stays:
// the serializer re-frames the body from it.
void RemoveHopByHop(boost::beast::http::fields& fields, bool keep_upgrade);

// Appends `client_ip` to X-Forwarded-For and sets X-Forwarded-Proto.
void SetForwardedHeaders(boost::beast::http::fields& fields, std::string_view client_ip,
                         std::string_view scheme);

// Why a parsed request header must be answered 400 (or nullptr when it is acceptable):
// a Transfer-Encoding whose final coding is not chunked, Transfer-Encoding on an
// HTTP/1.0 request, zero or several Host fields on HTTP/1.1, more than `max_fields`
// fields, or a request-target longer than `max_target`.
const char* RequestShapeError(const boost::beast::http::request_header<>& header, bool chunked,
                              size_t max_fields, size_t max_target);

// Appends the start line, fields and blank line of `header` to `out`, byte for byte what
// Beast's serializer writes. One contiguous head lets a message go out in one write
// without walking Beast's per-field buffer sequence, which costs more than the syscall.
void AppendHead(const boost::beast::http::request_header<>& header, std::string& out);
void AppendHead(const boost::beast::http::response_header<>& header, std::string& out);

// True for "Upgrade: websocket" requests that ask for a connection upgrade.
bool IsWebSocketUpgrade(const boost::beast::http::request_header<>& header);

}  // namespace gatehouse::proxy::http
