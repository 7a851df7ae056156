// Token bucket bookkeeping; only acquire() waits, and it waits on a stop-aware condition variable.
#include "operator/rate_limiter.h"

#include <algorithm>
#include <condition_variable>

namespace kubert {

TokenBucket::TokenBucket(double qps, int burst, const Clock& clock)
    : qps_(qps), burst_(std::max(burst, 1)), clock_(clock), tokens_(std::max(burst, 1)), last_(clock.steady()) {}

void TokenBucket::refill_locked(std::chrono::steady_clock::time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min<double>(burst_, tokens_ + elapsed * qps_);
  last_ = now;
}

std::chrono::nanoseconds TokenBucket::reserve() {
  if (qps_ <= 0) return std::chrono::nanoseconds::zero();
  std::lock_guard lock(mu_);
  refill_locked(clock_.steady());
  tokens_ -= 1.0;
  if (tokens_ >= 0) return std::chrono::nanoseconds::zero();
  // The debt is paid back at qps tokens per second.
  return std::chrono::nanoseconds(static_cast<long long>(-tokens_ / qps_ * 1e9));
}

bool TokenBucket::acquire(std::stop_token stop) {
  const auto wait = reserve();
  if (wait <= std::chrono::nanoseconds::zero()) return !stop.stop_requested();
  // Wait on a condition variable so a stop request wakes us at once instead of after the whole wait.
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, wait, [] { return false; });
  return !stop.stop_requested();
}

}  // namespace kubert
