// Observation of the data plane: meshed workloads and their pods' sidecars, for rollout, verify and rollback.
#include <map>

#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/observe.h"
#include "controllers/mesh_upgrade/rollout.h"

namespace meshupgrade {
namespace {

constexpr std::size_t kMaxNames = 20;  // names listed in status, so it stays small

bool namespace_selected(const json& ns, const View& v) {
  const json labels = ns["metadata"].value("labels", json::object());
  if (v.spec.has_namespace_selector) {
    for (const auto& [k, val] : v.spec.namespace_match_labels) {
      if (labels.value(k, "") != val) return false;
    }
    return true;
  }
  return labels.value(std::string(kMonitoredBy), "") == v.spec.mesh_name;
}

std::string annotation(const json& obj, std::string_view key) {
  const auto& meta = obj["metadata"];
  if (!meta.contains("annotations") || !meta["annotations"].is_object()) return "";
  return meta["annotations"].value(std::string(key), "");
}

// The workload that owns a pod, "Kind/name"; "" for a bare pod.
std::string owner_of(const json& pod) {
  const auto& meta = pod["metadata"];
  for (const auto& ref : meta.value("ownerReferences", json::array())) {
    if (!ref.value("controller", false)) continue;
    const std::string kind = ref.value("kind", ""), name = ref.value("name", "");
    if (kind == "ReplicaSet") {
      const std::string hash = meta.value("labels", json::object()).value("pod-template-hash", "");
      if (!hash.empty() && name.size() > hash.size() + 1 && name.ends_with("-" + hash)) {
        return "Deployment/" + name.substr(0, name.size() - hash.size() - 1);
      }
      return "Deployment/" + name.substr(0, name.rfind('-'));
    }
    return kind + "/" + name;
  }
  return "";
}

struct PodSummary {
  int total = 0, on_target = 0, ready_on_target = 0;
  std::string failure;  // a pod with the target sidecar that cannot run
};

}  // namespace

void observe_workloads(Context& ctx, Observed& o, View& v) {
  o.sidecar_recorded = v.status.contains("previousImages") && v.status["previousImages"].contains("sidecarImage");
  o.mesh_config_at_target =
      v.mesh_config && status_string(*v.mesh_config, {"spec", "sidecar", "sidecarImage"}) == v.target_sidecar;
  o.max_concurrent = 1;

  const auto now = ctx.clock.wall();
  int total = 0, restarted = 0, ready = 0, failed = 0, to_restart = 0, in_flight = 0;
  std::vector<std::string> pending, failing;
  std::string first_failure;
  for (const auto& ns_obj : ctx.caches.namespaces->list()) {
    if (!namespace_selected(*ns_obj, v)) continue;
    const std::string ns = (*ns_obj)["metadata"].value("name", "");
    std::map<std::string, PodSummary> pods;
    for (const auto& pod : ctx.caches.meshed_pods->list(ns)) {
      const std::string owner = owner_of(*pod);
      if (owner.empty()) {
        if (v.bare_pods.size() < kMaxNames) v.bare_pods.push_back(ns + "/" + (*pod)["metadata"].value("name", ""));
        continue;
      }
      auto& s = pods[owner];
      ++s.total;
      if (container_image((*pod).value("spec", json::object()), std::string(kSidecarContainer)) == v.target_sidecar) {
        ++s.on_target;
        if (pod_ready(*pod)) ++s.ready_on_target;
        if (s.failure.empty()) s.failure = pod_failure(*pod);
      }
    }
    const std::pair<const char*, const kubert::Store*> kinds[] = {{"Deployment", ctx.caches.deployments},
                                                                   {"StatefulSet", ctx.caches.statefulsets},
                                                                   {"DaemonSet", ctx.caches.daemonsets}};
    for (const auto& [kind, store] : kinds) {
      if (!store) continue;
      for (const auto& w : store->list(ns)) {
        WorkloadView wv;
        wv.kind = kind;
        wv.ref = {std::string(kind) == "Deployment" ? kDeployments : std::string(kind) == "StatefulSet" ? kStatefulSets : kDaemonSets,
                  ns, (*w)["metadata"].value("name", "")};
        const auto pit = pods.find(std::string(kind) + "/" + wv.ref.name);
        const PodSummary summary = pit == pods.end() ? PodSummary{} : pit->second;
        if (summary.total == 0 && annotation(*w, kRestartedBy) != v.attempt_id) continue;  // not meshed (or no pods)
        ++total;
        const std::string key = wv.key();
        wv.restarted = annotation(*w, kRestartedBy) == v.attempt_id;
        if (wv.restarted) {
          ctx.expectations.observed(v.attempt_id, key);
        } else if (ctx.expectations.expected(v.attempt_id, key)) {
          wv.restarted = true;  // our patch is not in the cache yet
        }
        wv.rolled_back = annotation(*w, kRolledBackBy) == v.attempt_id;
        if (wv.restarted) {
          ++restarted;
          try {
            const std::string at = annotation(*w, kRestartedAt);
            if (!at.empty()) wv.restarted_at = kubert::parse_rfc3339(at);
          } catch (const std::exception&) {
          }
          auto rs = rollout_status(kind, *w);
          wv.rollout = rs.state;
          if (rs.state == Rollout::Complete && summary.on_target < summary.total) wv.rollout = Rollout::Progressing;
          if (rs.state == Rollout::Failed) wv.failure = rs.message;
          if (wv.rollout != Rollout::Complete && !summary.failure.empty()) wv.failure = summary.failure;
          if (wv.rollout != Rollout::Complete && wv.failure.empty() && wv.restarted_at) {
            const auto deadline = *wv.restarted_at + v.spec.per_workload_timeout;
            if (now >= deadline) {
              wv.failure = "not rolled out within " + std::to_string(v.spec.per_workload_timeout.count()) + "s";
            } else if (!v.deadline || deadline < *v.deadline) {
              v.deadline = deadline;
            }
          }
          if (!wv.failure.empty()) {
            wv.rollout = Rollout::Failed;
            ++failed;
            if (failing.size() < kMaxNames) failing.push_back(key + ": " + wv.failure);
            if (first_failure.empty()) first_failure = key + ": " + wv.failure;
          } else if (wv.rollout == Rollout::Complete) {
            ++ready;
          } else {
            ++in_flight;
            if (pending.size() < kMaxNames) pending.push_back(key);
          }
        } else if (summary.on_target < summary.total) {
          wv.needs_restart = true;
          ++to_restart;
          if (pending.size() < kMaxNames) pending.push_back(key);
        } else {
          ++ready;  // already on the target sidecar: never restarted
        }
        v.workloads.push_back(std::move(wv));
      }
    }
  }
  o.workloads_to_restart = to_restart;
  o.workloads_in_flight = in_flight;
  o.workloads_failed = failed;
  o.max_concurrent = v.spec.max_concurrent.resolve(total);
  v.status["workloads"] = {{"total", total},     {"restarted", restarted}, {"ready", ready},
                           {"failed", failed},   {"pending", pending},     {"failing", failing},
                           {"manualRestart", v.bare_pods}};
  v.status["progress"] = std::to_string(ready) + "/" + std::to_string(total);
}

void observe_verify(Context& ctx, Observed& o, View& v) {
  std::vector<std::string> problems;
  for (const auto& name : kControlPlane) {
    auto it = v.control_plane.find(std::string(name));
    if (it == v.control_plane.end()) {
      problems.push_back("Deployment " + std::string(name) + " is missing");
      continue;
    }
    const auto now = snapshot(*it->second);
    if (v.spec.control_plane_source == ControlPlaneSource::Images && rewrite(now, v.image_target) != now) {
      problems.push_back(std::string(name) + " is not on the target images");
    }
    auto rs = rollout_status("Deployment", *it->second);
    if (rs.state != Rollout::Complete) problems.push_back(std::string(name) + ": " + rs.message);
  }
  std::vector<std::string> missing;
  for (const auto& crd_name : v.target->crds) {
    auto crd = ctx.caches.crds->get("", crd_name);
    bool established = false;
    if (crd && crd->contains("status")) {
      for (const auto& c : (*crd)["status"].value("conditions", json::array())) {
        established = established || (c.value("type", "") == "Established" && c.value("status", "") == "True");
      }
    }
    if (!established) missing.push_back(crd_name);
  }
  if (!missing.empty()) problems.push_back(std::to_string(missing.size()) + " CRD(s) not established, e.g. " + missing[0]);
  if (!v.mesh_config || status_string(*v.mesh_config, {"spec", "sidecar", "sidecarImage"}) != v.target_sidecar) {
    problems.push_back("MeshConfig does not hold sidecar image " + v.target_sidecar);
  }
  if (v.spec.restart_workloads) {
    observe_workloads(ctx, o, v);
    int not_ready = 0;
    std::string example;
    for (const auto& w : v.workloads) {
      if (w.needs_restart || (w.restarted && w.rollout != Rollout::Complete)) {
        ++not_ready;
        if (example.empty()) example = w.key();
      }
    }
    if (not_ready > 0) problems.push_back(std::to_string(not_ready) + " workload(s) not on the target sidecar or not ready, e.g. " + example);
  }
  o.verified = problems.empty();
  if (!o.verified) {
    std::string msg;
    for (const auto& p : problems) msg += (msg.empty() ? "" : "; ") + p;
    v.status["message"] = "verifying: " + msg;
    const auto started = step_started(v.status, kStepVerify);
    if (started) {
      const auto deadline = *started + v.spec.per_workload_timeout;
      if (ctx.clock.wall() >= deadline) {
        o.failure = Problem{"VerificationFailed", msg};
      } else if (!v.deadline || deadline < *v.deadline) {
        v.deadline = deadline;
      }
    }
  }
}

void observe_rollback(Context& ctx, Observed& o, View& v) {
  const json previous = v.status.value("previousImages", json::object());
  bool progressing = false;
  const json recorded = previous.value("deployments", json::object());
  for (const auto& [name, images] : recorded.items()) {
    auto it = v.control_plane.find(name);
    if (it == v.control_plane.end()) continue;
    const auto now = snapshot(*it->second);
    const auto want = workload_images_from_json(images);
    if (!template_patch(now, want).is_null()) v.rollback_to_patch.push_back(name);
    if (rollout_status("Deployment", *it->second).state == Rollout::Progressing) progressing = true;
  }
  o.rollback_control_plane_to_patch = static_cast<int>(v.rollback_to_patch.size());
  o.rollback_control_plane_rollout = progressing ? Rollout::Progressing : Rollout::Complete;
  if (previous.contains("sidecarImage") && v.mesh_config) {
    o.rollback_mesh_config_pending =
        status_string(*v.mesh_config, {"spec", "sidecar", "sidecarImage"}) != previous.value("sidecarImage", "");
  }
  // The workloads this attempt restarted go back, once each.
  const std::string saved_sidecar = v.target_sidecar;
  v.target_sidecar = previous.value("sidecarImage", saved_sidecar);
  observe_workloads(ctx, o, v);
  v.target_sidecar = saved_sidecar;
  int to_restart = 0, in_flight = 0;
  for (const auto& w : v.workloads) {
    if (!w.restarted) continue;
    if (!w.rolled_back && !ctx.expectations.expected(v.attempt_id + "/rollback", w.key())) {
      ++to_restart;
    } else if (w.rolled_back) {
      ctx.expectations.observed(v.attempt_id + "/rollback", w.key());
      const auto store = w.kind == "Deployment" ? ctx.caches.deployments : w.kind == "StatefulSet" ? ctx.caches.statefulsets : ctx.caches.daemonsets;
      if (auto obj = store->get(w.ref.ns, w.ref.name)) {
        auto rs = rollout_status(w.kind, *obj);
        if (rs.state == Rollout::Progressing) ++in_flight;  // failed rollbacks are reported, not waited on
      }
    } else {
      ++in_flight;
    }
  }
  const json attempt = v.status.value("attempt", json::object());
  o.helm_rollback_pending = attempt.contains("helmRevision") && !attempt.value("helmRolledBack", false);
  o.rollback_to_restart = to_restart;
  o.rollback_in_flight = in_flight;
  o.workloads_failed = 0;
}

}  // namespace meshupgrade
