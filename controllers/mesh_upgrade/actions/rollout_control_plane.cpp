// Control-plane rollout: move osm-controller and osm-injector (and bootstrap if not yet), wait, then MeshConfig
// patch and add-on images.
#include "controllers/mesh_upgrade/actions/actions.h"
#include "controllers/mesh_upgrade/manifests.h"
#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/status.h"

namespace meshupgrade {

void patch_to_target(Context& ctx, View& v, const std::string& name);  // actions/update_crds.cpp

namespace {

std::string helm_note(const View& v) {
  if (!v.status.contains("helmRelease")) return "";
  const auto& h = v.status["helmRelease"];
  return " Helm release " + h.value("name", std::string("osm")) + " revision " + std::to_string(h.value("revision", 0)) +
         " records chart " + h.value("chartVersion", std::string("?")) + " (helm history shows it).";
}

}  // namespace

ActResult act_control_plane(Context& ctx, const Decision& d, Observation& obs) {
  View& v = obs.view;
  switch (d.action) {
    case Action::PatchControlPlane:
      if (v.spec.control_plane_source == ControlPlaneSource::Manifests) {
        const int n = apply_config_map(ctx.api, v.spec.osm_namespace, v.spec.manifests_config_map, v.spec.osm_namespace, false);
        v.status["attempt"]["manifestsApplied"] = true;
        start_step(ctx, v, kStepControlPlane,
                   "applied " + std::to_string(n) + " object(s) from ConfigMap " + v.spec.manifests_config_map);
        return {};
      }
      for (const auto& name : v.control_plane_to_patch) patch_to_target(ctx, v, name);
      start_step(ctx, v, kStepControlPlane, "rolling out osm-controller and osm-injector " + v.target_version);
      return {};
    case Action::AwaitControlPlane:
      start_step(ctx, v, kStepControlPlane, "waiting: " + v.waiting);
      return wait_for_deadline(ctx, v);
    case Action::ApplyMeshConfigPatch:
      ctx.api.patch({kMeshConfigs, v.spec.osm_namespace, std::string(kMeshConfigName)}, kubert::PatchType::Merge,
                    json::parse(v.spec.mesh_config_patch));
      ctx.events.record(*v.object, "Normal", "MeshConfigPatched", "spec.meshConfigPatch applied to MeshConfig " +
                                                                     std::string(kMeshConfigName));
      return {};
    case Action::PatchAddons:
      for (const auto& entry : v.addons_to_patch) {
        const auto first = entry.find('='), second = entry.find('=', first + 1);
        const std::string dep = entry.substr(0, first), container = entry.substr(first + 1, second - first - 1),
                          image = entry.substr(second + 1);
        json patch = {{"spec", {{"template", {{"spec", {{"containers", {{{"name", container}, {"image", image}}}}}}}}}}};
        ctx.api.patch({kDeployments, v.spec.osm_namespace, dep}, kubert::PatchType::Strategic, patch);
        ctx.events.record(*v.object, "Normal", "AddonPatched", "Deployment " + dep + " set to " + image);
      }
      return {};
    case Action::FinishControlPlane:
      finish_step(ctx, v, kStepControlPlane, "Succeeded", "ControlPlaneUpgraded",
                  "osm-bootstrap, osm-controller and osm-injector run " + v.target_version + "." + helm_note(v));
      start_step(ctx, v, kStepSidecars, "moving meshed workloads to sidecar " + v.target_sidecar);
      progressing(ctx, v, Phase::RollingSidecars, "rolling sidecars");
      return {};
    default:
      return {};
  }
}

}  // namespace meshupgrade
