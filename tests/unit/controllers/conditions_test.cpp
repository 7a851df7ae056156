// Conditions: transitions, and the kstatus summary (never Reconciling and Stalled together).
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/conditions.h"
#include "controllers/mesh_upgrade/helm_release.h"

using namespace meshupgrade;
using nlohmann::json;

TEST_CASE("lastTransitionTime moves only when the status value changes") {
  json status = json::object();
  set_condition(status, "Ready", "Unknown", "Progressing", "a", 1, "t1");
  set_condition(status, "Ready", "Unknown", "Progressing", "b", 2, "t2");
  CHECK(status["conditions"][0]["lastTransitionTime"] == "t1");
  CHECK(status["conditions"][0]["message"] == "b");
  CHECK(status["conditions"][0]["observedGeneration"] == 2);
  set_condition(status, "Ready", "True", "Succeeded", "c", 2, "t3");
  CHECK(status["conditions"][0]["lastTransitionTime"] == "t3");
  CHECK(status["conditions"].size() == 1);
}

TEST_CASE("the summary never reports Reconciling and Stalled together") {
  json status = json::object();
  summarize(status, Summary::InProgress, "Progressing", "m", 1, "t");
  CHECK(condition_status(status, "Reconciling") == "True");
  CHECK(condition_status(status, "Ready") == "Unknown");
  summarize(status, Summary::Stalled, "UnsupportedUpgradePath", "m", 1, "t");
  CHECK(condition_status(status, "Stalled") == "True");
  CHECK(condition_status(status, "Reconciling").empty());
  CHECK(condition_reason(status, "Ready") == "UnsupportedUpgradePath");
  summarize(status, Summary::Suspended, "Suspended", "m", 1, "t");
  CHECK(condition_status(status, "Reconciling") == "False");
  CHECK(condition_status(status, "Stalled").empty());
  summarize(status, Summary::Succeeded, "Succeeded", "m", 1, "t");
  CHECK(condition_status(status, "Ready") == "True");
  CHECK(condition_status(status, "Reconciling").empty());
  CHECK(condition_status(status, "Stalled").empty());
}

TEST_CASE("base64 decodes and rejects garbage") {
  CHECK(base64_decode("aGVsbG8=") == "hello");
  CHECK(base64_decode("aGVsbG8gd29ybGQ=") == "hello world");
  CHECK_THROWS(base64_decode("not base64!"));
}
