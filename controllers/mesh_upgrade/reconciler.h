// The MeshUpgrade reconciler: observe → decide → act (one bounded step) → write status only if it changed.
#pragma once

#include "controllers/mesh_upgrade/context.h"
#include "operator/controller.h"

namespace meshupgrade {

class MeshUpgradeReconciler {
 public:
  explicit MeshUpgradeReconciler(Context ctx) : ctx_(std::move(ctx)) {}
  kubert::Result reconcile(const kubert::ObjectKey& key);

 private:
  Context ctx_;
};

}  // namespace meshupgrade
