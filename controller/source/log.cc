#include "controller/source/log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <string>

#include <boost/json/serialize.hpp>

namespace gatehouse::log {
namespace {

std::string TimestampMillis() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ", static_cast<int>(millis));
  return buf;
}

void Emit(std::string_view level, std::string_view msg, std::initializer_list<Field> fields) {
  std::string line = Render(level, msg, fields);
  line.push_back('\n');
  // One write per line; a short write on stderr is not worth a retry loop.
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

}  // namespace

std::string Render(std::string_view level, std::string_view msg,
                   std::initializer_list<Field> fields) {
  boost::json::object o;
  o["ts"] = TimestampMillis();
  o["level"] = level;
  o["msg"] = msg;
  for (const auto& f : fields) o[f.key] = f.value;
  return boost::json::serialize(o);
}

void Info(std::string_view msg, std::initializer_list<Field> fields) { Emit("info", msg, fields); }
void Warn(std::string_view msg, std::initializer_list<Field> fields) { Emit("warn", msg, fields); }
void Error(std::string_view msg, std::initializer_list<Field> fields) {
  Emit("error", msg, fields);
}

std::string NowRfc3339() {
  std::time_t secs = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace gatehouse::log
