// Structured logs for the controller runtime: one JSON object per line on
// stderr, written with a single write() so lines from different threads and
// child processes never interleave.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace gatehouse::log {

// One key/value of a log line; accepts strings, numbers, bools and JSON values.
struct Field {
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, boost::json::value v) : key(k), value(std::move(v)) {}
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  Field(std::string_view k, T v) : key(k), value(v) {}

  std::string_view key;
  boost::json::value value;
};

// Renders {"ts":...,"level":...,"msg":...,<fields>} (without the newline).
std::string Render(std::string_view level, std::string_view msg,
                   std::initializer_list<Field> fields);

void Info(std::string_view msg, std::initializer_list<Field> fields = {});
void Warn(std::string_view msg, std::initializer_list<Field> fields = {});
void Error(std::string_view msg, std::initializer_list<Field> fields = {});

// Current UTC time as RFC 3339 with seconds precision ("2024-01-02T03:04:05Z"),
// the format Kubernetes uses for condition timestamps.
std::string NowRfc3339();

}  // namespace gatehouse::log
