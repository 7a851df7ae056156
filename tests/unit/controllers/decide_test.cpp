// The decision table: observed state in, the next action out, phase by phase.
#include <catch2/catch.hpp>

#include "controllers/mesh_upgrade/decide.h"

using namespace meshupgrade;

namespace {

Observed in_phase(Phase p) {
  Observed o;
  o.phase = p;
  return o;
}

template <typename F>
Observed with(Observed o, F&& f) {
  f(o);
  return o;
}

}  // namespace

TEST_CASE("decide picks the next action from what it observes") {
  struct Row {
    const char* name;
    Observed in;
    Action want;
  };
  const Problem problem{"Some", "thing"};
  const Row rows[] = {
      // The object.
      {"a deleted object lets its finalizer go", with(in_phase(Phase::RollingSidecars), [](auto& o) { o.deleting = true; }),
       Action::RemoveFinalizer},
      {"a deleted object without our finalizer needs nothing",
       with(in_phase(Phase::RollingSidecars), [](auto& o) { o.deleting = true; o.has_finalizer = false; }), Action::None},
      {"a new object gets the finalizer first", with(in_phase(Phase::Pending), [](auto& o) { o.has_finalizer = false; o.new_target = true; }),
       Action::AddFinalizer},
      {"a bad spec is reported", with(in_phase(Phase::Pending), [&](auto& o) { o.spec_error = problem; o.new_target = true; }),
       Action::ReportSpecError},
      {"a bad spec stops an upgrade in flight", with(in_phase(Phase::RollingSidecars), [&](auto& o) { o.spec_error = problem; }),
       Action::ReportSpecError},
      {"a fresh upgrade starts", with(in_phase(Phase::Pending), [](auto& o) { o.new_target = true; }), Action::StartUpgrade},
      {"a second upgrade of a mesh waits", with(in_phase(Phase::Pending), [&](auto& o) { o.new_target = true; o.waiting_for = problem; }),
       Action::WaitForOtherUpgrade},
      {"a suspended fresh upgrade does not start", with(in_phase(Phase::Pending), [](auto& o) { o.new_target = true; o.suspend = true; }),
       Action::Suspend},
      {"a finished upgrade is left as it is", in_phase(Phase::Succeeded), Action::None},
      {"a rolled-back upgrade is left as it is", in_phase(Phase::RolledBack), Action::None},
      {"a new target after success starts again", with(in_phase(Phase::Succeeded), [](auto& o) { o.new_target = true; }),
       Action::StartUpgrade},
      {"suspend holds an upgrade in flight", with(in_phase(Phase::UpgradingControlPlane), [](auto& o) { o.suspend = true; }),
       Action::Suspend},
      // Precheck.
      {"a refused precheck is reported", with(in_phase(Phase::Prechecking), [&](auto& o) { o.precheck_block = problem; }),
       Action::ReportPrecheckBlocked},
      {"the pull check pod is created", with(in_phase(Phase::Prechecking), [](auto& o) { o.pull = PullCheck::NotStarted; }),
       Action::CreatePullCheck},
      {"a stale pull check pod goes first",
       with(in_phase(Phase::Prechecking), [](auto& o) { o.pull = PullCheck::NotStarted; o.pull_pod_exists = true; }),
       Action::DeletePullCheck},
      {"a running pull check is awaited", with(in_phase(Phase::Prechecking), [](auto& o) { o.pull = PullCheck::Running; }),
       Action::AwaitPullCheck},
      {"a failed pull check is cleaned up before it is reported",
       with(in_phase(Phase::Prechecking), [](auto& o) { o.pull = PullCheck::Failed; o.pull_pod_exists = true; }),
       Action::DeletePullCheck},
      {"a failed pull check is reported once cleaned up",
       with(in_phase(Phase::Prechecking), [](auto& o) { o.pull = PullCheck::Failed; }), Action::ReportPrecheckBlocked},
      {"a passed pull check is cleaned up",
       with(in_phase(Phase::Prechecking), [](auto& o) { o.pull = PullCheck::Succeeded; o.pull_pod_exists = true; }),
       Action::DeletePullCheck},
      {"a passed precheck moves on", with(in_phase(Phase::Prechecking), [](auto& o) { o.pull = PullCheck::Succeeded; }),
       Action::FinishPrecheck},
      {"a dry run stops after the precheck", with(in_phase(Phase::Prechecking), [](auto& o) { o.dry_run = true; }),
       Action::FinishDryRun},
      // CRDs.
      {"previous images are recorded before any change", in_phase(Phase::UpdatingCRDs), Action::RecordPreviousImages},
      {"CRDs from a ConfigMap are applied",
       with(in_phase(Phase::UpdatingCRDs), [](auto& o) { o.previous_recorded = true; o.crds_need_apply = true; }),
       Action::ApplyCrds},
      {"osm-bootstrap moves first to bring the CRDs",
       with(in_phase(Phase::UpdatingCRDs), [](auto& o) { o.previous_recorded = true; o.bootstrap_needs_patch = true; }),
       Action::PatchBootstrap},
      {"bootstrap rolling out is awaited",
       with(in_phase(Phase::UpdatingCRDs), [](auto& o) { o.previous_recorded = true; o.bootstrap_rollout = Rollout::Progressing; }),
       Action::AwaitCrds},
      {"CRDs not yet established are awaited",
       with(in_phase(Phase::UpdatingCRDs), [](auto& o) { o.previous_recorded = true; o.bootstrap_rollout = Rollout::Complete; }),
       Action::AwaitCrds},
      {"established CRDs finish the step",
       with(in_phase(Phase::UpdatingCRDs),
            [](auto& o) { o.previous_recorded = true; o.bootstrap_rollout = Rollout::Complete; o.crds_established = true; }),
       Action::FinishCrds},
      {"CRDs that time out fail", with(in_phase(Phase::UpdatingCRDs), [&](auto& o) { o.previous_recorded = true; o.failure = problem; }),
       Action::Fail},
      // Control plane.
      {"control-plane deployments are patched",
       with(in_phase(Phase::UpgradingControlPlane), [](auto& o) { o.previous_recorded = true; o.control_plane_to_patch = 2; }),
       Action::PatchControlPlane},
      {"a resumed control-plane step records images it lacks", in_phase(Phase::UpgradingControlPlane),
       Action::RecordPreviousImages},
      {"the control-plane rollout is awaited",
       with(in_phase(Phase::UpgradingControlPlane), [](auto& o) { o.previous_recorded = true; o.control_plane_rollout = Rollout::Progressing; }),
       Action::AwaitControlPlane},
      {"a failed control-plane rollout fails",
       with(in_phase(Phase::UpgradingControlPlane), [&](auto& o) { o.previous_recorded = true; o.failure = problem; }), Action::Fail},
      {"the MeshConfig patch follows the control plane",
       with(in_phase(Phase::UpgradingControlPlane),
            [](auto& o) { o.previous_recorded = true; o.control_plane_rollout = Rollout::Complete; o.mesh_config_patch_pending = true; }),
       Action::ApplyMeshConfigPatch},
      {"add-on images follow",
       with(in_phase(Phase::UpgradingControlPlane),
            [](auto& o) { o.previous_recorded = true; o.control_plane_rollout = Rollout::Complete; o.addons_pending = true; }),
       Action::PatchAddons},
      {"a rolled-out control plane finishes the step",
       with(in_phase(Phase::UpgradingControlPlane), [](auto& o) { o.previous_recorded = true; o.control_plane_rollout = Rollout::Complete; }),
       Action::FinishControlPlane},
      // Sidecars.
      {"the previous sidecar image is recorded first", in_phase(Phase::RollingSidecars), Action::RecordSidecarImage},
      {"MeshConfig gets the target sidecar", with(in_phase(Phase::RollingSidecars), [](auto& o) { o.sidecar_recorded = true; }),
       Action::PatchMeshConfigSidecar},
      {"workloads are restarted while there are free slots",
       with(in_phase(Phase::RollingSidecars),
            [](auto& o) { o.sidecar_recorded = o.mesh_config_at_target = true; o.workloads_to_restart = 5; o.workloads_in_flight = 9; }),
       Action::RestartWorkloads},
      {"a full batch is awaited",
       with(in_phase(Phase::RollingSidecars),
            [](auto& o) { o.sidecar_recorded = o.mesh_config_at_target = true; o.workloads_to_restart = 5; o.workloads_in_flight = 10; }),
       Action::AwaitWorkloads},
      {"the last batch is awaited",
       with(in_phase(Phase::RollingSidecars), [](auto& o) { o.sidecar_recorded = o.mesh_config_at_target = true; o.workloads_in_flight = 1; }),
       Action::AwaitWorkloads},
      {"failed workloads at the threshold stop the rollout",
       with(in_phase(Phase::RollingSidecars),
            [](auto& o) { o.sidecar_recorded = o.mesh_config_at_target = true; o.workloads_to_restart = 5; o.workloads_failed = 1; }),
       Action::Fail},
      {"failed workloads under the threshold do not stop it",
       with(in_phase(Phase::RollingSidecars), [](auto& o) {
         o.sidecar_recorded = o.mesh_config_at_target = true;
         o.workloads_to_restart = 5;
         o.workloads_failed = 1;
         o.failure_threshold = 3;
       }),
       Action::RestartWorkloads},
      {"no restarts when the spec says so",
       with(in_phase(Phase::RollingSidecars),
            [](auto& o) { o.sidecar_recorded = o.mesh_config_at_target = true; o.restart_workloads = false; o.workloads_to_restart = 3; }),
       Action::FinishSidecars},
      {"every workload on the target finishes the step",
       with(in_phase(Phase::RollingSidecars), [](auto& o) { o.sidecar_recorded = o.mesh_config_at_target = true; }),
       Action::FinishSidecars},
      // Verify.
      {"verification waits for the mesh", in_phase(Phase::Verifying), Action::AwaitVerification},
      {"a verified mesh succeeds", with(in_phase(Phase::Verifying), [](auto& o) { o.verified = true; }), Action::Succeed},
      {"verification that times out fails", with(in_phase(Phase::Verifying), [&](auto& o) { o.failure = problem; }), Action::Fail},
      // Rollback.
      {"rollback restores the control plane first",
       with(in_phase(Phase::RollingBack), [](auto& o) { o.rollback_control_plane_to_patch = 2; o.rollback_mesh_config_pending = true; }),
       Action::RollbackControlPlane},
      {"then the sidecar image", with(in_phase(Phase::RollingBack), [](auto& o) { o.rollback_mesh_config_pending = true; }),
       Action::RollbackMeshConfig},
      {"then restarts what the upgrade restarted", with(in_phase(Phase::RollingBack), [](auto& o) { o.rollback_to_restart = 3; }),
       Action::RollbackRestart},
      {"a failure during rollback does not start another rollback",
       with(in_phase(Phase::RollingBack), [&](auto& o) { o.failure = problem; o.rollback_in_flight = 1; }), Action::AwaitRollback},
      {"rollback waits for its restarts", with(in_phase(Phase::RollingBack), [](auto& o) { o.rollback_in_flight = 2; }),
       Action::AwaitRollback},
      {"rollback waits for the control plane",
       with(in_phase(Phase::RollingBack), [](auto& o) { o.rollback_control_plane_rollout = Rollout::Progressing; }), Action::AwaitRollback},
      {"a finished rollback ends in RolledBack", in_phase(Phase::RollingBack), Action::FinishRollback},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    CHECK(to_string(decide(row.in).action) == to_string(row.want));
  }
}

TEST_CASE("a failed rollout names what failed") {
  Observed o = in_phase(Phase::RollingSidecars);
  o.sidecar_recorded = o.mesh_config_at_target = true;
  o.workloads_failed = 2;
  o.failure_threshold = 2;
  const auto d = decide(o);
  REQUIRE(d.action == Action::Fail);
  CHECK(d.problem.reason == "SidecarRolloutFailed");
  CHECK(d.problem.message.find("2 workload(s)") != std::string::npos);
}

TEST_CASE("a precheck refusal carries its reason to the action") {
  Observed o = in_phase(Phase::Prechecking);
  o.precheck_block = Problem{"UnsupportedUpgradePath", "no"};
  CHECK(decide(o).problem.reason == "UnsupportedUpgradePath");
}
