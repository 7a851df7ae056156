// The work queue's controller-runtime semantics: dedup, one worker per key, delays, backoff, shutdown.
#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "operator/work_queue.h"
#include "support/fake_clock.h"

using namespace kubert;
using namespace std::chrono_literals;

TEST_CASE("work queue: duplicates collapse and keys come out in order") {
  FakeClock clock;
  WorkQueue q("test", clock);
  q.add("a");
  q.add("b");
  q.add("a");
  CHECK(q.len() == 2);
  CHECK(q.get() == "a");
  CHECK(q.get() == "b");
  CHECK(q.len() == 0);
}

TEST_CASE("work queue: a key added while processing is queued again only at done") {
  FakeClock clock;
  WorkQueue q("test", clock);
  q.add("a");
  REQUIRE(q.get() == "a");
  q.add("a");
  q.add("a");
  CHECK(q.len() == 0);  // no second worker can take it
  CHECK(q.processing_len() == 1);
  q.done("a");
  CHECK(q.len() == 1);
  CHECK(q.get() == "a");
  q.done("a");
  CHECK(q.len() == 0);
}

TEST_CASE("work queue: concurrent workers never process one key at once") {
  RealClock clock;
  WorkQueue q("test", clock);
  // Per key: how many workers hold it right now, and the most ever seen.
  std::atomic<int> in_flight[2] = {0, 0}, max_in_flight{0}, processed{0};
  std::mutex mu;
  std::condition_variable idle;
  std::vector<std::jthread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      while (auto key = q.get()) {
        std::atomic<int>& mine = in_flight[*key == "same" ? 0 : 1];
        const int n = ++mine;
        int m = max_in_flight.load();
        while (n > m && !max_in_flight.compare_exchange_weak(m, n)) {
        }
        std::this_thread::yield();
        --mine;
        ++processed;
        q.done(*key);
        std::lock_guard lock(mu);
        idle.notify_all();
      }
    });
  }
  for (int i = 0; i < 2000; ++i) q.add(i % 2 ? "same" : "other");
  {
    std::unique_lock lock(mu);
    REQUIRE(idle.wait_for(lock, 30s, [&] { return q.len() == 0 && q.processing_len() == 0; }));
  }
  q.shut_down();
  workers.clear();
  CHECK(max_in_flight.load() <= 1);
  CHECK(processed.load() >= 2);
}

TEST_CASE("work queue: add_after waits for the clock") {
  FakeClock clock;
  WorkQueue q("test", clock);
  q.add_after("a", 10s);
  q.add_after("a", 20s);  // the earlier time wins
  CHECK(q.waiting_len() == 1);
  CHECK(q.process_due_for_test() == 0);
  clock.advance(9s);
  CHECK(q.process_due_for_test() == 0);
  CHECK(q.len() == 0);
  clock.advance(1s);
  CHECK(q.process_due_for_test() == 1);
  CHECK(q.len() == 1);
  CHECK(q.get() == "a");
}

TEST_CASE("work queue: add_after with a real clock delivers through the timer thread") {
  RealClock clock;
  WorkQueue q("test", clock);
  q.add_after("a", 20ms);
  auto got = std::async(std::launch::async, [&] { return q.get(); });
  REQUIRE(got.wait_for(30s) == std::future_status::ready);
  CHECK(got.get() == "a");
}

TEST_CASE("work queue: per-key backoff doubles from 5 ms to a 1000 s cap, forget resets it") {
  FakeClock clock;
  WorkQueue q("test", clock);
  CHECK(q.next_backoff_for_test("a") == 5ms);
  q.add_rate_limited("a");
  CHECK(q.num_requeues("a") == 1);
  CHECK(q.next_backoff_for_test("a") == 10ms);
  clock.advance(4ms);
  CHECK(q.process_due_for_test() == 0);
  clock.advance(1ms);
  CHECK(q.process_due_for_test() == 1);
  REQUIRE(q.get() == "a");
  q.done("a");
  q.add_rate_limited("a");
  q.add_rate_limited("a");
  CHECK(q.next_backoff_for_test("a") == 40ms);
  for (int i = 0; i < 40; ++i) q.add_rate_limited("a");
  CHECK(q.next_backoff_for_test("a") == 1'000'000ms);
  CHECK(q.next_backoff_for_test("b") == 5ms);  // per key
  q.forget("a");
  CHECK(q.num_requeues("a") == 0);
  CHECK(q.next_backoff_for_test("a") == 5ms);
}

TEST_CASE("work queue: shut_down releases blocked getters and refuses new work") {
  FakeClock clock;
  WorkQueue q("test", clock);
  auto got = std::async(std::launch::async, [&] { return q.get(); });
  q.shut_down();
  REQUIRE(got.wait_for(30s) == std::future_status::ready);
  CHECK_FALSE(got.get().has_value());
  q.add("a");
  CHECK(q.len() == 0);
  CHECK_FALSE(q.get().has_value());
  CHECK(q.shutting_down());
}
