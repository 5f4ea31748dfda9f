// Header access for the routing engine: small interfaces the HTTP/1.1 (Beast) and HTTP/2
// (nghttp2) sessions implement over their own header storage, so matching and header
// filters run without copying the request's headers.
#ifndef GATEHOUSE_PROXY_ROUTER_HEADERS_H_
#define GATEHOUSE_PROXY_ROUTER_HEADERS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::router {

// Read access to a request's (or response's) headers.
class HeaderSource {
 public:
  virtual ~HeaderSource() = default;
  // The first value of header `name`, or nullopt when absent. Names compare
  // case-insensitively; the router always passes them in lowercase, so an implementation
  // over HTTP/2 header lists (already lowercase on the wire) may compare bytes.
  // The view must stay valid until the container is modified.
  virtual std::optional<std::string_view> Get(std::string_view name) const = 0;
};

// Read-write access, used by the header modifier and CORS helpers.
class HeaderMap : public HeaderSource {
 public:
  // Replaces every field named `name` (case-insensitive) by one field with `value`.
  virtual void Set(std::string_view name, std::string_view value) = 0;
  // Appends one more field `name: value`, keeping the existing ones (a recipient that
  // joins them sees "old,new").
  virtual void Add(std::string_view name, std::string_view value) = 0;
  // Removes every field named `name` (case-insensitive). No-op when absent.
  virtual void Remove(std::string_view name) = 0;
};

// Case-insensitive ASCII comparison of header names.
bool HeaderNameEquals(std::string_view a, std::string_view b);

// Adapter over an ordered list of (name, value) pairs, e.g. the headers collected from
// nghttp2's on_header callback. Set/Remove keep the order of the remaining fields; Set
// replaces the first occurrence in place.
class PairVectorHeaders final : public HeaderMap {
 public:
  using Vector = std::vector<std::pair<std::string, std::string>>;
  explicit PairVectorHeaders(Vector& fields) : fields_(fields) {}

  std::optional<std::string_view> Get(std::string_view name) const override;
  void Set(std::string_view name, std::string_view value) override;
  void Add(std::string_view name, std::string_view value) override;
  void Remove(std::string_view name) override;

 private:
  Vector& fields_;
};

// Read-only adapter over any callable `std::optional<std::string_view>(std::string_view)`,
// for callers that keep headers in some other shape. Holds a reference to the callable.
template <typename F>
class FunctionHeaderSource final : public HeaderSource {
 public:
  explicit FunctionHeaderSource(const F& f) : f_(f) {}
  std::optional<std::string_view> Get(std::string_view name) const override { return f_(name); }

 private:
  const F& f_;
};

// A HeaderSource with no headers.
class EmptyHeaders final : public HeaderSource {
 public:
  std::optional<std::string_view> Get(std::string_view) const override { return std::nullopt; }
};

}  // namespace gatehouse::router

#endif  // GATEHOUSE_PROXY_ROUTER_HEADERS_H_
