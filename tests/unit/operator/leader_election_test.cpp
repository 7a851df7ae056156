// Leader election on a Lease in FakeKubeApi, time moved by FakeClock.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "operator/errors.h"
#include "operator/leader_election.h"
#include "operator/metrics.h"
#include "support/fake_clock.h"
#include "support/fake_kube_api.h"

using namespace kubert;
using namespace std::chrono_literals;

namespace {

LeaderElectionConfig config(const std::string& id) {
  LeaderElectionConfig c;
  c.ns = "osm-system";
  c.name = "meshupgrade-operator";
  c.identity = id;
  return c;
}

json lease_spec(FakeKubeApi& api) {
  auto lease = api.peek({lease_gvr(), "osm-system", "meshupgrade-operator"});
  REQUIRE(lease);
  return (*lease)["spec"];
}

}  // namespace

TEST_CASE("leader election: acquires a missing Lease, then renews it keeping acquireTime") {
  FakeKubeApi api;
  FakeClock clock;
  LeaderElector a(api, clock, config("a"), Logger::null());
  REQUIRE(a.try_acquire_or_renew());
  json spec = lease_spec(api);
  CHECK(spec["holderIdentity"] == "a");
  CHECK(spec["leaseDurationSeconds"] == 15);
  CHECK(spec["leaseTransitions"] == 0);
  const std::string acquired = spec["acquireTime"];
  clock.advance(2s);
  REQUIRE(a.try_acquire_or_renew());
  spec = lease_spec(api);
  CHECK(spec["acquireTime"] == acquired);
  CHECK(spec["renewTime"] != acquired);
  CHECK(api.writes().back().verb == "update");
}

TEST_CASE("leader election: a held Lease blocks others until it expires, then they take over") {
  FakeKubeApi api;
  FakeClock clock;
  LeaderElector a(api, clock, config("a"), Logger::null());
  LeaderElector b(api, clock, config("b"), Logger::null());
  REQUIRE(a.try_acquire_or_renew());
  CHECK_FALSE(b.try_acquire_or_renew());
  clock.advance(14s);
  CHECK_FALSE(b.try_acquire_or_renew());
  clock.advance(2s);  // 16 s without a renewal seen by b
  REQUIRE(b.try_acquire_or_renew());
  json spec = lease_spec(api);
  CHECK(spec["holderIdentity"] == "b");
  CHECK(spec["leaseTransitions"] == 1);
  // a's renewal now finds b's fresh record.
  CHECK_FALSE(a.try_acquire_or_renew());
}

TEST_CASE("leader election: a renewal seen by the waiting candidate restarts its expiry") {
  FakeKubeApi api;
  FakeClock clock;
  LeaderElector a(api, clock, config("a"), Logger::null());
  LeaderElector b(api, clock, config("b"), Logger::null());
  REQUIRE(a.try_acquire_or_renew());
  CHECK_FALSE(b.try_acquire_or_renew());
  clock.advance(10s);
  REQUIRE(a.try_acquire_or_renew());
  CHECK_FALSE(b.try_acquire_or_renew());  // observes the renewal now
  clock.advance(10s);
  CHECK_FALSE(b.try_acquire_or_renew());
}

TEST_CASE("leader election: a conflicting write is a failed attempt, not an error") {
  FakeKubeApi api;
  FakeClock clock;
  LeaderElector a(api, clock, config("a"), Logger::null());
  REQUIRE(a.try_acquire_or_renew());
  api.fail_next("update", ApiError(409, "Conflict", "modified", "PUT", "/leases"));
  CHECK_FALSE(a.try_acquire_or_renew());
  CHECK(a.try_acquire_or_renew());
}

TEST_CASE("leader election: release hands the Lease over at once") {
  FakeKubeApi api;
  FakeClock clock;
  LeaderElector a(api, clock, config("a"), Logger::null());
  LeaderElector b(api, clock, config("b"), Logger::null());
  REQUIRE(a.try_acquire_or_renew());
  CHECK_FALSE(b.try_acquire_or_renew());
  a.release();
  json spec = lease_spec(api);
  CHECK(spec["holderIdentity"] == "");
  CHECK(spec["leaseDurationSeconds"] == 1);
  CHECK(b.try_acquire_or_renew());
}

TEST_CASE("leader election: run leads, reports the metric, and releases on stop without on_stopped_leading") {
  FakeKubeApi api;
  FakeClock clock;
  Metrics metrics;
  LeaderElectionConfig c = config("a");
  c.retry_period = 5ms;
  LeaderElector a(api, clock, c, Logger::null(), &metrics);
  std::promise<void> started, leading_ended;
  bool stopped_called = false;
  std::stop_source stop;
  std::thread t([&] {
    a.run(stop.get_token(),
          [&](std::stop_token token) {
            started.set_value();
            std::mutex mu;
            std::condition_variable_any cv;
            std::unique_lock lock(mu);
            cv.wait(lock, token, [] { return false; });
            leading_ended.set_value();
          },
          [&] { stopped_called = true; });
  });
  REQUIRE(started.get_future().wait_for(30s) == std::future_status::ready);
  CHECK(a.is_leader());
  CHECK(metrics.render().find("leader_election_master_status{name=\"meshupgrade-operator\"} 1") != std::string::npos);
  stop.request_stop();
  t.join();
  CHECK(leading_ended.get_future().wait_for(0s) == std::future_status::ready);
  CHECK_FALSE(stopped_called);
  CHECK_FALSE(a.is_leader());
  CHECK(lease_spec(api)["holderIdentity"] == "");
  CHECK(metrics.render().find("leader_election_master_status{name=\"meshupgrade-operator\"} 0") != std::string::npos);
}

TEST_CASE("leader election: losing the Lease stops the leader's work and calls on_stopped_leading") {
  FakeKubeApi api;
  FakeClock clock;
  LeaderElectionConfig c = config("a");
  c.retry_period = 5ms;
  LeaderElector a(api, clock, c, Logger::null());
  std::promise<void> started, stopped;
  std::stop_source stop;
  std::atomic<bool> work_saw_stop{false};
  std::thread t([&] {
    a.run(stop.get_token(),
          [&](std::stop_token token) {
            started.set_value();
            std::mutex mu;
            std::condition_variable_any cv;
            std::unique_lock lock(mu);
            cv.wait(lock, token, [] { return false; });
            work_saw_stop = true;
          },
          [&] { stopped.set_value(); });
  });
  REQUIRE(started.get_future().wait_for(30s) == std::future_status::ready);
  // Someone else takes the Lease behind our back; our renewals fail from now on.
  std::mutex mu;
  std::condition_variable cv;
  int reads_after_takeover = -1;
  api.before_read = [&](const std::string& verb) {
    std::lock_guard lock(mu);
    if (verb == "get" && reads_after_takeover >= 0) ++reads_after_takeover;
    cv.notify_all();
  };
  json lease = *api.peek({lease_gvr(), "osm-system", "meshupgrade-operator"});
  lease["spec"]["holderIdentity"] = "intruder";
  api.put(lease_gvr(), lease);
  {
    std::unique_lock lock(mu);
    reads_after_takeover = 0;
    // Two reads: the elector has surely seen the intruder's record at least once.
    REQUIRE(cv.wait_for(lock, 30s, [&] { return reads_after_takeover >= 2; }));
  }
  clock.advance(11s);  // past the 10 s renew deadline
  REQUIRE(stopped.get_future().wait_for(30s) == std::future_status::ready);
  t.join();
  CHECK(work_saw_stop);
  CHECK_FALSE(a.is_leader());
  CHECK(lease_spec(api)["holderIdentity"] == "intruder");  // not released: it was not ours
  stop.request_stop();
}
