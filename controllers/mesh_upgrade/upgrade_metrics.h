// The upgrade metrics next to controller-runtime's: per-MeshUpgrade gauges read from the cache at scrape time (a
// deleted object's series go with it), step durations and outcomes counted when a status write records them.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace kubert {
class Metrics;
class Store;
}  // namespace kubert

namespace meshupgrade {

class UpgradeMetrics {
 public:
  explicit UpgradeMetrics(kubert::Metrics& metrics);
  ~UpgradeMetrics();
  UpgradeMetrics(const UpgradeMetrics&) = delete;
  UpgradeMetrics& operator=(const UpgradeMetrics&) = delete;

  // The MeshUpgrades the gauges describe (the controller's informer store); until set, none.
  void watch(const kubert::Store* mesh_upgrades);
  // A status written at `now` for MeshUpgrade `key` ("ns/name"): a step that finished since `before` is observed in
  // meshupgrade_step_duration_seconds, a phase that became Succeeded, RolledBack or Failed counts in
  // meshupgrade_upgrades_total, and the write (progress included: status is written only on change) moves
  // meshupgrade_last_transition_timestamp_seconds.
  void on_status_written(const std::string& key, const nlohmann::json& before, const nlohmann::json& after,
                         std::chrono::system_clock::time_point now);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace meshupgrade
