// Syntax checks for values that reach the data plane (header names and values,
// paths, methods), so a route with a bad value is reported on the route instead
// of making the proxy reject the whole snapshot.
#pragma once

#include <string_view>

namespace gatehouse::graph {

// An RFC 9110 token (header names).
bool IsHeaderName(std::string_view name);
// No CR, LF or NUL.
bool IsHeaderValue(std::string_view value);
// Starts with '/', no control characters, spaces or '#', valid %-escapes.
bool IsPathValue(std::string_view path);
// One of the HTTP methods the API allows.
bool IsHTTPMethod(std::string_view method);

}  // namespace gatehouse::graph
