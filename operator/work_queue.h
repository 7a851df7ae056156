// A rate-limited work queue with controller-runtime's semantics: dedup, one worker per key, delayed adds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "operator/clock.h"

namespace kubert {

// What a queue reports; implemented by Metrics (workqueue_* families, label name = queue name).
class WorkQueueMetrics {
 public:
  virtual ~WorkQueueMetrics() = default;
  virtual void set_depth(const std::string& queue, std::size_t depth) = 0;
  virtual void inc_adds(const std::string& queue) = 0;
  virtual void inc_retries(const std::string& queue) = 0;
  virtual void observe_queue_duration(const std::string& queue, double seconds) = 0;
  virtual void observe_work_duration(const std::string& queue, double seconds) = 0;
};

class WorkQueue {
 public:
  // Per-key backoff of add_rate_limited: base doubling per failure, capped.
  static constexpr std::chrono::milliseconds kBackoffBase{5};
  static constexpr std::chrono::milliseconds kBackoffCap{1'000'000};

  WorkQueue(std::string name, const Clock& clock, WorkQueueMetrics* metrics = nullptr);
  ~WorkQueue();  // shuts down
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues key unless it is already queued; a key being processed is queued again at done().
  void add(const std::string& key);
  // Queues key once delay has passed on the clock (an earlier pending time for the key wins).
  void add_after(const std::string& key, std::chrono::milliseconds delay);
  // add_after with the key's next backoff: 5 ms, 10 ms, 20 ms, ... up to 1000 s.
  void add_rate_limited(const std::string& key);
  void forget(const std::string& key);  // resets the key's backoff
  int num_requeues(const std::string& key) const;
  std::chrono::milliseconds next_backoff_for_test(const std::string& key) const;

  // Blocks for the next key; nullopt once shut down (queued keys are then dropped: no new work on shutdown).
  std::optional<std::string> get();
  void done(const std::string& key);  // after get(): the key may be handed out again
  void shut_down();
  bool shutting_down() const;

  std::size_t len() const;              // keys ready to be handed out
  std::size_t waiting_len() const;      // keys waiting for their delay
  std::size_t processing_len() const;   // keys handed out and not yet done
  // Moves every delayed key whose time has come on the clock into the queue; for tests on a FakeClock
  // (the timer thread waits in real time). Returns how many moved.
  std::size_t process_due_for_test();
  const std::string& name() const { return name_; }

 private:
  void add_locked(const std::string& key);
  std::size_t move_due_locked();
  void timer_loop(std::stop_token stop);
  void report_depth_locked();

  const std::string name_;
  const Clock& clock_;
  WorkQueueMetrics* metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;             // get() waiters
  std::condition_variable_any timer_cv_;   // the timer thread
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_;       // queued or to be re-queued at done()
  std::unordered_set<std::string> processing_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> added_at_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> started_at_;
  std::multimap<std::chrono::steady_clock::time_point, std::string> waiting_;
  std::unordered_map<std::string, std::chrono::steady_clock::time_point> waiting_due_;
  std::unordered_map<std::string, int> failures_;
  bool shutting_down_ = false;
  std::jthread timer_;
};

}  // namespace kubert
