// The controller's contract: success forgets, errors back off, terminal errors are not retried,
// requeue_after schedules, each reconcile carries an id and a tagged logger.
#include <catch2/catch.hpp>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include "operator/controller.h"
#include "operator/errors.h"
#include "operator/metrics.h"
#include "support/fake_clock.h"

using namespace kubert;
using namespace std::chrono_literals;

TEST_CASE("controller: ObjectKey parses and prints queue keys") {
  CHECK(ObjectKey::parse("ns/name") == ObjectKey{"ns", "name"});
  CHECK(ObjectKey::parse("cluster-wide") == ObjectKey{"", "cluster-wide"});
  CHECK(ObjectKey{"ns", "n"}.str() == "ns/n");
  CHECK(ObjectKey::of(json{{"metadata", {{"namespace", "a"}, {"name", "b"}}}}).str() == "a/b");
}

TEST_CASE("controller: success forgets the key's backoff and counts success") {
  FakeClock clock;
  Metrics metrics;
  WorkQueue q("c", clock, &metrics);
  std::vector<ObjectKey> seen;
  Controller c("c", q, [&](const ObjectKey& k) { seen.push_back(k); return Result{}; }, 1, metrics,
               Logger::null(), clock);
  q.add_rate_limited("ns/a");  // a previous failure
  clock.advance(5ms);
  q.process_due_for_test();
  REQUIRE(c.process_next());
  CHECK(seen == std::vector<ObjectKey>{{"ns", "a"}});
  CHECK(q.num_requeues("ns/a") == 0);
  CHECK(q.len() == 0);
  CHECK(q.waiting_len() == 0);
  CHECK(metrics.render().find("controller_runtime_reconcile_total{controller=\"c\",result=\"success\"} 1") !=
        std::string::npos);
}

TEST_CASE("controller: an error is counted and retried with growing backoff") {
  FakeClock clock;
  Metrics metrics;
  WorkQueue q("c", clock, &metrics);
  int calls = 0;
  Controller c("c", q, [&](const ObjectKey&) -> Result {
    ++calls;
    try {
      throw ApiError(500, "InternalError", "boom", "PATCH", "/x");
    } catch (...) {
      std::throw_with_nested(std::runtime_error("patch thing"));
    }
  }, 1, metrics, Logger::null(), clock);
  q.add("ns/a");
  REQUIRE(c.process_next());
  CHECK(q.num_requeues("ns/a") == 1);
  CHECK(q.len() == 0);
  clock.advance(5ms);
  CHECK(q.process_due_for_test() == 1);
  REQUIRE(c.process_next());
  CHECK(q.num_requeues("ns/a") == 2);
  clock.advance(9ms);
  CHECK(q.process_due_for_test() == 0);  // second retry waits 10 ms
  clock.advance(1ms);
  CHECK(q.process_due_for_test() == 1);
  CHECK(calls == 2);
  const std::string text = metrics.render();
  CHECK(text.find("controller_runtime_reconcile_errors_total{controller=\"c\"} 2") != std::string::npos);
  CHECK(text.find("controller_runtime_reconcile_total{controller=\"c\",result=\"error\"} 2") != std::string::npos);
  CHECK(text.find("workqueue_retries_total{controller=\"c\",name=\"c\"} 2") != std::string::npos);
}

TEST_CASE("controller: a TerminalError is counted, not retried") {
  FakeClock clock;
  Metrics metrics;
  WorkQueue q("c", clock, &metrics);
  Controller c("c", q, [&](const ObjectKey&) -> Result { throw TerminalError("BadSpec", "spec is wrong"); }, 1,
               metrics, Logger::null(), clock);
  q.add("ns/a");
  REQUIRE(c.process_next());
  CHECK(q.num_requeues("ns/a") == 0);
  CHECK(q.waiting_len() == 0);
  CHECK(q.len() == 0);
  CHECK(metrics.render().find("controller_runtime_terminal_reconcile_errors_total{controller=\"c\"} 1") !=
        std::string::npos);
}

TEST_CASE("controller: requeue_after forgets the backoff and schedules the key") {
  FakeClock clock;
  Metrics metrics;
  WorkQueue q("c", clock, &metrics);
  Controller c("c", q, [&](const ObjectKey&) { return Result{30s}; }, 1, metrics, Logger::null(), clock);
  q.add_rate_limited("ns/a");
  clock.advance(5ms);
  q.process_due_for_test();
  REQUIRE(c.process_next());
  CHECK(q.num_requeues("ns/a") == 0);
  CHECK(q.waiting_len() == 1);
  clock.advance(29s);
  CHECK(q.process_due_for_test() == 0);
  clock.advance(1s);
  CHECK(q.process_due_for_test() == 1);
}

TEST_CASE("controller: each reconcile has its own id and a logger tagged with controller, key and id") {
  FakeClock clock;
  Metrics metrics;
  WorkQueue q("c", clock, &metrics);
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  const Logger log = Logger::make("test", LogFormat::Json, LogLevel::Info, sink);
  std::vector<std::string> ids;
  Controller c("meshupgrade", q, [&](const ObjectKey&) {
    ids.push_back(current_reconcile_id());
    reconcile_log().info("inside");
    return Result{};
  }, 1, metrics, log, clock);
  q.add("ns/a");
  REQUIRE(c.process_next());
  q.add("ns/a");
  REQUIRE(c.process_next());
  REQUIRE(ids.size() == 2);
  CHECK(ids[0].size() == 36);
  CHECK(ids[0] != ids[1]);
  CHECK(current_reconcile_id().empty());
  std::istringstream lines(out.str());
  std::string first;
  REQUIRE(std::getline(lines, first));
  const json line = json::parse(first);
  CHECK(line["msg"] == "inside");
  CHECK(line["controller"] == "meshupgrade");
  CHECK(line["namespace"] == "ns");
  CHECK(line["name"] == "a");
  CHECK(line["reconcileID"] == ids[0]);
}

TEST_CASE("controller: run with workers stops on the token after in-flight work") {
  RealClock clock;
  Metrics metrics;
  WorkQueue q("c", clock, &metrics);
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  Controller c("c", q, [&](const ObjectKey&) {
    std::lock_guard lock(mu);
    ++done;
    cv.notify_all();
    return Result{};
  }, 3, metrics, Logger::null(), clock);
  std::stop_source stop;
  std::thread t([&] { c.run(stop.get_token()); });
  for (int i = 0; i < 10; ++i) q.add("ns/" + std::to_string(i));
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 30s, [&] { return done == 10; }));
  }
  stop.request_stop();
  t.join();
  CHECK(q.shutting_down());
  CHECK(metrics.render().find("controller_runtime_max_concurrent_reconciles{controller=\"c\"} 3") != std::string::npos);
}
