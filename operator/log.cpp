// Renders log lines (JSON or text), redacts credential-looking fields, and hands them to spdlog.
#include "operator/log.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <stdexcept>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "operator/clock.h"

namespace kubert {

struct Logger::Shared {
  std::shared_ptr<spdlog::logger> out;
  LogFormat format = LogFormat::Text;
  std::atomic<LogLevel> level{LogLevel::Info};
};

namespace {

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
  }
  return "info";
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool secret_name(const std::string& field) {
  const std::string f = lower(field);
  for (const char* word : {"token", "password", "secret", "private"}) {
    if (f.find(word) != std::string::npos) return true;
  }
  auto ends_with = [&](std::string_view suffix) {
    return f.size() >= suffix.size() && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return f == "key" || ends_with("-key") || ends_with("_key") || ends_with("-data") || ends_with("keydata") ||
         f == "authorization";
}

nlohmann::json redact(const nlohmann::json& j) {
  if (!j.is_object()) return j;
  nlohmann::json out = nlohmann::json::object();
  for (auto it = j.begin(); it != j.end(); ++it) {
    out[it.key()] = secret_name(it.key()) ? nlohmann::json("[redacted]") : redact(it.value());
  }
  return out;
}

std::string now_rfc3339_millis() {
  const auto now = RealClock().wall();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::string s = rfc3339(now);  // ends in 'Z'
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03d", static_cast<int>(ms));
  s.insert(s.size() - 1, frac);
  return s;
}

std::shared_ptr<spdlog::logger> make_spdlog(std::shared_ptr<spdlog::sinks::sink> sink) {
  if (!sink) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto out = std::make_shared<spdlog::logger>("kubert", std::move(sink));
  out->set_pattern("%v");  // we render the whole line ourselves
  out->set_level(spdlog::level::trace);
  out->flush_on(spdlog::level::trace);
  return out;
}

}  // namespace

LogLevel parse_log_level(std::string_view s) {
  const std::string l = lower(s);
  if (l == "debug") return LogLevel::Debug;
  if (l == "info") return LogLevel::Info;
  if (l == "warn" || l == "warning") return LogLevel::Warn;
  if (l == "error") return LogLevel::Error;
  throw std::invalid_argument("log level must be debug, info, warn or error, not \"" + std::string(s) + "\"");
}

LogFormat parse_log_format(std::string_view s) {
  if (s == "json") return LogFormat::Json;
  if (s == "text") return LogFormat::Text;
  throw std::invalid_argument("log format must be json or text, not \"" + std::string(s) + "\"");
}

Logger::Logger() : Logger(make("", LogFormat::Text, LogLevel::Info)) {}

Logger Logger::make(std::string name, LogFormat format, LogLevel level, std::shared_ptr<spdlog::sinks::sink> sink) {
  auto shared = std::make_shared<Shared>();
  shared->out = make_spdlog(std::move(sink));
  shared->format = format;
  shared->level = level;
  Logger l(std::move(shared));
  l.name_ = std::move(name);
  return l;
}

Logger Logger::null() {
  static const std::shared_ptr<Shared> shared = [] {
    auto s = std::make_shared<Shared>();
    s->out = make_spdlog(std::make_shared<spdlog::sinks::null_sink_mt>());
    s->level = LogLevel::Error;
    return s;
  }();
  Logger l(shared);
  return l;
}

Logger Logger::with(const nlohmann::json& fields) const {
  Logger l = *this;
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) l.fields_[it.key()] = it.value();
  }
  return l;
}

Logger Logger::named(const std::string& name) const {
  Logger l = *this;
  l.name_ = name_.empty() ? name : name_ + "." + name;
  return l;
}

bool Logger::enabled(LogLevel level) const { return level >= shared_->level.load(); }
void Logger::set_level(LogLevel level) const { shared_->level = level; }

void Logger::debug(std::string_view msg, const nlohmann::json& fields) const { log(LogLevel::Debug, msg, fields); }
void Logger::info(std::string_view msg, const nlohmann::json& fields) const { log(LogLevel::Info, msg, fields); }
void Logger::warn(std::string_view msg, const nlohmann::json& fields) const { log(LogLevel::Warn, msg, fields); }
void Logger::error(std::string_view msg, const nlohmann::json& fields) const { log(LogLevel::Error, msg, fields); }

void Logger::log(LogLevel level, std::string_view msg, const nlohmann::json& fields) const {
  if (!enabled(level)) return;
  shared_->out->info(render(level, msg, fields, true));
}

std::string Logger::format_for_test(LogLevel level, std::string_view msg, const nlohmann::json& fields) const {
  return render(level, msg, fields, false);
}

std::string Logger::render(LogLevel level, std::string_view msg, const nlohmann::json& fields, bool with_ts) const {
  nlohmann::json all = fields_.is_object() ? fields_ : nlohmann::json::object();
  if (fields.is_object()) {
    for (auto it = fields.begin(); it != fields.end(); ++it) all[it.key()] = it.value();
  }
  all = redact(all);
  // Invalid UTF-8 in a message must not throw from a log call.
  constexpr auto replace = nlohmann::json::error_handler_t::replace;
  if (shared_->format == LogFormat::Json) {
    nlohmann::ordered_json line;
    if (with_ts) line["ts"] = now_rfc3339_millis();
    line["level"] = level_name(level);
    if (!name_.empty()) line["logger"] = name_;
    line["msg"] = std::string(msg);
    for (auto it = all.begin(); it != all.end(); ++it) {
      if (!line.contains(it.key())) line[it.key()] = it.value();
    }
    return line.dump(-1, ' ', false, replace);
  }
  std::string out;
  if (with_ts) out = now_rfc3339_millis() + " ";
  std::string lvl = level_name(level);
  std::transform(lvl.begin(), lvl.end(), lvl.begin(), [](unsigned char c) { return std::toupper(c); });
  out += lvl + " ";
  if (!name_.empty()) out += name_ + " ";
  out += std::string(msg);
  for (auto it = all.begin(); it != all.end(); ++it) {
    out += " " + it.key() + "=" + (it.value().is_string() ? it.value().get<std::string>() : it.value().dump(-1, ' ', false, replace));
  }
  return out;
}

}  // namespace kubert
