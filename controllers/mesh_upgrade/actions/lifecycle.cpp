// Actions on the MeshUpgrade itself: finalizer, spec errors, starting, waiting, suspending, failing.
#include "controllers/mesh_upgrade/actions/actions.h"
#include "controllers/mesh_upgrade/conditions.h"
#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/status.h"

namespace meshupgrade {
namespace {

constexpr std::size_t kHistoryLimit = 10;

void set_finalizers(Context& ctx, const View& v, bool present) {
  const json& meta = (*v.object)["metadata"];
  json finalizers = json::array();
  for (const auto& f : meta.value("finalizers", json::array())) {
    if (f != kFinalizer) finalizers.push_back(f);
  }
  if (present) finalizers.push_back(kFinalizer);
  // The resourceVersion makes the merge patch conditional: another writer's finalizer is never lost.
  json patch = {{"metadata", {{"finalizers", finalizers}, {"resourceVersion", meta.value("resourceVersion", "")}}}};
  ctx.api.patch(v.ref, kubert::PatchType::Merge, patch);
}

void start(Context& ctx, View& v) {
  const Phase old = parse_phase(v.status.value("phase", "")).value_or(Phase::Pending);
  const json old_attempt = v.status.value("attempt", json::object());
  if (is_terminal(old) && v.status.contains("toVersion")) {
    json history = v.status.value("history", json::array());
    const json entry = {{"targetVersion", v.status.value("toVersion", "")},
                        {"phase", v.status.value("phase", "")},
                        {"completedAt", v.status.value("completedAt", "")},
                        {"message", v.status.value("message", "")}};
    history.push_back(entry);  // newest last, as docs/api.md says
    if (history.size() > kHistoryLimit) history.erase(history.begin(), history.end() - kHistoryLimit);
    v.status["history"] = history;
  }
  // An attempt that replaces one in flight keeps what the mesh ran before either: that is what rollback restores.
  if (!is_in_flight(old)) v.status.erase("previousImages");
  ctx.expectations.forget_attempt(v.attempt_id);
  for (const char* key : {"plan", "workloads", "completedAt", "fromVersion", "upgradePath", "progress", "helmRelease"}) {
    v.status.erase(key);
  }
  for (auto cond : {"PrecheckPassed", "CRDsUpdated", "ControlPlaneUpgraded", "SidecarsUpgraded", "Verified"}) {
    remove_condition(v.status, cond);
  }
  v.status["attempt"] = {{"generation", v.generation},
                         {"target", v.spec.target_identity() + (v.spec.dry_run ? "|dry-run" : "")}};
  v.status["toVersion"] = v.target_version;
  v.status["startedAt"] = kubert::rfc3339(ctx.clock.wall());
  init_steps(v);
  ctx.events.record(*v.object, "Normal", "UpgradeStarted",
                    "upgrading mesh " + v.spec.mesh_name + " in " + v.spec.osm_namespace + " to osm-edge " + v.target_version +
                        (v.spec.dry_run ? " (dry run)" : ""));
  start_step(ctx, v, kStepPrecheck, "checking the mesh, the upgrade path and the target images");
  progressing(ctx, v, Phase::Prechecking, "prechecking the upgrade to " + v.target_version);
}

void fail(Context& ctx, View& v, const Problem& problem, bool rollback_on_failure) {
  const std::string step = running_step(v.status);
  if (!step.empty()) finish_step(ctx, v, step, "Failed", problem.reason, problem.message);
  v.status["attempt"]["failureReason"] = problem.reason;
  v.status["attempt"]["failureMessage"] = problem.message;
  const bool changed_something = v.status.contains("previousImages");
  if (rollback_on_failure && changed_something) {
    start_step(ctx, v, kStepRollback, "rolling back after " + problem.reason + ": " + problem.message);
    progressing(ctx, v, Phase::RollingBack, "rolling back: " + problem.message);
    return;
  }
  v.status["completedAt"] = kubert::rfc3339(ctx.clock.wall());
  v.status["attempt"]["endedGeneration"] = v.generation;  // a later spec change tries again
  stalled(ctx, v, Phase::Failed, problem);
  ctx.events.record(*v.object, "Warning", "UpgradeFailed", problem.reason + ": " + problem.message);
}

}  // namespace

ActResult act_lifecycle(Context& ctx, const Decision& d, Observation& obs) {
  View& v = obs.view;
  switch (d.action) {
    case Action::AddFinalizer:
      set_finalizers(ctx, v, true);
      return {std::nullopt, true};
    case Action::RemoveFinalizer:
      ctx.events.record(*v.object, "Normal", "Deleted",
                        "MeshUpgrade deleted during phase " + v.status.value("phase", std::string("Pending")) +
                            ": stopped there; the mesh keeps what it runs now");
      ctx.expectations.forget_attempt(v.attempt_id);
      set_finalizers(ctx, v, false);
      return {std::nullopt, true};
    case Action::ReportSpecError: {
      const Phase phase = parse_phase(v.status.value("phase", "")).value_or(Phase::Pending);
      if (!is_in_flight(phase)) {
        // Remembered so that the fixed spec (a new generation) starts a fresh attempt.
        v.status["attempt"] = {{"target", ""}, {"endedGeneration", v.generation}};
      }
      stalled(ctx, v, is_in_flight(phase) ? phase : Phase::Failed, d.problem);
      return {};
    }
    case Action::StartUpgrade:
      start(ctx, v);
      return {};  // our own status write comes back as a watch event and moves us on
    case Action::WaitForOtherUpgrade:
      v.status["phase"] = "Pending";
      v.status["message"] = d.problem.message;
      summarize(v.status, Summary::InProgress, d.problem.reason, d.problem.message, v.generation,
                kubert::rfc3339(ctx.clock.wall()));
      return {};
    case Action::Suspend: {
      const std::string msg = "suspended (spec.suspend); the upgrade goes on from where it stands when it is false";
      v.status["phase"] = "Suspended";
      v.status["message"] = msg;
      summarize(v.status, Summary::Suspended, "Suspended", msg, v.generation, kubert::rfc3339(ctx.clock.wall()));
      return {};
    }
    case Action::Fail:
      fail(ctx, v, d.problem, obs.facts.rollback_on_failure);
      return {};
    default:
      return {};
  }
}

}  // namespace meshupgrade
