// Structured logging over spdlog: a Logger carries fields, writes one JSON object (or a readable line) per call.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace spdlog {
class logger;
namespace sinks {
class sink;
}
}  // namespace spdlog

namespace kubert {

enum class LogLevel { Debug, Info, Warn, Error };
enum class LogFormat { Json, Text };

// "debug", "info", "warn" (or "warning"), "error"; throws std::invalid_argument otherwise.
LogLevel parse_log_level(std::string_view s);
// "json" or "text"; throws std::invalid_argument otherwise.
LogFormat parse_log_format(std::string_view s);

// Cheap to copy; copies share the sink and the level. Fields whose name says token, password, secret or
// key are printed as "[redacted]", so a careless caller cannot leak credentials.
class Logger {
 public:
  Logger();  // text, info, to stderr
  // name: the "logger" field. sink: where lines go (nullptr: stderr).
  static Logger make(std::string name, LogFormat format, LogLevel level,
                     std::shared_ptr<spdlog::sinks::sink> sink = nullptr);
  static Logger null();  // discards everything

  Logger with(const nlohmann::json& fields) const;  // adds (or overrides) fields on every line
  Logger named(const std::string& name) const;      // "manager" → "manager.informer"

  void debug(std::string_view msg, const nlohmann::json& fields = {}) const;
  void info(std::string_view msg, const nlohmann::json& fields = {}) const;
  void warn(std::string_view msg, const nlohmann::json& fields = {}) const;
  void error(std::string_view msg, const nlohmann::json& fields = {}) const;

  bool enabled(LogLevel level) const;
  void set_level(LogLevel level) const;  // shared by every copy

  // The line that would be written (without the timestamp in text form); exposed for tests.
  std::string format_for_test(LogLevel level, std::string_view msg, const nlohmann::json& fields) const;

 private:
  struct Shared;
  explicit Logger(std::shared_ptr<Shared> shared) : shared_(std::move(shared)), fields_(nlohmann::json::object()) {}
  void log(LogLevel level, std::string_view msg, const nlohmann::json& fields) const;
  std::string render(LogLevel level, std::string_view msg, const nlohmann::json& fields, bool with_ts) const;

  std::shared_ptr<Shared> shared_;
  std::string name_;
  nlohmann::json fields_;
};

}  // namespace kubert
