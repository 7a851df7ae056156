// What the reconciler's pieces share: the API, time, the catalog, the caches, events and expectations.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "controllers/mesh_upgrade/catalog.h"
#include "controllers/mesh_upgrade/view.h"
#include "operator/clock.h"
#include "operator/kube_api.h"

namespace meshupgrade {

class UpgradeMetrics;

// Restarts this process issued that the caches have not shown yet. Without it a reconcile that runs before
// the watch delivers our own patch would restart the same workload again. A fresh process needs none: its
// caches start from a list, which holds every earlier patch.
class Expectations {
 public:
  void expect(const std::string& attempt, const std::string& key);
  bool expected(const std::string& attempt, const std::string& key) const;
  void observed(const std::string& attempt, const std::string& key);
  void forget_attempt(const std::string& attempt);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> pending_;
};

// Kubernetes Events about a MeshUpgrade (core/v1, as kubectl describe shows them).
class EventRecorder {
 public:
  EventRecorder(kubert::KubeApi& api, const kubert::Clock& clock) : api_(api), clock_(clock) {}
  // Never throws: an Event is best effort, its failure is logged.
  void record(const json& involved, const std::string& type, const std::string& reason, const std::string& message);

 private:
  kubert::KubeApi& api_;
  const kubert::Clock& clock_;
};

struct Context {
  kubert::KubeApi& api;
  const kubert::Clock& clock;
  const Catalog& catalog;
  Caches caches;
  Expectations& expectations;
  EventRecorder& events;
  UpgradeMetrics* metrics = nullptr;  // meshupgrade_* metrics fed by status writes; none in unit tests
};

}  // namespace meshupgrade
