// meshupgrade_* metrics: gauges collected from the MeshUpgrade cache, a histogram and a counter fed by status writes.
#include "controllers/mesh_upgrade/upgrade_metrics.h"

#include <atomic>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>
#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "operator/clock.h"
#include "operator/metrics.h"
#include "operator/store.h"

namespace meshupgrade {

using nlohmann::json;

namespace {

prometheus::ClientMetric gauge(std::vector<prometheus::ClientMetric::Label> labels, double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

std::string str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

double seconds_between(const std::string& from, const std::string& to) {
  try {
    return std::chrono::duration<double>(kubert::parse_rfc3339(to) - kubert::parse_rfc3339(from)).count();
  } catch (const std::exception&) {
    return -1;
  }
}

}  // namespace

struct UpgradeMetrics::Impl : prometheus::Collectable {
  std::atomic<const kubert::Store*> store{nullptr};
  prometheus::Family<prometheus::Histogram>* step_duration = nullptr;
  prometheus::Family<prometheus::Counter>* upgrades = nullptr;
  // The latest status write per MeshUpgrade ("ns/name" → unix seconds): only this process's writes, so after a
  // restart the conditions' times stand in until the next write.
  mutable std::mutex mu;
  mutable std::map<std::string, double> last_write;

  std::vector<prometheus::MetricFamily> Collect() const override {
    prometheus::MetricFamily info{"meshupgrade_info",
                                  "A MeshUpgrade: its mesh, the versions it moves between and its phase (always 1).",
                                  prometheus::MetricType::Gauge, {}};
    prometheus::MetricFamily workloads{"meshupgrade_workloads",
                                       "Meshed workloads of a MeshUpgrade by state (total, restarted, ready, failed, "
                                       "skipped, pending).",
                                       prometheus::MetricType::Gauge, {}};
    prometheus::MetricFamily conditions{"meshupgrade_condition",
                                        "A MeshUpgrade's conditions (1 for the status each type has now).",
                                        prometheus::MetricType::Gauge, {}};
    prometheus::MetricFamily last{"meshupgrade_last_transition_timestamp_seconds",
                                  "Unix time of the latest change of a MeshUpgrade's conditions (progress included).",
                                  prometheus::MetricType::Gauge, {}};
    const kubert::Store* s = store.load();
    std::map<std::string, double> writes;
    {
      std::lock_guard lock(mu);
      if (s) {  // forget what the cache no longer holds
        for (auto it = last_write.begin(); it != last_write.end();) {
          const auto slash = it->first.find('/');
          it = s->get(it->first.substr(0, slash), it->first.substr(slash + 1)) ? std::next(it) : last_write.erase(it);
        }
      }
      writes = last_write;
    }
    if (s) {
      for (const auto& obj : s->list()) {
        const json& meta = (*obj)["metadata"];
        const json spec = obj->value("spec", json::object());
        const json st = obj->value("status", json::object());
        const std::string ns = str(meta, "namespace"), name = str(meta, "name");
        const std::string phase = str(st, "phase").empty() ? "Pending" : str(st, "phase");
        const std::string mesh = str(spec, "meshName").empty() ? "osm" : str(spec, "meshName");
        info.metric.push_back(gauge({{"from_version", str(st, "fromVersion")}, {"mesh", mesh}, {"name", name},
                                     {"namespace", ns}, {"phase", phase},
                                     {"to_version", str(spec, "targetVersion")}},
                                    1));
        const json w = st.value("workloads", json::object());
        auto count = [&w](const char* key) {
          return w.contains(key) && w[key].is_number() ? w[key].get<double>() : 0.0;
        };
        // status.workloads.pending is a bounded list of names: the gauge counts what is not yet on the target.
        const std::pair<const char*, double> states[] = {
            {"total", count("total")},   {"restarted", count("restarted")}, {"ready", count("ready")},
            {"failed", count("failed")}, {"skipped", count("skipped")},
            {"pending", std::max(0.0, count("total") - count("ready") - count("failed") - count("skipped"))}};
        for (const auto& [state, value] : states) {
          workloads.metric.push_back(gauge({{"name", name}, {"namespace", ns}, {"state", state}}, value));
        }
        double latest = 0;
        for (const auto& c : st.value("conditions", json::array())) {
          conditions.metric.push_back(gauge(
              {{"name", name}, {"namespace", ns}, {"status", str(c, "status")}, {"type", str(c, "type")}}, 1));
          try {
            const auto t = kubert::parse_rfc3339(str(c, "lastTransitionTime"));
            latest = std::max(latest, std::chrono::duration<double>(t.time_since_epoch()).count());
          } catch (const std::exception&) {
          }
        }
        if (auto w = writes.find(ns + "/" + name); w != writes.end()) latest = std::max(latest, w->second);
        if (latest > 0) last.metric.push_back(gauge({{"name", name}, {"namespace", ns}}, latest));
      }
    }
    return {info, workloads, conditions, last};
  }
};

UpgradeMetrics::UpgradeMetrics(kubert::Metrics& metrics) : impl_(std::make_shared<Impl>()) {
  impl_->step_duration = &prometheus::BuildHistogram()
                              .Name("meshupgrade_step_duration_seconds")
                              .Help("How long each step of an upgrade took, by step and outcome.")
                              .Register(metrics.registry());
  impl_->upgrades = &prometheus::BuildCounter()
                         .Name("meshupgrade_upgrades_total")
                         .Help("Upgrades that ended, by outcome (Succeeded, RolledBack, Failed).")
                         .Register(metrics.registry());
  for (const char* outcome : {"Succeeded", "RolledBack", "Failed"}) impl_->upgrades->Add({{"outcome", outcome}});
  metrics.register_collectable(impl_);
}

UpgradeMetrics::~UpgradeMetrics() = default;

void UpgradeMetrics::watch(const kubert::Store* mesh_upgrades) { impl_->store = mesh_upgrades; }

void UpgradeMetrics::on_status_written(const std::string& key, const json& before, const json& after,
                                       std::chrono::system_clock::time_point now) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->last_write[key] = std::chrono::duration<double>(now.time_since_epoch()).count();
  }
  std::map<std::string, std::string> was;
  for (const auto& s : before.value("steps", json::array())) was[str(s, "name")] = str(s, "state");
  for (const auto& s : after.value("steps", json::array())) {
    const std::string state = str(s, "state"), name = str(s, "name");
    if ((state != "Succeeded" && state != "Failed") || was[name] == state) continue;
    const double secs = seconds_between(str(s, "startedAt"), str(s, "finishedAt"));
    if (secs < 0) continue;
    static const std::vector<double> kBuckets = {1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200};
    impl_->step_duration->Add({{"step", name}, {"outcome", state}}, kBuckets).Observe(secs);
  }
  const std::string phase = str(after, "phase");
  if (phase != str(before, "phase") && (phase == "Succeeded" || phase == "RolledBack" || phase == "Failed")) {
    impl_->upgrades->Add({{"outcome", phase}}).Increment();
  }
}

}  // namespace meshupgrade
