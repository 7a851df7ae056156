// The decision: given what is observed, the one next action. Pure: no I/O, no clock, no logging.
#pragma once

#include <optional>
#include <string>

#include "controllers/mesh_upgrade/phase.h"

namespace meshupgrade {

// A reason (CamelCase, a condition reason) and a message for a person.
struct Problem {
  std::string reason;
  std::string message;
  bool operator==(const Problem&) const = default;
};

enum class Rollout { Unknown, Progressing, Complete, Failed };
enum class PullCheck { NotNeeded, NotStarted, Running, Succeeded, Failed };

struct Observed {
  // The MeshUpgrade object itself.
  bool deleting = false;
  bool has_finalizer = true;
  std::optional<Problem> spec_error;  // InvalidSpec, UnknownVersion: only a spec change helps
  bool suspend = false;
  bool dry_run = false;
  bool new_target = false;            // the spec names a target other than the recorded attempt's (or none is)
  Phase phase = Phase::Pending;       // where the attempt stands (Suspended resolved to the step in hand)
  std::optional<Problem> waiting_for; // another upgrade of the same mesh goes first

  // Prechecking.
  std::optional<Problem> precheck_block;  // the precheck refuses
  bool precheck_retry = false;            // the refusal is environmental: look again later
  PullCheck pull = PullCheck::NotNeeded;
  std::optional<Problem> pull_failure;
  bool pull_pod_exists = false;

  // UpdatingCRDs (and the control plane's first change).
  bool previous_recorded = false;   // previous images are in status, so changes may start
  bool crds_need_apply = false;     // ConfigMap source: manifests not yet applied
  bool bootstrap_needs_patch = false;
  Rollout bootstrap_rollout = Rollout::Unknown;
  bool crds_established = false;

  // UpgradingControlPlane.
  int control_plane_to_patch = 0;
  Rollout control_plane_rollout = Rollout::Unknown;
  bool mesh_config_patch_pending = false;
  bool addons_pending = false;
  bool helm_record_pending = false;   // the mesh is a Helm release whose record does not name the target yet

  // RollingSidecars.
  bool sidecar_recorded = false;    // the previous sidecar image is in status
  bool mesh_config_at_target = false;
  bool restart_workloads = true;
  int workloads_to_restart = 0;     // on another sidecar, not restarted by this upgrade yet
  int workloads_in_flight = 0;      // restarted, rollout not finished
  int workloads_failed = 0;
  int failure_threshold = 1;
  int max_concurrent = 10;

  // Verifying.
  bool verified = false;

  // Any phase: a failure observed in the step in hand (a rollout past its deadline, a timeout).
  std::optional<Problem> failure;
  bool rollback_on_failure = true;

  // RollingBack.
  int rollback_control_plane_to_patch = 0;
  bool rollback_mesh_config_pending = false;
  int rollback_to_restart = 0;
  int rollback_in_flight = 0;
  Rollout rollback_control_plane_rollout = Rollout::Unknown;
  bool helm_rollback_pending = false; // this attempt wrote a Helm revision that the rollback must supersede
};

enum class Action {
  None,                  // wait for a watch event (or the requeue a timeout asks for)
  AddFinalizer,
  RemoveFinalizer,       // the object is being deleted: stop where we are
  ReportSpecError,       // Stalled, until the spec changes
  StartUpgrade,          // a new attempt: history, steps, Reconciling
  WaitForOtherUpgrade,
  Suspend,
  ReportPrecheckBlocked, // Stalled with the precheck's reason; nothing in the mesh changed
  CreatePullCheck,
  AwaitPullCheck,
  DeletePullCheck,
  FinishPrecheck,        // plan written, PrecheckPassed
  FinishDryRun,
  RecordPreviousImages,
  ApplyCrds,
  PatchBootstrap,
  AwaitCrds,
  FinishCrds,
  PatchControlPlane,
  AwaitControlPlane,
  ApplyMeshConfigPatch,
  PatchAddons,
  RecordHelmRelease,     // the next Helm revision, as `helm upgrade` writes it
  FinishControlPlane,
  RecordSidecarImage,
  PatchMeshConfigSidecar,
  RestartWorkloads,
  AwaitWorkloads,
  FinishSidecars,
  AwaitVerification,
  Succeed,
  Fail,                  // Failed (Stalled) or on to RollingBack, per rollbackOnFailure
  RollbackControlPlane,
  RollbackMeshConfig,
  RollbackRestart,
  AwaitRollback,
  RecordHelmRollback,    // the next Helm revision, as `helm rollback` writes it
  FinishRollback,
};

std::string_view to_string(Action a);

struct Decision {
  Action action = Action::None;
  Problem problem;  // for the actions that report one
};

Decision decide(const Observed& o) noexcept;

}  // namespace meshupgrade
