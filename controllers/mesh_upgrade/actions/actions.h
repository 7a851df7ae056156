// The actions: each performs at most one bounded step against the API and records it in view.status.
#pragma once

#include <chrono>
#include <optional>

#include "controllers/mesh_upgrade/context.h"
#include "controllers/mesh_upgrade/decide.h"
#include "controllers/mesh_upgrade/observe.h"

namespace meshupgrade {

struct ActResult {
  std::optional<std::chrono::milliseconds> requeue_after;  // nullopt: wait for a watch event
  bool object_written = false;  // metadata changed (finalizer): the status write waits for the next reconcile
};

ActResult act(Context& ctx, const Decision& d, Observation& obs);

// One file each.
ActResult act_lifecycle(Context& ctx, const Decision& d, Observation& obs);   // actions/lifecycle.cpp
ActResult act_precheck(Context& ctx, const Decision& d, Observation& obs);    // actions/precheck.cpp
ActResult act_update_crds(Context& ctx, const Decision& d, Observation& obs); // actions/update_crds.cpp
ActResult act_control_plane(Context& ctx, const Decision& d, Observation& obs);  // actions/rollout_control_plane.cpp
ActResult act_sidecars(Context& ctx, const Decision& d, Observation& obs);    // actions/rollout_sidecars.cpp
ActResult act_verify(Context& ctx, const Decision& d, Observation& obs);      // actions/verify.cpp
ActResult act_rollback(Context& ctx, const Decision& d, Observation& obs);    // actions/rollback.cpp
ActResult act_record_helm_release(Context& ctx, const Decision& d, Observation& obs);  // actions/record_helm_release.cpp

// Requeue at the earliest deadline the observation found (a timeout), if any.
ActResult wait_for_deadline(Context& ctx, const View& v);

// A rolling restart as `kubectl rollout restart` does it, stamped with the attempt.
void restart_workload(Context& ctx, const WorkloadView& w, std::string_view stamp_key, const std::string& stamp);

}  // namespace meshupgrade
