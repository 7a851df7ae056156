// Time, injected: only clock.cpp reads the real clocks; tests move a FakeClock.
#pragma once

#include <chrono>
#include <string>

namespace kubert {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point wall() const = 0;    // what users read
  virtual std::chrono::steady_clock::time_point steady() const = 0;  // timeouts, backoff
};

class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point wall() const override;
  std::chrono::steady_clock::time_point steady() const override;
};

// RFC 3339 in UTC with seconds, as Kubernetes writes metav1.Time: "2026-11-26T00:46:10Z".
std::string rfc3339(std::chrono::system_clock::time_point t);
// Parses what rfc3339() writes (and fractional seconds); throws std::invalid_argument otherwise.
std::chrono::system_clock::time_point parse_rfc3339(const std::string& s);

}  // namespace kubert
