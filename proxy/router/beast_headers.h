// Adapter from boost::beast::http::fields (HTTP/1.1 sessions) to the router's header
// interfaces. Header-only so the router library itself does not depend on Beast.
#ifndef GATEHOUSE_PROXY_ROUTER_BEAST_HEADERS_H_
#define GATEHOUSE_PROXY_ROUTER_BEAST_HEADERS_H_

#include <optional>
#include <string_view>

#include <boost/beast/http/fields.hpp>

#include "proxy/router/headers.h"

namespace gatehouse::router {

// Read-write view of Beast fields (Beast already compares names case-insensitively).
// Works for request and response headers alike (`message.base()` is a `fields`).
class BeastHeaders final : public HeaderMap {
 public:
  explicit BeastHeaders(boost::beast::http::fields& fields) : fields_(fields) {}

  std::optional<std::string_view> Get(std::string_view name) const override {
    auto it = fields_.find(name);
    if (it == fields_.end()) return std::nullopt;
    auto v = it->value();
    return std::string_view(v.data(), v.size());
  }
  void Set(std::string_view name, std::string_view value) override { fields_.set(name, value); }
  void Add(std::string_view name, std::string_view value) override { fields_.insert(name, value); }
  void Remove(std::string_view name) override { fields_.erase(name); }

 private:
  boost::beast::http::fields& fields_;
};

// Read-only view, for matching against a const request.
class ConstBeastHeaders final : public HeaderSource {
 public:
  explicit ConstBeastHeaders(const boost::beast::http::fields& fields) : fields_(fields) {}

  std::optional<std::string_view> Get(std::string_view name) const override {
    auto it = fields_.find(name);
    if (it == fields_.end()) return std::nullopt;
    auto v = it->value();
    return std::string_view(v.data(), v.size());
  }

 private:
  const boost::beast::http::fields& fields_;
};

}  // namespace gatehouse::router

#endif  // GATEHOUSE_PROXY_ROUTER_BEAST_HEADERS_H_
