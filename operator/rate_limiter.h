// Client-side token bucket (QPS and burst) over an injected Clock, as client-go's flowcontrol limiter.
#pragma once

#include <chrono>
#include <mutex>
#include <stop_token>

#include "operator/clock.h"

namespace kubert {

class TokenBucket {
 public:
  // qps <= 0 disables limiting. burst < 1 is treated as 1. The bucket starts full.
  TokenBucket(double qps, int burst, const Clock& clock);

  // Takes one token now, possibly going into debt, and returns how long the caller must wait before
  // acting (zero if a token was available). Pure bookkeeping: never sleeps, so tests need no sleeps.
  std::chrono::nanoseconds reserve();

  // reserve() then sleep for the wait; returns false (token kept spent) if stop is requested meanwhile.
  bool acquire(std::stop_token stop = {});

  double qps() const noexcept { return qps_; }
  int burst() const noexcept { return burst_; }

 private:
  void refill_locked(std::chrono::steady_clock::time_point now);

  const double qps_;
  const int burst_;
  const Clock& clock_;
  std::mutex mu_;
  double tokens_;  // may go negative: reserved tokens not yet earned
  std::chrono::steady_clock::time_point last_;
};

}  // namespace kubert
