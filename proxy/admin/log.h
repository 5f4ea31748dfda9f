// Structured logging for the proxy: one JSON object per line on stderr, so every
// event can be grepped and parsed by the harness and by people alike.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <boost/json/value.hpp>

namespace gatehouse::proxy::log {

enum class Level { kDebug, kInfo, kWarn, kError };

// One key/value of a log line. Constructors for the value types we log keep call
// sites short: {{"version", v}, {"port", 8080}, {"draining", true}}.
struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  Field(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, long long v) : key(k), value(static_cast<int64_t>(v)) {}
  Field(std::string_view k, unsigned v) : key(k), value(static_cast<uint64_t>(v)) {}
  Field(std::string_view k, unsigned long v) : key(k), value(static_cast<uint64_t>(v)) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(static_cast<uint64_t>(v)) {}
  Field(std::string_view k, double v) : key(k), value(v) {}

  std::string_view key;
  boost::json::value value;
};

// Writes {"ts":..., "level":..., "msg": msg, <fields>} and a newline with a single
// write(2), so lines from several threads never interleave.
void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, msg, fields);
}

// Debug lines are dropped unless enabled (GATEHOUSE_DEBUG=1 in the environment).
bool DebugEnabled();
inline void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (DebugEnabled()) Write(Level::kDebug, msg, fields);
}

}  // namespace gatehouse::proxy::log
