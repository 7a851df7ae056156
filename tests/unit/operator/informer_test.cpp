// The informer against FakeKubeApi: list then watch, resume, re-list on 410, bookmarks, handlers, options.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>

#include "operator/errors.h"
#include "operator/informer.h"
#include "support/fake_clock.h"
#include "support/fake_kube_api.h"

using namespace kubert;
using namespace std::chrono_literals;

namespace {

const Gvr kPods{"", "v1", "pods", true};

json pod(const std::string& ns, const std::string& name, json labels = json::object()) {
  return json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"namespace", ns}, {"name", name}, {"labels", labels},
                            {"managedFields", json::array({{{"manager", "kubectl"}}})}}},
              {"spec", {{"containers", json::array()}}}};
}

// Records what handlers saw; waits for a condition with a generous deadline.
struct Recorder {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> events;  // "add ns/name", "update ns/name", "delete ns/name"

  InformerHandler handler() {
    return [this](const json* old_obj, const json* new_obj) {
      const json& o = new_obj ? *new_obj : *old_obj;
      const std::string what = !old_obj ? "add" : !new_obj ? "delete" : "update";
      std::lock_guard lock(mu);
      events.push_back(what + " " + o["metadata"]["namespace"].get<std::string>() + "/" +
                       o["metadata"]["name"].get<std::string>());
      cv.notify_all();
    };
  }
  bool wait_for(const std::string& event) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 30s, [&] { return std::find(events.begin(), events.end(), event) != events.end(); });
  }
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mu);
    return events;
  }
};

InformerOptions pods_options() {
  InformerOptions o;
  o.gvr = kPods;
  o.backoff_initial = 1ms;  // failures in these tests are deliberate; do not wait long
  return o;
}

}  // namespace

TEST_CASE("informer: lists, syncs, then watches from the list's resourceVersion") {
  FakeKubeApi api;
  FakeClock clock;
  api.put(kPods, pod("a", "p1"));
  api.put(kPods, pod("b", "p2"));
  Informer inf(api, pods_options(), clock, Logger::null());
  Recorder rec;
  inf.add_handler(rec.handler());
  CHECK_FALSE(inf.has_synced());
  inf.start();
  REQUIRE(inf.wait_for_sync(30s));
  CHECK(inf.store().size() == 2);
  CHECK(rec.snapshot() == std::vector<std::string>{"add a/p1", "add b/p2"});
  const std::string list_rv = api.list_calls().at(0).opts.resource_version.empty()
                                  ? api.current_resource_version()
                                  : api.list_calls().at(0).opts.resource_version;
  REQUIRE(api.wait_for_watch_calls(1, 30s));
  CHECK(api.watch_calls().at(0).opts.resource_version == list_rv);
  CHECK(api.watch_calls().at(0).opts.allow_bookmarks);

  api.create(kPods, "a", pod("a", "p3"));
  REQUIRE(rec.wait_for("add a/p3"));
  api.patch({kPods, "a", "p3"}, PatchType::Merge, {{"spec", {{"nodeName", "n1"}}}});
  REQUIRE(rec.wait_for("update a/p3"));
  api.remove({kPods, "b", "p2"});
  REQUIRE(rec.wait_for("delete b/p2"));
  CHECK(inf.store().get("a", "p3")->at("spec")["nodeName"] == "n1");
  CHECK(inf.store().get("b", "p2") == nullptr);
  inf.stop();
  CHECK(api.open_watches() == 0);
}

TEST_CASE("informer: a dropped watch resumes from the last resourceVersion seen, without a re-list") {
  FakeKubeApi api;
  FakeClock clock;
  Informer inf(api, pods_options(), clock, Logger::null());
  Recorder rec;
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(inf.wait_for_sync(30s));
  api.create(kPods, "a", pod("a", "p1"));
  REQUIRE(rec.wait_for("add a/p1"));
  const std::string seen = api.current_resource_version();
  api.close_watches();
  REQUIRE(api.wait_for_watch_calls(2, 30s));
  CHECK(api.watch_calls().at(1).opts.resource_version == seen);
  api.create(kPods, "a", pod("a", "p2"));
  REQUIRE(rec.wait_for("add a/p2"));
  CHECK(api.list_calls().size() == 1);
  CHECK(inf.relists() == 0);
}

TEST_CASE("informer: 410 Gone re-lists, and objects deleted meanwhile are reported deleted") {
  FakeKubeApi api;
  FakeClock clock;
  api.put(kPods, pod("a", "keep"));
  api.put(kPods, pod("a", "gone"));
  Informer inf(api, pods_options(), clock, Logger::null());
  Recorder rec;
  inf.add_handler(rec.handler());
  int lists = 0;
  api.before_read = [&](const std::string& verb) {
    // Between the 410 and the re-list: a deletion the informer never sees as an event.
    if (verb == "list" && ++lists == 2) api.remove({kPods, "a", "gone"});
  };
  inf.start();
  REQUIRE(inf.wait_for_sync(30s));
  REQUIRE(api.wait_for_watch_calls(1, 30s));
  api.fail_next("watch", ApiError(410, "Expired", "too old resource version", "WATCH", "/api/v1/pods"));
  api.close_watches();
  REQUIRE(rec.wait_for("delete a/gone"));
  CHECK(inf.store().get("a", "keep") != nullptr);
  CHECK(inf.store().size() == 1);
  CHECK(api.list_calls().size() == 2);
  CHECK(inf.relists() == 1);
  // And it watches again from the new list.
  REQUIRE(api.wait_for_watch_calls(3, 30s));
  api.create(kPods, "a", pod("a", "new"));
  REQUIRE(rec.wait_for("add a/new"));
}

TEST_CASE("informer: a compacted resourceVersion on resume also re-lists") {
  FakeKubeApi api;
  FakeClock clock;
  Informer inf(api, pods_options(), clock, Logger::null());
  inf.start();
  REQUIRE(inf.wait_for_sync(30s));
  REQUIRE(api.wait_for_watch_calls(1, 30s));
  api.push_event(kPods, "ERROR", {{"kind", "Status"}, {"code", 410}, {"reason", "Expired"}, {"message", "too old"}});
  REQUIRE(api.wait_for_watch_calls(2, 30s));
  CHECK(api.list_calls().size() == 2);
}

TEST_CASE("informer: bookmarks move the resourceVersion and call no handler") {
  FakeKubeApi api;
  FakeClock clock;
  Informer inf(api, pods_options(), clock, Logger::null());
  Recorder rec;
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(inf.wait_for_sync(30s));
  REQUIRE(api.wait_for_watch_calls(1, 30s));
  api.push_event(kPods, "BOOKMARK", {{"kind", "Pod"}, {"metadata", {{"resourceVersion", "5000"}}}});
  api.close_watches();
  REQUIRE(api.wait_for_watch_calls(2, 30s));
  CHECK(api.watch_calls().at(1).opts.resource_version == "5000");
  CHECK(inf.last_resource_version() == "5000");
  CHECK(rec.snapshot().empty());
}

TEST_CASE("informer: selectors are passed to list and watch; managedFields stripped; transform applied") {
  FakeKubeApi api;
  FakeClock clock;
  api.put(kPods, pod("a", "web", {{"app", "web"}}));
  api.put(kPods, pod("a", "db", {{"app", "db"}}));
  InformerOptions o = pods_options();
  o.ns = "a";
  o.label_selector = "app=web";
  o.transform = [](json& obj) { obj.erase("spec"); };
  Informer inf(api, o, clock, Logger::null());
  inf.start();
  REQUIRE(inf.wait_for_sync(30s));
  REQUIRE(api.wait_for_watch_calls(1, 30s));
  CHECK(api.list_calls().at(0).opts.label_selector == "app=web");
  CHECK(api.list_calls().at(0).ns == "a");
  CHECK(api.watch_calls().at(0).opts.label_selector == "app=web");
  CHECK(api.watch_calls().at(0).ns == "a");
  REQUIRE(inf.store().size() == 1);
  const ObjectPtr web = inf.store().get("a", "web");
  REQUIRE(web);
  CHECK_FALSE(web->at("metadata").contains("managedFields"));
  CHECK_FALSE(web->contains("spec"));
}

TEST_CASE("informer: failures back off and recover; a throwing handler does not stop the cache") {
  FakeKubeApi api;
  FakeClock clock;
  api.fail_next("list", ApiError(500, "InternalError", "boom", "LIST", "/api/v1/pods"));
  api.fail_next("list", ApiError(503, "ServiceUnavailable", "boom", "LIST", "/api/v1/pods"));
  Informer inf(api, pods_options(), clock, Logger::null());
  inf.add_handler([](const json*, const json*) { throw std::runtime_error("handler bug"); });
  Recorder rec;
  inf.add_handler(rec.handler());
  inf.start();
  REQUIRE(inf.wait_for_sync(30s));
  CHECK(api.list_calls().size() == 3);
  api.create(kPods, "a", pod("a", "p1"));
  REQUIRE(rec.wait_for("add a/p1"));
  CHECK(inf.store().size() == 1);
}
