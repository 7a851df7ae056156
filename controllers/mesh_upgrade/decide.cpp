// The decision table: one next action from observed state, phase by phase.
#include "controllers/mesh_upgrade/decide.h"

namespace meshupgrade {
namespace {

Decision act(Action a) { return Decision{a, {}}; }
Decision act(Action a, const Problem& p) { return Decision{a, p}; }

Decision precheck(const Observed& o) {
  if (o.precheck_block) return act(Action::ReportPrecheckBlocked, *o.precheck_block);
  switch (o.pull) {
    case PullCheck::NotStarted:
      return act(o.pull_pod_exists ? Action::DeletePullCheck : Action::CreatePullCheck);
    case PullCheck::Running: return act(Action::AwaitPullCheck);
    case PullCheck::Failed:
      // Clean up first, then report: the precheck must leave nothing behind.
      if (o.pull_pod_exists) return act(Action::DeletePullCheck);
      return act(Action::ReportPrecheckBlocked,
                 o.pull_failure.value_or(Problem{"ImagesNotPullable", "the target images cannot be pulled"}));
    case PullCheck::Succeeded:
      if (o.pull_pod_exists) return act(Action::DeletePullCheck);
      break;
    case PullCheck::NotNeeded: break;
  }
  return act(o.dry_run ? Action::FinishDryRun : Action::FinishPrecheck);
}

Decision update_crds(const Observed& o) {
  if (!o.previous_recorded) return act(Action::RecordPreviousImages);
  if (o.crds_need_apply) return act(Action::ApplyCrds);
  if (o.bootstrap_needs_patch) return act(Action::PatchBootstrap);
  if (o.bootstrap_rollout == Rollout::Progressing || o.bootstrap_rollout == Rollout::Unknown) {
    return act(Action::AwaitCrds);
  }
  if (!o.crds_established) return act(Action::AwaitCrds);
  return act(Action::FinishCrds);
}

Decision control_plane(const Observed& o) {
  if (!o.previous_recorded) return act(Action::RecordPreviousImages);
  if (o.control_plane_to_patch > 0) return act(Action::PatchControlPlane);
  if (o.control_plane_rollout != Rollout::Complete) return act(Action::AwaitControlPlane);
  if (o.mesh_config_patch_pending) return act(Action::ApplyMeshConfigPatch);
  if (o.addons_pending) return act(Action::PatchAddons);
  if (o.helm_record_pending) return act(Action::RecordHelmRelease);
  return act(Action::FinishControlPlane);
}

Decision sidecars(const Observed& o) {
  if (!o.sidecar_recorded) return act(Action::RecordSidecarImage);
  if (!o.mesh_config_at_target) return act(Action::PatchMeshConfigSidecar);
  if (!o.restart_workloads) return act(Action::FinishSidecars);
  if (o.workloads_to_restart > 0 && o.workloads_in_flight < o.max_concurrent) return act(Action::RestartWorkloads);
  if (o.workloads_in_flight > 0 || o.workloads_to_restart > 0) return act(Action::AwaitWorkloads);
  return act(Action::FinishSidecars);
}

Decision rollback(const Observed& o) {
  if (o.rollback_control_plane_to_patch > 0) return act(Action::RollbackControlPlane);
  if (o.rollback_mesh_config_pending) return act(Action::RollbackMeshConfig);
  if (o.rollback_to_restart > 0 && o.rollback_in_flight < o.max_concurrent) return act(Action::RollbackRestart);
  if (o.rollback_in_flight > 0 || o.rollback_to_restart > 0 ||
      o.rollback_control_plane_rollout == Rollout::Progressing) {
    return act(Action::AwaitRollback);
  }
  if (o.helm_rollback_pending) return act(Action::RecordHelmRollback);
  return act(Action::FinishRollback);
}

}  // namespace

Decision decide(const Observed& o) noexcept {
  if (o.deleting) return act(o.has_finalizer ? Action::RemoveFinalizer : Action::None);
  if (!o.has_finalizer) return act(Action::AddFinalizer);

  // A bad spec stops everything, in flight or not, until the spec changes: nothing more is touched.
  if (o.spec_error) return act(Action::ReportSpecError, *o.spec_error);
  // A new target (or a first one) starts an attempt; a finished upgrade is otherwise left as it is.
  if (o.new_target) {
    if (o.waiting_for) return act(Action::WaitForOtherUpgrade, *o.waiting_for);
    if (o.suspend) return act(Action::Suspend);
    return act(Action::StartUpgrade);
  }
  if (!is_in_flight(o.phase)) return act(Action::None);
  if (o.suspend) return act(Action::Suspend);

  // A failure in the step in hand wins over progress; during rollback it ends the rollback.
  if (o.failure && o.phase != Phase::RollingBack) return act(Action::Fail, *o.failure);

  switch (o.phase) {
    case Phase::Prechecking: return precheck(o);
    case Phase::UpdatingCRDs: return update_crds(o);
    case Phase::UpgradingControlPlane: return control_plane(o);
    case Phase::RollingSidecars:
      if (o.workloads_failed >= o.failure_threshold) {
        return act(Action::Fail, {"SidecarRolloutFailed",
                                  std::to_string(o.workloads_failed) + " workload(s) failed to roll out the new sidecar "
                                  "(failureThreshold " + std::to_string(o.failure_threshold) + ")"});
      }
      return sidecars(o);
    case Phase::Verifying: return act(o.verified ? Action::Succeed : Action::AwaitVerification);
    case Phase::RollingBack: return rollback(o);
    default: return act(Action::None);
  }
}

std::string_view to_string(Action a) {
  switch (a) {
    case Action::None: return "None";
    case Action::AddFinalizer: return "AddFinalizer";
    case Action::RemoveFinalizer: return "RemoveFinalizer";
    case Action::ReportSpecError: return "ReportSpecError";
    case Action::StartUpgrade: return "StartUpgrade";
    case Action::WaitForOtherUpgrade: return "WaitForOtherUpgrade";
    case Action::Suspend: return "Suspend";
    case Action::ReportPrecheckBlocked: return "ReportPrecheckBlocked";
    case Action::CreatePullCheck: return "CreatePullCheck";
    case Action::AwaitPullCheck: return "AwaitPullCheck";
    case Action::DeletePullCheck: return "DeletePullCheck";
    case Action::FinishPrecheck: return "FinishPrecheck";
    case Action::FinishDryRun: return "FinishDryRun";
    case Action::RecordPreviousImages: return "RecordPreviousImages";
    case Action::ApplyCrds: return "ApplyCrds";
    case Action::PatchBootstrap: return "PatchBootstrap";
    case Action::AwaitCrds: return "AwaitCrds";
    case Action::FinishCrds: return "FinishCrds";
    case Action::PatchControlPlane: return "PatchControlPlane";
    case Action::AwaitControlPlane: return "AwaitControlPlane";
    case Action::ApplyMeshConfigPatch: return "ApplyMeshConfigPatch";
    case Action::PatchAddons: return "PatchAddons";
    case Action::RecordHelmRelease: return "RecordHelmRelease";
    case Action::FinishControlPlane: return "FinishControlPlane";
    case Action::RecordSidecarImage: return "RecordSidecarImage";
    case Action::PatchMeshConfigSidecar: return "PatchMeshConfigSidecar";
    case Action::RestartWorkloads: return "RestartWorkloads";
    case Action::AwaitWorkloads: return "AwaitWorkloads";
    case Action::FinishSidecars: return "FinishSidecars";
    case Action::AwaitVerification: return "AwaitVerification";
    case Action::Succeed: return "Succeed";
    case Action::Fail: return "Fail";
    case Action::RollbackControlPlane: return "RollbackControlPlane";
    case Action::RollbackMeshConfig: return "RollbackMeshConfig";
    case Action::RollbackRestart: return "RollbackRestart";
    case Action::AwaitRollback: return "AwaitRollback";
    case Action::RecordHelmRollback: return "RecordHelmRollback";
    case Action::FinishRollback: return "FinishRollback";
  }
  return "None";
}

}  // namespace meshupgrade
