// Token bucket arithmetic on a fake clock, and acquire() waking on stop.
#include <catch2/catch.hpp>

#include <thread>

#include "operator/rate_limiter.h"

using namespace std::chrono_literals;

namespace {

class StepClock final : public kubert::Clock {
 public:
  std::chrono::system_clock::time_point wall() const override { return std::chrono::system_clock::time_point{} + now_; }
  std::chrono::steady_clock::time_point steady() const override { return std::chrono::steady_clock::time_point{} + now_; }
  void advance(std::chrono::nanoseconds d) { now_ += d; }

 private:
  std::chrono::nanoseconds now_{1h};
};

}  // namespace

TEST_CASE("token bucket lets a burst through, then spaces requests at qps") {
  StepClock clock;
  kubert::TokenBucket bucket(10, 3, clock);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 100ms);  // 4th: one token of debt at 10/s
  CHECK(bucket.reserve() == 200ms);  // 5th waits behind the 4th
  clock.advance(300ms);              // debt of 2 repaid, one token left over
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 100ms);
}

TEST_CASE("token bucket refills up to burst, not beyond") {
  StepClock clock;
  kubert::TokenBucket bucket(1, 2, clock);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 0ns);
  clock.advance(1h);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 0ns);
  CHECK(bucket.reserve() == 1s);
}

TEST_CASE("token bucket with qps <= 0 never waits") {
  StepClock clock;
  kubert::TokenBucket bucket(0, 1, clock);
  for (int i = 0; i < 100; ++i) REQUIRE(bucket.reserve() == 0ns);
}

TEST_CASE("acquire returns false promptly when stop is requested during a wait") {
  StepClock clock;  // never advances: the wait is real time, one hour
  kubert::TokenBucket bucket(1.0 / 3600, 1, clock);
  REQUIRE(bucket.acquire());
  std::stop_source stop;
  const auto start = std::chrono::steady_clock::now();
  std::jthread stopper([&] { stop.request_stop(); });
  CHECK_FALSE(bucket.acquire(stop.get_token()));
  CHECK(std::chrono::steady_clock::now() - start < 30s);
}
