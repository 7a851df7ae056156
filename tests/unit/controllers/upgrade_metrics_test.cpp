// meshupgrade_* metrics: gauges from the cache at scrape time (gone with the object), steps and outcomes from writes.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/upgrade_metrics.h"
#include "operator/metrics.h"
#include "operator/store.h"

using namespace meshupgrade;
using nlohmann::json;

namespace {
json upgrade(const char* name, const char* phase) {
  return {{"metadata", {{"namespace", "osm-system"}, {"name", name}}},
          {"spec", {{"targetVersion", "v1.3.9"}}},
          {"status",
           {{"phase", phase},
            {"fromVersion", "v1.3.8"},
            {"workloads", {{"total", 10}, {"restarted", 4}, {"ready", 3}, {"failed", 1}, {"pending", json::array()}}},
            {"conditions",
             {{{"type", "Ready"}, {"status", "Unknown"}, {"lastTransitionTime", "2026-12-02T12:00:00Z"}},
              {{"type", "Reconciling"}, {"status", "True"}, {"lastTransitionTime", "2026-12-02T12:00:05Z"}}}}}}};
}
}  // namespace

TEST_CASE("per-upgrade gauges follow the cache, and a deleted upgrade's series go") {
  kubert::Metrics metrics;
  UpgradeMetrics m(metrics);
  kubert::Store store;
  m.watch(&store);
  store.upsert(std::make_shared<const json>(upgrade("up", "RollingSidecars")));
  const std::string text = metrics.render();
  CHECK_THAT(text, Catch::Contains(R"(meshupgrade_info{from_version="v1.3.8",mesh="osm",name="up",namespace="osm-system",phase="RollingSidecars",to_version="v1.3.9"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(meshupgrade_workloads{name="up",namespace="osm-system",state="restarted"} 4)"));
  CHECK_THAT(text, Catch::Contains(R"(meshupgrade_workloads{name="up",namespace="osm-system",state="pending"} 6)"));
  CHECK_THAT(text, Catch::Contains(R"(meshupgrade_condition{name="up",namespace="osm-system",status="True",type="Reconciling"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(meshupgrade_last_transition_timestamp_seconds{name="up",namespace="osm-system"} 1796212805)"));
  // A status write (progress moved, no condition flipped) moves the last transition.
  const auto later = std::chrono::system_clock::time_point(std::chrono::seconds(1796213000));
  m.on_status_written("osm-system/up", json::object(), json::object(), later);
  CHECK_THAT(metrics.render(), Catch::Contains(R"(meshupgrade_last_transition_timestamp_seconds{name="up",namespace="osm-system"} 1796213000)"));
  store.remove("osm-system", "up");
  CHECK_THAT(metrics.render(), !Catch::Contains(R"(name="up")"));
}

TEST_CASE("a finished step is observed once, a terminal phase counted once") {
  kubert::Metrics metrics;
  UpgradeMetrics m(metrics);
  const json before = {{"phase", "UpgradingControlPlane"},
                       {"steps", {{{"name", "UpgradeControlPlane"}, {"state", "Running"}, {"startedAt", "2026-12-02T12:00:00Z"}}}}};
  json after = before;
  after["steps"][0]["state"] = "Succeeded";
  after["steps"][0]["finishedAt"] = "2026-12-02T12:00:40Z";
  m.on_status_written("osm-system/up", before, after, {});
  m.on_status_written("osm-system/up", after, after, {});  // unchanged: not observed again
  std::string text = metrics.render();
  CHECK_THAT(text, Catch::Contains(R"(meshupgrade_step_duration_seconds_count{outcome="Succeeded",step="UpgradeControlPlane"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(meshupgrade_step_duration_seconds_sum{outcome="Succeeded",step="UpgradeControlPlane"} 40)"));
  json done = after;
  done["phase"] = "RolledBack";
  m.on_status_written("osm-system/up", after, done, {});
  m.on_status_written("osm-system/up", done, done, {});
  text = metrics.render();
  CHECK_THAT(text, Catch::Contains(R"(meshupgrade_upgrades_total{outcome="RolledBack"} 1)"));
  CHECK_THAT(text, Catch::Contains(R"(meshupgrade_upgrades_total{outcome="Succeeded"} 0)"));
}
