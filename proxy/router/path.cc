// Request-target parsing and path normalization (see path.h).
#include "proxy/router/path.h"

namespace gatehouse::router {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Bytes that may never appear raw in a path we route.
bool IsForbidden(unsigned char c) { return c <= 0x20 || c == 0x7f || c == '#'; }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// True when `path` (already validated) contains something NormalizePath would change:
// a '%', an empty segment or a dot segment.
bool NeedsRewrite(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    char c = path[i];
    if (c == '%') return true;
    if (c != '/') continue;
    std::string_view rest = path.substr(i + 1);
    if (!rest.empty() && rest[0] == '/') return true;
    if (rest == "." || rest == ".." || rest.substr(0, 2) == "./" || rest.substr(0, 3) == "../") {
      return true;
    }
  }
  return false;
}

// Removes the last segment of `out`, which ends with '/' ("/a/b/" -> "/a/"); keeps "/".
void PopSegment(std::string& out) {
  if (out.size() <= 1) return;
  size_t slash = out.rfind('/', out.size() - 2);
  out.resize(slash + 1);
}

}  // namespace

bool SplitTarget(std::string_view target, TargetParts* parts, std::string_view* error) {
  *parts = TargetParts{};
  std::string_view rest = target;
  if (rest.empty()) {
    *error = "empty request target";
    return false;
  }
  if (rest[0] != '/') {
    size_t scheme_len = 0;
    if (StartsWithNoCase(rest, "http://")) {
      scheme_len = 7;
    } else if (StartsWithNoCase(rest, "https://")) {
      scheme_len = 8;
    } else {
      *error = "request target is not in origin or absolute form";
      return false;
    }
    rest.remove_prefix(scheme_len);
    size_t end = rest.find_first_of("/?#");
    parts->authority = rest.substr(0, end);
    if (parts->authority.empty()) {
      *error = "absolute-form request target without authority";
      return false;
    }
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  if (rest.find('#') != std::string_view::npos) {
    *error = "request target contains a fragment";
    return false;
  }
  size_t q = rest.find('?');
  if (q == std::string_view::npos) {
    parts->path = rest;
  } else {
    parts->path = rest.substr(0, q);
    parts->query = rest.substr(q + 1);
    parts->has_query = true;
  }
  if (parts->path.empty()) {
    if (parts->authority.empty()) {
      *error = "request target has an empty path";
      return false;
    }
    parts->path = "/";  // "http://host?x" means "/?x"
  }
  return true;
}

NormalizedPath NormalizePath(std::string_view raw, std::string& scratch) {
  NormalizedPath result;
  if (raw.empty() || raw[0] != '/') {
    result.error = "path does not start with '/'";
    return result;
  }
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (IsForbidden(c)) {
      result.error = "path contains a forbidden character";
      return result;
    }
    if (c == '%') {
      if (i + 2 >= raw.size() || HexValue(raw[i + 1]) < 0 || HexValue(raw[i + 2]) < 0) {
        result.error = "path contains an invalid percent-encoding";
        return result;
      }
    }
  }
  if (!NeedsRewrite(raw)) {
    result.ok = true;
    result.path = raw;
    return result;
  }

  // Slow path: decode and resolve one segment at a time into `scratch`. Decoding comes
  // before dot-segment removal so "%2E%2E" counts as "..", but "%2F" stays escaped and
  // never becomes a separator.
  scratch.clear();
  scratch.reserve(raw.size() + 1);
  scratch.push_back('/');
  size_t i = 1;
  while (i <= raw.size()) {
    // Decode one segment: raw[i, end) up to the next raw '/'.
    size_t end = raw.find('/', i);
    if (end == std::string_view::npos) end = raw.size();
    bool last = end == raw.size();
    size_t seg_start = scratch.size();
    for (size_t j = i; j < end; ++j) {
      char c = raw[j];
      if (c == '%') {
        int v = HexValue(raw[j + 1]) * 16 + HexValue(raw[j + 2]);
        if (IsUnreserved(static_cast<unsigned char>(v))) {
          scratch.push_back(static_cast<char>(v));
        } else {
          static constexpr char kHex[] = "0123456789ABCDEF";
          scratch.push_back('%');
          scratch.push_back(kHex[v >> 4]);
          scratch.push_back(kHex[v & 15]);
        }
        j += 2;
      } else {
        scratch.push_back(c);
      }
    }
    std::string_view seg(scratch.data() + seg_start, scratch.size() - seg_start);
    if (seg.empty() || seg == ".") {
      scratch.resize(seg_start);
    } else if (seg == "..") {
      scratch.resize(seg_start);
      PopSegment(scratch);
    } else if (!last) {
      scratch.push_back('/');
    }
    i = end + 1;
  }
  result.ok = true;
  result.path = scratch;
  return result;
}

bool PathPrefixMatches(std::string_view prefix, std::string_view path) {
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix == "/" || prefix.empty()) return true;
  if (path.size() < prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

std::string ReplacePathPrefix(std::string_view path, std::string_view prefix,
                              std::string_view replacement) {
  if (!PathPrefixMatches(prefix, path)) return std::string(path);
  while (prefix.size() > 1 && prefix.back() == '/') prefix.remove_suffix(1);
  std::string_view rest = prefix == "/" ? path : path.substr(prefix.size());
  while (replacement.size() > 0 && replacement.back() == '/') replacement.remove_suffix(1);
  // `rest` is empty or starts with '/'; `replacement` is empty or starts with '/' and has
  // no trailing '/', so joining them never doubles a slash.
  std::string out;
  out.reserve(replacement.size() + rest.size() + 1);
  if (!replacement.empty() && replacement[0] != '/') out.push_back('/');
  out.append(replacement);
  out.append(rest);
  if (out.empty()) out.push_back('/');
  return out;
}

}  // namespace gatehouse::router
