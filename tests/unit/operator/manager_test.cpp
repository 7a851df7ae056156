// The Manager end to end on FakeKubeApi: caches, controllers, readiness, leader election, shutdown.
#include <catch2/catch.hpp>

#include <future>

#include "operator/manager.h"
#include "support/fake_clock.h"
#include "support/fake_kube_api.h"

using namespace kubert;
using namespace std::chrono_literals;

namespace {

const Gvr kCm{"", "v1", "configmaps", true};

json cm(const std::string& name) {
  return json{{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", "ns"}}}};
}

ManagerOptions quiet_options() {
  ManagerOptions o;
  o.metrics_bind_address = "0";
  o.health_probe_bind_address = "0";
  return o;
}

struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> keys;
  void add(const std::string& k) {
    std::lock_guard lock(mu);
    keys.push_back(k);
    cv.notify_all();
  }
  bool wait_for(const std::string& k) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 30s, [&] { return std::find(keys.begin(), keys.end(), k) != keys.end(); });
  }
};

}  // namespace

TEST_CASE("manager: caches sync, /readyz turns ready, controllers reconcile, stop returns 0") {
  FakeKubeApi api;
  api.put(kCm, cm("a"));
  Manager mgr(api, quiet_options(), Logger::null());
  mgr.set_handle_signals(false);
  InformerOptions io;
  io.gvr = kCm;
  Informer& inf = mgr.add_informer(io);
  Seen seen;
  WorkQueue& q = mgr.add_controller("test", [&](const ObjectKey& k) {
    seen.add(k.str());
    return Result{};
  });
  inf.add_handler(Controller::enqueue_on_change(q));
  CHECK(mgr.health().handle("/readyz").first == 500);
  auto code = std::async(std::launch::async, [&] { return mgr.run(); });
  REQUIRE(seen.wait_for("ns/a"));
  CHECK(mgr.health().handle("/readyz").first == 200);
  CHECK(mgr.health().handle("/healthz").first == 200);
  CHECK(mgr.health().handle("/metrics").first == 404);
  api.create(kCm, "ns", cm("b"));
  REQUIRE(seen.wait_for("ns/b"));
  CHECK(mgr.metrics().render().find("controller_runtime_reconcile_total{controller=\"test\",result=\"success\"}") !=
        std::string::npos);
  mgr.request_stop();
  REQUIRE(code.wait_for(60s) == std::future_status::ready);
  CHECK(code.get() == 0);
}

TEST_CASE("manager: shutdown waits for the in-flight reconcile to finish") {
  FakeKubeApi api;
  api.put(kCm, cm("a"));
  Manager mgr(api, quiet_options(), Logger::null());
  mgr.set_handle_signals(false);
  InformerOptions io;
  io.gvr = kCm;
  Informer& inf = mgr.add_informer(io);
  std::promise<void> entered, release;
  auto release_future = release.get_future().share();
  std::atomic<bool> finished{false};
  WorkQueue& q = mgr.add_controller("test", [&](const ObjectKey&) {
    entered.set_value();
    release_future.wait();
    finished = true;
    return Result{};
  });
  inf.add_handler(Controller::enqueue_on_change(q));
  auto code = std::async(std::launch::async, [&] { return mgr.run(); });
  REQUIRE(entered.get_future().wait_for(30s) == std::future_status::ready);
  mgr.request_stop();
  CHECK(code.wait_for(50ms) == std::future_status::timeout);  // still waiting for the reconcile
  release.set_value();
  REQUIRE(code.wait_for(60s) == std::future_status::ready);
  CHECK(finished);
  CHECK(code.get() == 0);
}

TEST_CASE("manager: with --leader-elect, controllers run while leading and the Lease is released on stop") {
  FakeKubeApi api;
  api.put(kCm, cm("a"));
  ManagerOptions o = quiet_options();
  o.leader_elect = true;
  Manager mgr(api, o, Logger::null());
  mgr.set_handle_signals(false);
  LeaderElectionConfig le;
  le.ns = "ns";
  le.name = "op";
  le.identity = "me";
  le.retry_period = 5ms;
  mgr.set_leader_election_config(le);
  InformerOptions io;
  io.gvr = kCm;
  Informer& inf = mgr.add_informer(io);
  Seen seen;
  WorkQueue& q = mgr.add_controller("test", [&](const ObjectKey& k) {
    seen.add(k.str());
    return Result{};
  });
  inf.add_handler(Controller::enqueue_on_change(q));
  auto code = std::async(std::launch::async, [&] { return mgr.run(); });
  REQUIRE(seen.wait_for("ns/a"));
  CHECK(api.peek({lease_gvr(), "ns", "op"})->at("spec")["holderIdentity"] == "me");
  mgr.request_stop();
  REQUIRE(code.wait_for(60s) == std::future_status::ready);
  CHECK(code.get() == 0);
  CHECK(api.peek({lease_gvr(), "ns", "op"})->at("spec")["holderIdentity"] == "");
}

TEST_CASE("manager: losing the Lease makes run return 1") {
  FakeKubeApi api;
  FakeClock clock;
  ManagerOptions o = quiet_options();
  o.leader_elect = true;
  Manager mgr(api, o, Logger::null(), &clock);
  mgr.set_handle_signals(false);
  LeaderElectionConfig le;
  le.ns = "ns";
  le.name = "op";
  le.identity = "me";
  le.retry_period = 5ms;
  mgr.set_leader_election_config(le);
  std::promise<void> leading;
  mgr.add_runnable("leader-work", [&](std::stop_token) { leading.set_value(); });
  auto code = std::async(std::launch::async, [&] { return mgr.run(); });
  REQUIRE(leading.get_future().wait_for(30s) == std::future_status::ready);
  std::mutex mu;
  std::condition_variable cv;
  int reads = -1;
  api.before_read = [&](const std::string& verb) {
    std::lock_guard lock(mu);
    if (verb == "get" && reads >= 0) ++reads;
    cv.notify_all();
  };
  json lease = *api.peek({lease_gvr(), "ns", "op"});
  lease["spec"]["holderIdentity"] = "intruder";
  api.put(lease_gvr(), lease);
  {
    std::unique_lock lock(mu);
    reads = 0;
    REQUIRE(cv.wait_for(lock, 30s, [&] { return reads >= 2; }));
  }
  clock.advance(11s);
  REQUIRE(code.wait_for(60s) == std::future_status::ready);
  CHECK(code.get() == 1);
}
