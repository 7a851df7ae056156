// Wires the MeshUpgrade controller into a Manager.
#pragma once

#include "operator/kube_api.h"
#include "operator/manager.h"
#include "operator/options.h"

namespace meshupgrade {

void setup(kubert::Manager& mgr, kubert::KubeApi& api, const kubert::ManagerOptions& opts);

}  // namespace meshupgrade
