// reconcile(key): level-based, one step per call, status written once and only when it changed.
#include "controllers/mesh_upgrade/reconciler.h"

#include "controllers/mesh_upgrade/actions/actions.h"
#include "controllers/mesh_upgrade/conditions.h"
#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/observe.h"
#include "controllers/mesh_upgrade/status.h"
#include "controllers/mesh_upgrade/upgrade_metrics.h"
#include "operator/errors.h"

namespace meshupgrade {
namespace {

constexpr std::chrono::seconds kForbiddenRetry{30};

void put_status(Context& ctx, const View& v, json status) {
  status["observedGeneration"] = v.generation;
  if (!status_changed(*v.object, status)) return;
  json body = *v.object;
  body["status"] = std::move(status);
  ctx.api.update_status(v.ref, body);  // carries resourceVersion: a stale view loses with 409 and is retried
  if (ctx.metrics) {
    ctx.metrics->on_status_written(v.ref.ns + "/" + v.ref.name, v.object->value("status", json::object()),
                                   body["status"], ctx.clock.wall());
  }
}

// Counts and messages that move with every pod: written at a bounded rate, never lost (a requeue follows).
bool progress_only(const json& before, const json& after) {
  auto strip = [](json s) {
    for (const char* key : {"workloads", "progress", "message"}) s.erase(key);
    if (s.contains("steps")) {
      for (auto& step : s["steps"]) step.erase("message");
    }
    if (s.contains("conditions")) {
      for (auto& c : s["conditions"]) {
        if (c.value("status", "") == "Unknown" || c.value("type", "") == "Reconciling") c.erase("message");
      }
    }
    return s;
  };
  return strip(before) == strip(after);
}

// The API refused us: say which verb on which resource, so the missing RBAC rule is plain.
Problem forbidden(const kubert::ApiError& e) {
  return {"Forbidden", "the operator may not " + e.verb() + " " + e.path() + ": " + e.status_message() +
                           " (grant it in the operator's ClusterRole, deploy/cluster_role.yaml)"};
}

// A 403 anywhere in the chain of causes (actions add context with std::throw_with_nested).
std::optional<kubert::ApiError> forbidden_cause(const std::exception& e) {
  if (const auto* api = dynamic_cast<const kubert::ApiError*>(&e); api && api->is_forbidden()) return *api;
  try {
    std::rethrow_if_nested(e);
  } catch (const std::exception& inner) {
    return forbidden_cause(inner);
  } catch (...) {
  }
  return std::nullopt;
}

}  // namespace

kubert::Result MeshUpgradeReconciler::reconcile(const kubert::ObjectKey& key) {
  // The catalog in force now, held for the whole reconcile (the view points into it).
  const std::shared_ptr<const Catalog> catalog = catalogs_ ? catalogs_->current() : nullptr;
  Context ctx{ctx_.api, ctx_.clock, catalog ? *catalog : ctx_.catalog, ctx_.caches, ctx_.expectations, ctx_.events,
              ctx_.metrics};
  const auto object = ctx.caches.mesh_upgrades->get(key.ns, key.name);
  if (!object) return {};  // deleted; the finalizer already let it go
  const auto& log = kubert::reconcile_log();

  Observation obs;
  Decision decision;
  ActResult result;
  try {
    obs = observe(ctx, object);
    decision = decide(obs.facts);
    if (decision.action != Action::None) {
      log.debug("acting", {{"action", to_string(decision.action)}, {"phase", to_string(obs.facts.phase)},
                           {"reason", decision.problem.reason}});
    }
    result = act(ctx, decision, obs);
  } catch (const kubert::TerminalError& e) {
    // A bad manifest or spec found while acting: Stalled, not retried until the spec changes.
    obs.view.status["attempt"]["endedGeneration"] = obs.view.generation;
    obs.view.status["completedAt"] = kubert::rfc3339(ctx.clock.wall());
    stalled(ctx, obs.view, Phase::Failed, {e.reason(), e.what()});
    put_status(ctx, obs.view, obs.view.status);
    return {};
  } catch (const std::exception& error) {
    const auto cause = forbidden_cause(error);
    if (!cause) throw;
    const kubert::ApiError& e = *cause;
    // Our own object may still be writable: report there, retry later (RBAC can be fixed at run time).
    obs.view.object = object;
    obs.view.ref = {kMeshUpgrades, key.ns, key.name};
    obs.view.generation = (*object)["metadata"].value("generation", 1);
    obs.view.status = object->value("status", json::object());
    const Problem p = forbidden(e);
    log.error("forbidden", {{"error", kubert::describe(error)}});
    stalled(ctx, obs.view, parse_phase(obs.view.status.value("phase", "")).value_or(Phase::Pending), p);
    put_status(ctx, obs.view, obs.view.status);
    return {std::chrono::duration_cast<std::chrono::milliseconds>(kForbiddenRetry)};
  }
  if (result.object_written || obs.facts.deleting) return {};
  // A step went through: a Forbidden reported earlier (RBAC since fixed) no longer holds.
  if (condition_reason(obs.view.status, "Stalled") == "Forbidden" && is_in_flight(obs.facts.phase)) {
    summarize(obs.view.status, Summary::InProgress, "Progressing", "RBAC allows the step again",
              obs.view.generation, kubert::rfc3339(ctx.clock.wall()));
  }
  auto later = write_status(obs.view, key);
  if (later && (!result.requeue_after || *later < *result.requeue_after)) result.requeue_after = later;
  return {result.requeue_after};
}

std::optional<std::chrono::milliseconds> MeshUpgradeReconciler::write_status(const View& v, const kubert::ObjectKey& key) {
  json status = v.status;
  status["observedGeneration"] = v.generation;
  if (!status_changed(*v.object, status)) return std::nullopt;
  const auto now = ctx_.clock.steady();
  {
    std::lock_guard lock(mu_);
    auto it = last_write_.find(key.str());
    if (it != last_write_.end() && now - it->second < progress_interval_ &&
        progress_only(v.object->value("status", json::object()), status)) {
      return std::chrono::duration_cast<std::chrono::milliseconds>(progress_interval_ - (now - it->second));
    }
  }
  put_status(ctx_, v, std::move(status));
  std::lock_guard lock(mu_);
  last_write_[key.str()] = now;
  return std::nullopt;
}

}  // namespace meshupgrade
