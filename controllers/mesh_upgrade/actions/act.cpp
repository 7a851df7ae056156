// Dispatches a decision to the file that performs it.
#include "controllers/mesh_upgrade/actions/actions.h"

#include "controllers/mesh_upgrade/names.h"

namespace meshupgrade {

ActResult wait_for_deadline(Context& ctx, const View& v) {
  if (!v.deadline) return {};
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*v.deadline - ctx.clock.wall());
  return {std::max(left, std::chrono::milliseconds(0)) + std::chrono::milliseconds(500)};
}

namespace {

// The pod-template stamp with nanoseconds: kubectl's whole seconds let a rollback restart in the same second as the
// upgrade's leave the template unchanged, so nothing rolled (issue 17). Any new value starts a rollout.
std::string template_stamp(std::chrono::system_clock::time_point t) {
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  const long long nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(t - secs).count();
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lldZ", nanos);
  std::string s = kubert::rfc3339(secs);
  return s.substr(0, s.size() - 1) + frac;
}

}  // namespace

void restart_workload(Context& ctx, const WorkloadView& w, std::string_view stamp_key, const std::string& stamp) {
  const auto wall = ctx.clock.wall();
  const std::string now = kubert::rfc3339(wall);
  // One patch carries both the restart and its stamp: after a crash the stamp tells that it was issued.
  json patch = {{"metadata", {{"annotations", {{std::string(stamp_key), stamp}, {std::string(kRestartedAt), now}}}}},
                {"spec", {{"template", {{"metadata", {{"annotations", {{std::string(kKubectlRestartedAt), template_stamp(wall)}}}}}}}}}};
  try {
    ctx.api.patch(w.ref, kubert::PatchType::Strategic, patch);
  } catch (...) {
    std::throw_with_nested(std::runtime_error("restart " + w.key()));
  }
}

ActResult act(Context& ctx, const Decision& d, Observation& obs) {
  switch (d.action) {
    case Action::None:
    case Action::AddFinalizer:
    case Action::RemoveFinalizer:
    case Action::ReportSpecError:
    case Action::StartUpgrade:
    case Action::WaitForOtherUpgrade:
    case Action::Suspend:
    case Action::Fail:
      return act_lifecycle(ctx, d, obs);
    case Action::ReportPrecheckBlocked:
    case Action::CreatePullCheck:
    case Action::AwaitPullCheck:
    case Action::DeletePullCheck:
    case Action::FinishPrecheck:
    case Action::FinishDryRun:
      return act_precheck(ctx, d, obs);
    case Action::RecordPreviousImages:
    case Action::ApplyCrds:
    case Action::PatchBootstrap:
    case Action::AwaitCrds:
    case Action::FinishCrds:
      return act_update_crds(ctx, d, obs);
    case Action::PatchControlPlane:
    case Action::AwaitControlPlane:
    case Action::ApplyMeshConfigPatch:
    case Action::PatchAddons:
    case Action::FinishControlPlane:
      return act_control_plane(ctx, d, obs);
    case Action::RecordSidecarImage:
    case Action::PatchMeshConfigSidecar:
    case Action::RestartWorkloads:
    case Action::AwaitWorkloads:
    case Action::FinishSidecars:
      return act_sidecars(ctx, d, obs);
    case Action::AwaitVerification:
    case Action::Succeed:
      return act_verify(ctx, d, obs);
    case Action::RollbackControlPlane:
    case Action::RollbackMeshConfig:
    case Action::RollbackRestart:
    case Action::AwaitRollback:
    case Action::FinishRollback:
      return act_rollback(ctx, d, obs);
    case Action::RecordHelmRelease:
    case Action::RecordHelmRollback:
      return act_record_helm_release(ctx, d, obs);
  }
  return {};
}

}  // namespace meshupgrade
