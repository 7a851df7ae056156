// How far a workload's rollout has come, judged as `kubectl rollout status` judges it.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "controllers/mesh_upgrade/decide.h"

namespace meshupgrade {

struct RolloutStatus {
  Rollout state = Rollout::Unknown;
  std::string message;  // why not complete, or why failed
};

// kind: Deployment, StatefulSet or DaemonSet.
RolloutStatus rollout_status(const std::string& kind, const nlohmann::json& object);

// A pod's container that cannot run: ErrImagePull, ImagePullBackOff, InvalidImageName, CrashLoopBackOff...
// "" when none. Names the container and the reason.
std::string pod_failure(const nlohmann::json& pod);
bool pod_ready(const nlohmann::json& pod);

}  // namespace meshupgrade
