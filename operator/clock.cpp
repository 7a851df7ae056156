// The real clocks, and RFC 3339 formatting as Kubernetes writes metav1.Time.
#include "operator/clock.h"

#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace kubert {

std::chrono::system_clock::time_point RealClock::wall() const { return std::chrono::system_clock::now(); }
std::chrono::steady_clock::time_point RealClock::steady() const { return std::chrono::steady_clock::now(); }

std::string rfc3339(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::chrono::system_clock::time_point parse_rfc3339(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    throw std::invalid_argument("not an RFC 3339 time: \"" + s + "\"");
  }
  std::size_t pos = static_cast<std::size_t>(consumed);
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
  }
  if (pos >= s.size() || (s[pos] != 'Z' && s[pos] != 'z') || pos + 1 != s.size()) {
    throw std::invalid_argument("not an RFC 3339 UTC time: \"" + s + "\"");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace kubert
