// The MeshUpgrade reconciler: observe → decide → act (one bounded step) → write status only if it changed.
#pragma once

#include <chrono>
#include <map>
#include <mutex>

#include "controllers/mesh_upgrade/catalog_source.h"
#include "controllers/mesh_upgrade/context.h"
#include "operator/controller.h"

namespace meshupgrade {

class MeshUpgradeReconciler {
 public:
  // progress_interval: status changes that are only progress counts are written at most this often.
  // catalogs: when given, each reconcile reads the catalog in force then (ctx.catalog otherwise).
  explicit MeshUpgradeReconciler(Context ctx, std::chrono::milliseconds progress_interval = std::chrono::seconds(1),
                                 const CatalogSource* catalogs = nullptr)
      : ctx_(std::move(ctx)), progress_interval_(progress_interval), catalogs_(catalogs) {}
  kubert::Result reconcile(const kubert::ObjectKey& key);

 private:
  // Writes status if it changed; a progress-only change within progress_interval_ of the last write waits
  // (returned: when to come back).
  std::optional<std::chrono::milliseconds> write_status(const View& v, const kubert::ObjectKey& key);

  Context ctx_;
  const std::chrono::milliseconds progress_interval_;
  const CatalogSource* catalogs_;
  std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> last_write_;
};

}  // namespace meshupgrade
