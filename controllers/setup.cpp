// Wires the MeshUpgrade controller into the Manager: informers on every replica, workers on the leader.
#include "controllers/setup.h"

#include <malloc.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "controllers/mesh_upgrade/controller.h"
#include "controllers/mesh_upgrade/upgrade_metrics.h"

namespace meshupgrade {

void setup(kubert::Manager& mgr, kubert::KubeApi& api, const kubert::ManagerOptions& opts) {
  // Built before the controller that feeds it, and kept alive by the same runnables.
  auto upgrade_metrics = std::make_shared<UpgradeMetrics>(mgr.metrics());
  auto ctrl = std::make_shared<MeshUpgradeController>(
      api, mgr.clock(), mgr.logger().named("meshupgrade"), mgr.metrics(), &mgr.metrics(),
      ControllerOptions{opts.watch_namespace, opts.max_concurrent_reconciles, upgrade_metrics.get()});

  // Caches fill on every replica, so a new leader starts with them warm. The MeshConfig informer is not
  // waited for: a cluster without osm-edge has no such CRD, and the precheck says MeshNotFound.
  mgr.add_runnable(
      "meshupgrade-informers",
      [ctrl, upgrade_metrics](std::stop_token stop) {
        ctrl->start_informers();
        std::mutex mu;
        std::condition_variable_any cv;
        std::unique_lock lock(mu);
        cv.wait(lock, stop, [] { return false; });
        ctrl->stop_informers();
      },
      /*needs_leader=*/false);
  mgr.add_runnable(
      "meshupgrade",
      [ctrl, upgrade_metrics](std::stop_token stop) {
        while (!stop.stop_requested() && !ctrl->wait_for_sync(std::chrono::milliseconds(500))) {
        }
        malloc_trim(0);  // the initial lists' pages are freed: give the memory back
        if (!stop.stop_requested()) ctrl->run(stop);
      },
      /*needs_leader=*/true);
  mgr.add_ready_check("meshupgrade-caches", [ctrl] { return ctrl->has_synced(); });
}

}  // namespace meshupgrade
