// Precheck actions: report a refusal, prove the target images pull, write the plan, finish (or dry-run).
#include "controllers/mesh_upgrade/actions/actions.h"
#include "controllers/mesh_upgrade/conditions.h"
#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/status.h"
#include "operator/errors.h"

namespace meshupgrade {
namespace {

constexpr std::size_t kPlanLimit = 100;
constexpr std::chrono::seconds kPrecheckRetry{30};

void write_plan(View& v) {
  json plan = json::array();
  for (const auto& c : v.plan) {
    if (plan.size() >= kPlanLimit) break;
    plan.push_back({{"object", c.object}, {"field", c.field}, {"from", c.from}, {"to", c.to}});
  }
  v.status["plan"] = plan;
}

json pull_check_pod(const View& v) {
  json containers = json::array();
  int i = 0;
  for (const auto& image : v.target_images) {
    containers.push_back({{"name", "image-" + std::to_string(i++)},
                          {"image", image},
                          {"imagePullPolicy", "IfNotPresent"},
                          {"command", {"/bin/true"}},
                          {"resources", json::object()}});
  }
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", v.pull_check_pod},
            {"namespace", v.spec.osm_namespace},
            {"labels", {{std::string(kPullCheckLabel), v.attempt_id}, {"app.kubernetes.io/managed-by", "meshupgrade-operator"}}},
            {"annotations", {{"upgrade.flomesh.io/meshupgrade", v.ref.ns + "/" + v.ref.name}}}}},
          {"spec",
           {{"restartPolicy", "Never"},
            {"activeDeadlineSeconds", 600},
            {"terminationGracePeriodSeconds", 0},
            {"automountServiceAccountToken", false},
            {"containers", containers}}}};
}

}  // namespace

ActResult act_precheck(Context& ctx, const Decision& d, Observation& obs) {
  View& v = obs.view;
  const Observed& o = obs.facts;
  const std::string now = kubert::rfc3339(ctx.clock.wall());
  switch (d.action) {
    case Action::ReportPrecheckBlocked:
      set_condition(v.status, "PrecheckPassed", "False", d.problem.reason, d.problem.message, v.generation, now);
      if (o.precheck_retry) {
        // The cluster may fix itself (a node added, a mesh installed): look again, nothing was changed.
        stalled(ctx, v, Phase::Prechecking, d.problem);
        return {std::chrono::duration_cast<std::chrono::milliseconds>(kPrecheckRetry)};
      }
      finish_step(ctx, v, kStepPrecheck, "Failed", d.problem.reason, d.problem.message);
      v.status["completedAt"] = now;
      v.status["attempt"]["endedGeneration"] = v.generation;
      stalled(ctx, v, Phase::Failed, d.problem);
      return {};
    case Action::CreatePullCheck:
      try {
        ctx.api.create(kPods, v.spec.osm_namespace, pull_check_pod(v));
      } catch (const kubert::ApiError& e) {
        if (!e.is_already_exists()) throw;
      }
      start_step(ctx, v, kStepPrecheck, "pulling the target images: a short-lived pod " + v.pull_check_pod);
      return {};
    case Action::AwaitPullCheck:
      start_step(ctx, v, kStepPrecheck, "pulling the target images: a short-lived pod " + v.pull_check_pod);
      return {};
    case Action::DeletePullCheck: {
      if (o.pull == PullCheck::Succeeded || o.pull == PullCheck::Failed) {
        v.status["attempt"]["imagePull"] = o.pull == PullCheck::Succeeded ? "Succeeded" : "Failed";
        if (o.pull_failure) v.status["attempt"]["imagePullMessage"] = o.pull_failure->message;
      }
      kubert::DeleteOptions background;
      background.propagation = kubert::Propagation::Background;
      ctx.api.remove({kPods, v.spec.osm_namespace, v.pull_check_pod}, background);
      return {};
    }
    case Action::FinishPrecheck: {
      write_plan(v);
      const std::string msg = "osm-edge " + v.status.value("fromVersion", std::string("?")) + " → " + v.target_version + " (" +
                              v.status.value("upgradePath", std::string("?")) + "): " + std::to_string(v.plan.size()) +
                              " change(s) planned";
      finish_step(ctx, v, kStepPrecheck, "Succeeded", "PrecheckPassed", msg);
      start_step(ctx, v, kStepCRDs, "bringing the osm-edge CRDs to " + v.target_version);
      progressing(ctx, v, Phase::UpdatingCRDs, "updating CRDs");
      return {};
    }
    case Action::FinishDryRun: {
      write_plan(v);
      const std::string msg = "dry run: precheck passed and " + std::to_string(v.plan.size()) +
                              " change(s) are planned in status.plan; nothing was changed. Set spec.dryRun to false to upgrade.";
      finish_step(ctx, v, kStepPrecheck, "Succeeded", "PrecheckPassed", msg);
      for (auto step : {kStepCRDs, kStepControlPlane, kStepSidecars, kStepVerify}) {
        for (auto& s : v.status["steps"]) {
          if (s.value("name", "") == step) s["state"] = "Skipped";
        }
      }
      v.status["phase"] = "Succeeded";
      v.status["message"] = msg;
      v.status["completedAt"] = now;
      summarize(v.status, Summary::Succeeded, "DryRun", msg, v.generation, now);
      ctx.events.record(*v.object, "Normal", "DryRun", msg);
      return {};
    }
    default:
      return {};
  }
}

}  // namespace meshupgrade
