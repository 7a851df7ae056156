// WorkQueue: dirty/processing sets for dedup and exclusivity, a delay heap served by one timer thread.
#include "operator/work_queue.h"

namespace kubert {
namespace {
double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

WorkQueue::WorkQueue(std::string name, const Clock& clock, WorkQueueMetrics* metrics)
    : name_(std::move(name)), clock_(clock), metrics_(metrics),
      timer_([this](std::stop_token stop) { timer_loop(stop); }) {}

WorkQueue::~WorkQueue() {
  shut_down();
  timer_.request_stop();
  timer_cv_.notify_all();
}

void WorkQueue::report_depth_locked() {
  if (metrics_) metrics_->set_depth(name_, queue_.size());
}

void WorkQueue::add_locked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key)) return;
  if (metrics_) metrics_->inc_adds(name_);
  dirty_.insert(key);
  added_at_.emplace(key, clock_.steady());
  if (processing_.count(key)) return;  // done() queues it again
  queue_.push_back(key);
  report_depth_locked();
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mu_);
  add_locked(key);
}

void WorkQueue::add_after(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (delay <= std::chrono::milliseconds::zero()) {
    add_locked(key);
    return;
  }
  const auto due = clock_.steady() + delay;
  auto it = waiting_due_.find(key);
  if (it != waiting_due_.end()) {
    if (it->second <= due) return;
    // An earlier time wins: drop the later entry.
    for (auto w = waiting_.lower_bound(it->second); w != waiting_.end() && w->first == it->second; ++w) {
      if (w->second == key) {
        waiting_.erase(w);
        break;
      }
    }
  }
  waiting_due_[key] = due;
  waiting_.emplace(due, key);
  timer_cv_.notify_all();
}

void WorkQueue::add_rate_limited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return;
    const int n = failures_[key]++;
    delay = kBackoffBase;
    for (int i = 0; i < n && delay < kBackoffCap; ++i) delay *= 2;
    delay = std::min(delay, kBackoffCap);
    if (metrics_) metrics_->inc_retries(name_);
  }
  add_after(key, delay);
}

std::chrono::milliseconds WorkQueue::next_backoff_for_test(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  const int n = it == failures_.end() ? 0 : it->second;
  auto delay = kBackoffBase;
  for (int i = 0; i < n && delay < kBackoffCap; ++i) delay *= 2;
  return std::min(delay, kBackoffCap);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int WorkQueue::num_requeues(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return shutting_down_ || !queue_.empty(); });
  if (shutting_down_) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  const auto now = clock_.steady();
  if (auto it = added_at_.find(key); it != added_at_.end()) {
    if (metrics_) metrics_->observe_queue_duration(name_, seconds_between(it->second, now));
    added_at_.erase(it);
  }
  started_at_[key] = now;
  report_depth_locked();
  return key;
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mu_);
  processing_.erase(key);
  if (auto it = started_at_.find(key); it != started_at_.end()) {
    if (metrics_) metrics_->observe_work_duration(name_, seconds_between(it->second, clock_.steady()));
    started_at_.erase(it);
  }
  if (dirty_.count(key) && !shutting_down_) {
    queue_.push_back(key);
    report_depth_locked();
    cv_.notify_one();
  }
}

void WorkQueue::shut_down() {
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
  }
  cv_.notify_all();
  timer_cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::size_t WorkQueue::waiting_len() const {
  std::lock_guard lock(mu_);
  return waiting_.size();
}

std::size_t WorkQueue::processing_len() const {
  std::lock_guard lock(mu_);
  return processing_.size();
}

std::size_t WorkQueue::move_due_locked() {
  const auto now = clock_.steady();
  std::size_t moved = 0;
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    const std::string key = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    waiting_due_.erase(key);
    add_locked(key);
    ++moved;
  }
  return moved;
}

std::size_t WorkQueue::process_due_for_test() {
  std::lock_guard lock(mu_);
  return move_due_locked();
}

void WorkQueue::timer_loop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested() && !shutting_down_) {
    move_due_locked();
    if (waiting_.empty()) {
      timer_cv_.wait(lock, stop, [this] { return shutting_down_ || !waiting_.empty(); });
    } else {
      // Waits in real time for the clock's remaining delay; an earlier add_after wakes us to recompute.
      const auto remaining = waiting_.begin()->first - clock_.steady();
      const auto first = waiting_.begin()->first;
      timer_cv_.wait_for(lock, stop, remaining, [this, first] {
        return shutting_down_ || waiting_.empty() || waiting_.begin()->first < first;
      });
    }
  }
}

}  // namespace kubert
