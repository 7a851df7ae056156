// Rollback: previous control-plane images and args, previous sidecar image, and one more restart of what this
// attempt restarted.
#include "controllers/mesh_upgrade/actions/actions.h"
#include "controllers/mesh_upgrade/conditions.h"
#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/status.h"

namespace meshupgrade {

ActResult act_rollback(Context& ctx, const Decision& d, Observation& obs) {
  View& v = obs.view;
  const Observed& o = obs.facts;
  const json previous = v.status.value("previousImages", json::object());
  switch (d.action) {
    case Action::RollbackControlPlane:
      for (const auto& name : v.rollback_to_patch) {
        auto dep = v.control_plane.count(name) ? v.control_plane.at(name)
                                               : ctx.caches.control_plane->get(v.spec.osm_namespace, name);
        if (!dep) continue;
        const json patch = template_patch(snapshot(*dep), workload_images_from_json(previous["deployments"][name]));
        if (patch.is_null()) continue;
        ctx.api.patch({kDeployments, v.spec.osm_namespace, name}, kubert::PatchType::Strategic, patch);
        ctx.events.record(*v.object, "Normal", "RollbackPatched", "Deployment " + name + " restored to its previous images");
      }
      start_step(ctx, v, kStepRollback, "restoring the previous control plane");
      return {};
    case Action::RollbackMeshConfig:
      ctx.api.patch({kMeshConfigs, v.spec.osm_namespace, std::string(kMeshConfigName)}, kubert::PatchType::Merge,
                    json{{"spec", {{"sidecar", {{"sidecarImage", previous.value("sidecarImage", "")}}}}}});
      return {};
    case Action::RollbackRestart: {
      int slots = o.max_concurrent - o.rollback_in_flight;
      const std::string key = v.attempt_id + "/rollback";
      for (const auto& w : v.workloads) {
        if (slots <= 0) break;
        if (!w.restarted || w.rolled_back || ctx.expectations.expected(key, w.key())) continue;
        ctx.expectations.expect(key, w.key());
        try {
          restart_workload(ctx, w, kRolledBackBy, v.attempt_id);
        } catch (...) {
          ctx.expectations.observed(key, w.key());
          throw;
        }
        --slots;
      }
      start_step(ctx, v, kStepRollback, "restarting the workloads this upgrade restarted, onto the previous sidecar");
      return {};
    }
    case Action::AwaitRollback:
      start_step(ctx, v, kStepRollback, "waiting for the rolled-back workloads and control plane");
      return {};
    case Action::FinishRollback: {
      const std::string now = kubert::rfc3339(ctx.clock.wall());
      const json attempt = v.status.value("attempt", json::object());
      const Problem p{attempt.value("failureReason", std::string("UpgradeFailed")),
                      "rolled back to the previous images after " + attempt.value("failureReason", std::string("a failure")) +
                          ": " + attempt.value("failureMessage", std::string(""))};
      finish_step(ctx, v, kStepRollback, "Succeeded", "RolledBack", p.message);
      v.status["completedAt"] = now;
      v.status["attempt"]["endedGeneration"] = v.generation;
      stalled(ctx, v, Phase::RolledBack, p);
      ctx.events.record(*v.object, "Warning", "RolledBack", p.message);
      ctx.expectations.forget_attempt(v.attempt_id);
      ctx.expectations.forget_attempt(v.attempt_id + "/rollback");
      return {};
    }
    default:
      return {};
  }
}

}  // namespace meshupgrade
