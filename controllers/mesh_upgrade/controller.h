// The MeshUpgrade controller assembled: its informers (label-selected, stripped), work queue and workers.
#pragma once

#include <chrono>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "operator/clock.h"
#include "operator/controller.h"
#include "operator/informer.h"
#include "operator/kube_api.h"
#include "operator/log.h"
#include "operator/work_queue.h"

namespace meshupgrade {

class UpgradeMetrics;

struct ControllerOptions {
  std::string watch_namespace;  // MeshUpgrades of this namespace only; "" all
  int workers = 1;
  UpgradeMetrics* metrics = nullptr;  // meshupgrade_* metrics, when the process serves them
};

class MeshUpgradeController {
 public:
  MeshUpgradeController(kubert::KubeApi& api, const kubert::Clock& clock, kubert::Logger log,
                        kubert::ControllerMetrics& controller_metrics, kubert::WorkQueueMetrics* queue_metrics,
                        ControllerOptions opts);
  ~MeshUpgradeController();

  void start_informers();
  bool has_synced() const;
  bool wait_for_sync(std::chrono::milliseconds timeout) const;
  // Runs the workers until stop; in-flight reconciles finish first.
  void run(std::stop_token stop);
  void stop_informers();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meshupgrade
