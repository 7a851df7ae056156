// The fake API server behaves as the real one where tests rely on it.
#include <catch2/catch.hpp>

#include <thread>

#include "operator/errors.h"
#include "support/fake_kube_api.h"

using namespace kubert;
using namespace std::chrono_literals;

namespace {
const Gvr kCm{"", "v1", "configmaps", true};
json cm(const std::string& name, json data = json::object(), json labels = json::object()) {
  return json{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
              {"metadata", {{"name", name}, {"namespace", "ns"}, {"labels", labels}}}, {"data", data}};
}
ListOptions labels(const std::string& sel) {
  ListOptions o;
  o.label_selector = sel;
  return o;
}
WatchOptions from(const std::string& rv) {
  WatchOptions o;
  o.resource_version = rv;
  return o;
}
}  // namespace

TEST_CASE("fake: create sets uid, generation and resourceVersion; a second create conflicts") {
  FakeKubeApi api;
  json a = api.create(kCm, "ns", cm("a"));
  CHECK(a["metadata"]["generation"] == 1);
  CHECK_FALSE(a["metadata"]["uid"].get<std::string>().empty());
  CHECK(a["metadata"]["resourceVersion"] == api.current_resource_version());
  try {
    api.create(kCm, "ns", cm("a"));
    FAIL("no error");
  } catch (const ApiError& e) {
    CHECK(e.is_already_exists());
  }
  REQUIRE(api.writes().size() == 1);
  CHECK(api.writes()[0].verb == "create");
}

TEST_CASE("fake: generation bumps on spec changes only, stale resourceVersion conflicts") {
  FakeKubeApi api;
  const ObjectRef ref{kCm, "ns", "a"};
  json a = api.create(kCm, "ns", cm("a", {{"k", "1"}}));
  json b = api.patch(ref, PatchType::Merge, {{"metadata", {{"labels", {{"x", "y"}}}}}});
  CHECK(b["metadata"]["generation"] == 1);
  json c = api.patch(ref, PatchType::Merge, {{"data", {{"k", "2"}}}});
  CHECK(c["metadata"]["generation"] == 2);
  json d = api.patch(ref, PatchType::Json, json::array({{{"op", "replace"}, {"path", "/data/k"}, {"value", "3"}}}));
  CHECK(d["data"]["k"] == "3");
  CHECK_THROWS_AS(api.update(ref, a), ApiError);  // a carries an old resourceVersion
  json s = api.patch_status(ref, PatchType::Merge, {{"status", {{"phase", "Done"}}}, {"data", {{"k", "9"}}}});
  CHECK(s["status"]["phase"] == "Done");
  CHECK(s["data"]["k"] == "3");
  CHECK(s["metadata"]["generation"] == 3);
}

TEST_CASE("fake: before_write and fail_next make writes fail") {
  FakeKubeApi api;
  api.fail_next("create", ApiError(500, "InternalError", "boom", "POST", "/x"));
  CHECK_THROWS_AS(api.create(kCm, "ns", cm("a")), ApiError);
  api.create(kCm, "ns", cm("a"));
  api.before_write = [](const std::string& verb, const ObjectRef&) {
    if (verb == "patch") throw ApiError(409, "Conflict", "no", "PATCH", "/x");
  };
  CHECK_THROWS_AS(api.patch({kCm, "ns", "a"}, PatchType::Merge, {{"data", {{"a", "b"}}}}), ApiError);
  CHECK(api.writes().size() == 1);
}

TEST_CASE("fake: finalizers hold a deleted object until they are removed") {
  FakeKubeApi api;
  const ObjectRef ref{kCm, "ns", "a"};
  json obj = cm("a");
  obj["metadata"]["finalizers"] = {"x/y"};
  api.create(kCm, "ns", obj);
  CHECK(api.remove(ref));
  REQUIRE(api.peek(ref));
  CHECK(api.peek(ref)->at("metadata").contains("deletionTimestamp"));
  api.patch(ref, PatchType::Merge, {{"metadata", {{"finalizers", nullptr}}}});
  CHECK_FALSE(api.peek(ref));
  CHECK_FALSE(api.remove(ref));
}

TEST_CASE("fake: list filters by label selector") {
  FakeKubeApi api;
  api.create(kCm, "ns", cm("a", {}, {{"app", "x"}}));
  api.create(kCm, "ns", cm("b", {}, {{"app", "y"}}));
  api.create(kCm, "ns", cm("c"));
  CHECK(api.list(kCm, "ns", labels("app=x"))["items"].size() == 1);
  CHECK(api.list(kCm, "ns", labels("app"))["items"].size() == 2);
  CHECK(api.list(kCm, "ns", labels("app in (x,y)"))["items"].size() == 2);
  CHECK(api.list(kCm, "ns", labels("!app"))["items"].size() == 1);
  CHECK(api.list(kCm, "other", {})["items"].size() == 0);
  CHECK(api.list(kCm, "", {})["items"].size() == 3);
}

TEST_CASE("fake: watch replays from a resourceVersion and streams live changes until stopped") {
  FakeKubeApi api;
  api.create(kCm, "ns", cm("a"));
  const std::string rv = api.list(kCm, "", {})["metadata"]["resourceVersion"];
  api.create(kCm, "ns", cm("b"));
  std::vector<std::string> seen;
  std::mutex mu;
  std::condition_variable cv;
  std::stop_source stop;
  std::thread t([&] {
    api.watch(kCm, "", from(rv), [&](const WatchEvent& e) {
      std::lock_guard lock(mu);
      seen.push_back(e.type + " " + e.object["metadata"].value("name", ""));
      cv.notify_all();
      return true;
    }, stop.get_token());
  });
  REQUIRE(api.wait_for_watches(1, 10s));
  api.remove({kCm, "ns", "a"});
  {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, 10s, [&] { return seen.size() >= 2; }));
  }
  stop.request_stop();
  t.join();
  CHECK(seen == std::vector<std::string>{"ADDED b", "DELETED a"});
  api.compact();
  CHECK_THROWS_AS(api.watch(kCm, "", from(rv), [](const WatchEvent&) { return true; }, {}), ApiError);
}
