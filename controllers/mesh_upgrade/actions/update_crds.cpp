// CRD update: record what runs (for rollback), apply CRDs or move osm-bootstrap, wait for Established.
#include "controllers/mesh_upgrade/actions/actions.h"
#include "controllers/mesh_upgrade/manifests.h"
#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/status.h"

namespace meshupgrade {

// Patches one control-plane Deployment to the target's images and image-bearing args.
void patch_to_target(Context& ctx, View& v, const std::string& name) {
  const auto& dep = v.control_plane.at(name);
  const auto now = snapshot(*dep);
  const json patch = template_patch(now, rewrite(now, v.image_target));
  if (patch.is_null()) return;
  const kubert::ObjectRef ref{kDeployments, v.spec.osm_namespace, name};
  try {
    ctx.api.patch(ref, kubert::PatchType::Strategic, patch);
  } catch (...) {
    std::throw_with_nested(std::runtime_error("move " + ref.str() + " to " + v.target_version));
  }
  ctx.events.record(*v.object, "Normal", "ControlPlanePatched",
                    "Deployment " + name + " moved to " + v.image_target.registry + " tag " + v.image_target.tag);
}

ActResult act_update_crds(Context& ctx, const Decision& d, Observation& obs) {
  View& v = obs.view;
  switch (d.action) {
    case Action::RecordPreviousImages: {
      // Written before the first change, so a rollback (even by a restarted operator) knows what to restore.
      json deployments = json::object();
      for (const auto& [name, dep] : v.control_plane) deployments[name] = to_json(snapshot(*dep));
      for (auto addon : kAddonDeployments) {
        if (auto dep = ctx.caches.control_plane->get(v.spec.osm_namespace, std::string(addon))) {
          deployments[std::string(addon)] = to_json(snapshot(*dep));
        }
      }
      v.status["previousImages"]["deployments"] = deployments;
      return {};
    }
    case Action::ApplyCrds: {
      const int n = apply_config_map(ctx.api, v.spec.osm_namespace, v.spec.crd_config_map, v.spec.osm_namespace, true);
      v.status["attempt"]["crdsApplied"] = true;
      start_step(ctx, v, kStepCRDs, "applied " + std::to_string(n) + " CRD(s) from ConfigMap " + v.spec.crd_config_map);
      return {};
    }
    case Action::PatchBootstrap:
      if (v.spec.control_plane_source == ControlPlaneSource::Manifests) {
        const int n = apply_config_map(ctx.api, v.spec.osm_namespace, v.spec.manifests_config_map, v.spec.osm_namespace, false);
        v.status["attempt"]["manifestsApplied"] = true;
        start_step(ctx, v, kStepCRDs, "applied " + std::to_string(n) + " object(s) of " + v.target_version +
                                          " from ConfigMap " + v.spec.manifests_config_map + "; osm-bootstrap brings the CRDs");
        return {};
      }
      patch_to_target(ctx, v, "osm-bootstrap");
      start_step(ctx, v, kStepCRDs, "osm-bootstrap moves to " + v.target_version + " and brings its CRDs");
      return {};
    case Action::AwaitCrds:
      start_step(ctx, v, kStepCRDs, "waiting: " + v.waiting);
      return wait_for_deadline(ctx, v);
    case Action::FinishCrds:
      finish_step(ctx, v, kStepCRDs, "Succeeded", "CRDsUpdated",
                  std::to_string(v.target->crds.size()) + " osm-edge CRDs established at " + v.target_version);
      start_step(ctx, v, kStepControlPlane, "moving the control plane to " + v.target_version);
      progressing(ctx, v, Phase::UpgradingControlPlane, "upgrading the control plane");
      return {};
    default:
      return {};
  }
}

}  // namespace meshupgrade
