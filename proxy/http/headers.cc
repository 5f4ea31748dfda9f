#include "proxy/http/headers.h"

#include <string>
#include <vector>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>

namespace gatehouse::proxy::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

void RemoveHopByHop(bhttp::fields& fields, bool keep_upgrade) {
  auto conn = fields.find(bhttp::field::connection);
  if (conn != fields.end()) {
    // Fields named by Connection are hop-by-hop too (RFC 9110 7.6.1).
    std::vector<std::string> named;
    for (auto token : bhttp::token_list(conn->value())) {
      if (keep_upgrade && beast::iequals(token, "upgrade")) continue;
      named.emplace_back(token);
    }
    for (const auto& n : named) {
      if (!beast::iequals(n, "transfer-encoding") && !beast::iequals(n, "content-length")) {
        fields.erase(n);
      }
    }
  }
  if (!keep_upgrade) {
    fields.erase(bhttp::field::connection);
    fields.erase(bhttp::field::upgrade);
  }
  fields.erase(bhttp::field::keep_alive);
  fields.erase(bhttp::field::proxy_connection);
  fields.erase(bhttp::field::te);
  fields.erase(bhttp::field::trailer);
}

void SetForwardedHeaders(bhttp::fields& fields, std::string_view client_ip,
                         std::string_view scheme) {
  auto it = fields.find("X-Forwarded-For");
  if (it == fields.end()) {
    fields.set("X-Forwarded-For", client_ip);
  } else {
    std::string v(it->value());
    v += ", ";
    v += client_ip;
    fields.set("X-Forwarded-For", v);
  }
  fields.set("X-Forwarded-Proto", scheme);
}

const char* RequestShapeError(const bhttp::request_header<>& header, bool chunked,
                              size_t max_fields, size_t max_target) {
  if (header.target().size() > max_target) return "request target too long";
  size_t count = 0;
  size_t hosts = 0;
  bool has_te = false;
  for (const auto& f : header) {
    ++count;
    if (f.name() == bhttp::field::host) ++hosts;
    if (f.name() == bhttp::field::transfer_encoding) has_te = true;
  }
  if (count > max_fields) return "too many header fields";
  if (has_te) {
    // Beast accepts "Transfer-Encoding: gzip" and would then read no body at all, while
    // another hop could read one: refuse anything but a final chunked coding.
    if (!chunked) return "unsupported transfer-encoding";
    if (header.version() < 11) return "transfer-encoding on HTTP/1.0";
  }
  if (header.version() >= 11 && hosts != 1)
    return hosts == 0 ? "missing host" : "multiple host fields";
  if (header.version() < 11 && hosts > 1) return "multiple host fields";
  return nullptr;
}

namespace {

void AppendVersion(unsigned version, std::string& out) {
  const char v[8] = {'H', 'T',
                     'T', 'P',
                     '/', static_cast<char>('0' + version / 10),
                     '.', static_cast<char>('0' + version % 10)};
  out.append(v, sizeof(v));
}

void AppendFields(const bhttp::fields& fields, std::string& out) {
  for (const auto& f : fields) {
    out.append(f.name_string());
    out.append(": ");
    out.append(f.value());
    out.append("\r\n");
  }
  out.append("\r\n");
}

}  // namespace

void AppendHead(const bhttp::request_header<>& header, std::string& out) {
  out.append(header.method_string());
  out.push_back(' ');
  out.append(header.target());
  out.push_back(' ');
  AppendVersion(header.version(), out);
  out.append("\r\n");
  AppendFields(header, out);
}

void AppendHead(const bhttp::response_header<>& header, std::string& out) {
  AppendVersion(header.version(), out);
  const unsigned code = header.result_int();
  const char status[5] = {' ', static_cast<char>('0' + code / 100),
                          static_cast<char>('0' + (code / 10) % 10),
                          static_cast<char>('0' + code % 10), ' '};
  out.append(status, sizeof(status));
  // reason() falls back to the standard phrase when none was set, as the serializer does.
  out.append(header.reason());
  out.append("\r\n");
  AppendFields(header, out);
}

bool IsWebSocketUpgrade(const bhttp::request_header<>& header) {
  auto up = header.find(bhttp::field::upgrade);
  if (up == header.end() || !beast::iequals(up->value(), "websocket")) return false;
  auto conn = header.find(bhttp::field::connection);
  if (conn == header.end()) return false;
  for (auto token : bhttp::token_list(conn->value())) {
    if (beast::iequals(token, "upgrade")) return true;
  }
  return false;
}

}  // namespace gatehouse::proxy::http
