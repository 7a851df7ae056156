// Verify: the whole mesh at the target, then Ready.
#include "controllers/mesh_upgrade/actions/actions.h"
#include "controllers/mesh_upgrade/conditions.h"
#include "controllers/mesh_upgrade/status.h"

namespace meshupgrade {

ActResult act_verify(Context& ctx, const Decision& d, Observation& obs) {
  View& v = obs.view;
  switch (d.action) {
    case Action::AwaitVerification:
      start_step(ctx, v, kStepVerify, v.status.value("message", std::string("verifying")));
      return wait_for_deadline(ctx, v);
    case Action::Succeed: {
      const std::string now = kubert::rfc3339(ctx.clock.wall());
      const std::string msg = "mesh " + v.spec.mesh_name + " runs osm-edge " + v.target_version + " with sidecar " +
                              v.target_sidecar + (v.spec.restart_workloads ? " in every meshed pod" : "");
      finish_step(ctx, v, kStepVerify, "Succeeded", "Verified", msg);
      v.status["phase"] = "Succeeded";
      v.status["message"] = msg;
      v.status["completedAt"] = now;
      v.status["attempt"]["endedGeneration"] = v.generation;
      summarize(v.status, Summary::Succeeded, "Succeeded", msg, v.generation, now);
      ctx.events.record(*v.object, "Normal", "UpgradeSucceeded", msg);
      ctx.expectations.forget_attempt(v.attempt_id);
      return {};
    }
    default:
      return {};
  }
}

}  // namespace meshupgrade
