// Sidecar rollout: MeshConfig's sidecar image, then rolling restarts of the meshed workloads still on another one.
#include "controllers/mesh_upgrade/actions/actions.h"
#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/status.h"

namespace meshupgrade {

ActResult act_sidecars(Context& ctx, const Decision& d, Observation& obs) {
  View& v = obs.view;
  const Observed& o = obs.facts;
  switch (d.action) {
    case Action::RecordSidecarImage:
      v.status["previousImages"]["sidecarImage"] =
          v.mesh_config ? status_string(*v.mesh_config, {"spec", "sidecar", "sidecarImage"}) : "";
      return {};
    case Action::PatchMeshConfigSidecar:
      // The injector reads MeshConfig at admission: from here on, every new pod gets the new sidecar.
      ctx.api.patch({kMeshConfigs, v.spec.osm_namespace, std::string(kMeshConfigName)}, kubert::PatchType::Merge,
                    json{{"spec", {{"sidecar", {{"sidecarImage", v.target_sidecar}}}}}});
      ctx.events.record(*v.object, "Normal", "SidecarImageSet", "MeshConfig sidecar image set to " + v.target_sidecar);
      return {};
    case Action::RestartWorkloads: {
      int slots = o.max_concurrent - o.workloads_in_flight;
      int issued = 0;
      for (const auto& w : v.workloads) {
        if (slots <= 0) break;
        if (!w.needs_restart || w.restarted) continue;
        // Expect first: a reconcile that sees the cache before our patch arrives must not restart it again.
        ctx.expectations.expect(v.attempt_id, w.key());
        try {
          restart_workload(ctx, w, kRestartedBy, v.attempt_id);
        } catch (...) {
          ctx.expectations.observed(v.attempt_id, w.key());
          throw;
        }
        --slots;
        ++issued;
      }
      start_step(ctx, v, kStepSidecars,
                 "restarting meshed workloads, " + std::to_string(o.max_concurrent) + " at a time: " +
                     v.status.value("progress", std::string("")) + " ready");
      return {};
    }
    case Action::AwaitWorkloads:
      start_step(ctx, v, kStepSidecars,
                 "restarting meshed workloads, " + std::to_string(o.max_concurrent) + " at a time: " +
                     v.status.value("progress", std::string("")) + " ready");
      return wait_for_deadline(ctx, v);
    case Action::FinishSidecars: {
      std::string msg = o.restart_workloads ? "every meshed workload runs sidecar " + v.target_sidecar
                                            : "MeshConfig holds sidecar " + v.target_sidecar +
                                                  "; workloads were not restarted (spec.sidecar.restartWorkloads=false)";
      if (!v.bare_pods.empty()) {
        msg += "; " + std::to_string(v.bare_pods.size()) + " bare pod(s) need a manual restart (status.workloads.manualRestart)";
      }
      finish_step(ctx, v, kStepSidecars, "Succeeded", "SidecarsUpgraded", msg);
      start_step(ctx, v, kStepVerify, "verifying the mesh at " + v.target_version);
      progressing(ctx, v, Phase::Verifying, "verifying");
      return {};
    }
    default:
      return {};
  }
}

}  // namespace meshupgrade
