// A Clock that tests move by hand; thread-safe, and it tells listeners when time jumps.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>

#include "operator/clock.h"

namespace kubert {

class FakeClock final : public kubert::Clock {
 public:
  // A fixed, recognisable start: 2027-01-15T08:00:00Z.
  explicit FakeClock(std::chrono::system_clock::time_point wall = std::chrono::system_clock::from_time_t(1'800'000'000))
      : wall_(wall), steady_(std::chrono::steady_clock::time_point{} + std::chrono::hours(1000)) {}

  std::chrono::system_clock::time_point wall() const override {
    std::lock_guard lock(mu_);
    return wall_;
  }
  std::chrono::steady_clock::time_point steady() const override {
    std::lock_guard lock(mu_);
    return steady_;
  }

  // Moves both clocks forward, then calls every listener (outside the lock, so they may read the clock).
  void advance(std::chrono::nanoseconds d) {
    std::map<int, std::function<void()>> listeners;
    {
      std::lock_guard lock(mu_);
      wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
      steady_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
      listeners = listeners_;
    }
    for (auto& [id, fn] : listeners) fn();
  }

  // Sets the wall clock only (steady time never goes back).
  void set_wall(std::chrono::system_clock::time_point t) {
    std::lock_guard lock(mu_);
    wall_ = t;
  }

  // Called after every advance(); e.g. a work queue's process_due_for_test.
  int add_listener(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    listeners_[next_id_] = std::move(fn);
    return next_id_++;
  }
  void remove_listener(int id) {
    std::lock_guard lock(mu_);
    listeners_.erase(id);
  }

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point wall_;
  std::chrono::steady_clock::time_point steady_;
  std::map<int, std::function<void()>> listeners_;
  int next_id_ = 1;
};

}  // namespace kubert
