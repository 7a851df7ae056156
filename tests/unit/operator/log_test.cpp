// Log lines: one JSON object per line with ts, level, logger, msg and fields; text readable; secrets redacted.
#include <catch2/catch.hpp>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include "operator/log.h"

using namespace kubert;

namespace {
struct Capture {
  std::ostringstream out;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream in(out.str());
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
  }
};
}  // namespace

TEST_CASE("log: json lines carry ts, level, logger, msg and every field") {
  Capture cap;
  const Logger log = Logger::make("op", LogFormat::Json, LogLevel::Info, cap.sink).named("ctrl").with({{"a", 1}});
  log.info("hello", {{"b", "two"}});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  const auto j = nlohmann::json::parse(lines[0]);
  CHECK(j["level"] == "info");
  CHECK(j["logger"] == "op.ctrl");
  CHECK(j["msg"] == "hello");
  CHECK(j["a"] == 1);
  CHECK(j["b"] == "two");
  CHECK(j["ts"].get<std::string>().size() == 24);  // 2026-11-26T00:46:10.123Z
}

TEST_CASE("log: levels filter, and set_level applies to every copy") {
  Capture cap;
  const Logger log = Logger::make("op", LogFormat::Json, LogLevel::Warn, cap.sink);
  const Logger child = log.with({{"x", 1}});
  child.info("hidden");
  child.debug("hidden");
  child.warn("shown");
  log.set_level(LogLevel::Debug);
  child.debug("shown too");
  CHECK(cap.lines().size() == 2);
  CHECK(child.enabled(LogLevel::Debug));
}

TEST_CASE("log: text format is one readable line") {
  Capture cap;
  const Logger log = Logger::make("op", LogFormat::Text, LogLevel::Info, cap.sink);
  log.error("it broke", {{"name", "x"}});
  auto lines = cap.lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("ERROR op it broke name=x") != std::string::npos);
}

TEST_CASE("log: fields named like credentials are redacted, nested too") {
  const Logger log = Logger::make("op", LogFormat::Json, LogLevel::Info, nullptr);
  const std::string line = log.format_for_test(
      LogLevel::Info, "m",
      {{"token", "s3cr3t"}, {"client-key-data", "s3cr3t"}, {"password", "s3cr3t"},
       {"cfg", {{"bearerToken", "s3cr3t"}, {"key", "s3cr3t"}}}, {"keep", "visible"}});
  CHECK(line.find("s3cr3t") == std::string::npos);
  CHECK(line.find("visible") != std::string::npos);
}

TEST_CASE("log: level and format names parse; bad ones are rejected") {
  CHECK(parse_log_level("debug") == LogLevel::Debug);
  CHECK(parse_log_level("warning") == LogLevel::Warn);
  CHECK(parse_log_format("text") == LogFormat::Text);
  CHECK_THROWS_AS(parse_log_level("loud"), std::invalid_argument);
  CHECK_THROWS_AS(parse_log_format("xml"), std::invalid_argument);
}
