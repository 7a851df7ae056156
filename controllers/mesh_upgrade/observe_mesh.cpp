// Observation of the mesh itself: the precheck, the CRDs and the control plane.
#include <algorithm>

#include "controllers/mesh_upgrade/helm_release.h"
#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/observe.h"
#include "controllers/mesh_upgrade/rollout.h"
#include "operator/errors.h"

namespace meshupgrade {

std::string pull_check_pod_name(const std::string& mesh_upgrade) {
  // A DNS subdomain whose labels start and end alphanumeric: a cut that ends in '.' or '-' would make
  // "x.-image-pull-check", which the API server refuses (issue 17).
  std::string prefix = mesh_upgrade.substr(0, 40);
  while (!prefix.empty() && (prefix.back() == '.' || prefix.back() == '-')) prefix.pop_back();
  return (prefix.empty() ? std::string("meshupgrade") : prefix) + "-image-pull-check";
}

namespace {

bool label_is(const json& obj, const std::string& key, const std::string& value) {
  const auto& meta = obj["metadata"];
  return meta.contains("labels") && meta["labels"].value(key, "") == value;
}

// The mesh's Helm release, when it is one: recorded in status (its record is not moved by an upgrade).
std::optional<HelmRelease> helm_release(Context& ctx, View& v) {
  try {
    kubert::ListOptions opts;
    opts.label_selector = "owner=helm,name=" + v.spec.mesh_name;
    auto rel = newest_deployed(ctx.api.list(kSecrets, v.spec.osm_namespace, opts));
    if (rel) {
      v.status["helmRelease"] = {{"name", rel->name}, {"revision", rel->revision}, {"chartVersion", rel->chart_version},
                                 {"appVersion", rel->app_version}};
    }
    return rel;
  } catch (const kubert::ApiError&) {
    throw;  // Forbidden, 5xx: an error to retry and report, never "not a Helm release"
  } catch (const std::runtime_error&) {
    return std::nullopt;  // not a Helm v3 release we can read: the images tell the version
  }
}

// The running release: from osm-controller's image (tag, and name for a variant); the Helm release's appVersion
// settles a tag two releases share (v1.1.1 and v1.1.3 both run images tagged 1.1.1).
const Release* running_release(Context& ctx, View& v, std::string& evidence) {
  const auto helm = helm_release(ctx, v);
  const Release* by_helm = helm ? ctx.catalog.find_by_app_version(helm->app_version) : nullptr;
  if (helm) {
    evidence = std::string("Helm release ") + helm->name + " revision " + std::to_string(helm->revision) + " (chart " +
               helm->chart_version + ", app " + helm->app_version + ")";
  }
  auto it = v.control_plane.find("osm-controller");
  if (it != v.control_plane.end()) {
    for (const auto& c : snapshot(*it->second).containers) {
      ImageRef ref = ImageRef::parse(c.image);
      if (!ref.is_osm_edge()) continue;
      evidence = "osm-controller image " + c.image + (evidence.empty() ? "" : ", " + evidence);
      if (by_helm && by_helm->image_tag == ref.tag) return by_helm;
      if (const Release* r = ctx.catalog.find_by_image_tag(ref.tag, ref.name)) return r;
      if (auto sv = Semver::parse(ref.tag)) {
        if (const Release* r = ctx.catalog.find(*sv)) return r;
      }
      return nullptr;  // images of a release we do not know: the Helm record alone must not decide
    }
  }
  return by_helm;
}

// A GitOps controller that owns the mesh's objects would move them back after the upgrade.
std::optional<Problem> gitops_owner(const View& v) {
  for (const auto& [name, dep] : v.control_plane) {
    const json& meta = (*dep)["metadata"];
    const json labels = meta.value("labels", json::object());
    const json annotations = meta.value("annotations", json::object());
    const std::string where = " (on Deployment " + v.spec.osm_namespace + "/" + name + ")";
    const std::string flux_name = labels.value("helm.toolkit.fluxcd.io/name", "");
    if (!flux_name.empty()) {
      const std::string owner = labels.value("helm.toolkit.fluxcd.io/namespace", "") + "/" + flux_name;
      return Problem{"GitOpsManaged", "HelmRelease " + owner + " manages this mesh" + where +
                                          ": set its chart version to " + v.target->chart_version +
                                          " instead, or set spec.policy.allowGitOpsManaged to upgrade here anyway "
                                          "(Flux would then move the mesh back unless the HelmRelease is changed too)"};
    }
    const std::string tracking = annotations.value("argocd.argoproj.io/tracking-id", "");
    if (!tracking.empty()) {
      const std::string app = tracking.substr(0, tracking.find(':'));
      return Problem{"GitOpsManaged", "Argo CD Application " + app + " manages this mesh" + where +
                                          ": set its chart version (targetRevision) to " + v.target->chart_version +
                                          " instead, or set spec.policy.allowGitOpsManaged to upgrade here anyway "
                                          "(a sync with self-heal would move the mesh back)"};
    }
  }
  return std::nullopt;
}

bool crd_established(const json& crd) {
  if (!crd.contains("status") || !crd["status"].contains("conditions")) return false;
  for (const auto& c : crd["status"]["conditions"]) {
    if (c.value("type", "") == "Established") return c.value("status", "") == "True";
  }
  return false;
}

void check_crds(Context& ctx, Observed& o, View& v) {
  std::vector<std::string> missing;
  for (const auto& name : v.target->crds) {
    auto crd = ctx.caches.crds->get("", name);
    if (!crd || !crd_established(*crd)) missing.push_back(name);
  }
  o.crds_established = missing.empty();
  for (const auto& m : missing) v.crds_missing += (v.crds_missing.empty() ? "" : ", ") + m;
}

// While a control-plane rollout is under way: new pods that crash on their arguments fail it at once; a
// cause that may clear (Insufficient cpu) becomes what the step waits for, and its reason should it time out.
bool rollout_pods_failed(Context& ctx, Observed& o, View& v) {
  auto p = control_plane_pod_problem(ctx, v, true);
  if (!p) return false;
  if (p->reason == "FatalInvalidCLIParameters") {
    o.failure = p;
    return true;
  }
  v.stuck = p;
  v.waiting = p->message;
  return false;
}

// The plan: every object and field that changes, old → new.
void make_plan(Context& ctx, Observed& o, View& v) {
  for (const auto& name : kControlPlane) {
    auto it = v.control_plane.find(std::string(name));
    if (it == v.control_plane.end()) continue;
    const auto now = snapshot(*it->second);
    auto changes = diff("Deployment " + v.spec.osm_namespace + "/" + std::string(name), now, rewrite(now, v.image_target));
    v.plan.insert(v.plan.end(), changes.begin(), changes.end());
  }
  const std::string mc_object = "MeshConfig " + v.spec.osm_namespace + "/" + std::string(kMeshConfigName);
  const std::string current_sidecar =
      v.mesh_config ? status_string(*v.mesh_config, {"spec", "sidecar", "sidecarImage"}) : "";
  if (current_sidecar != v.target_sidecar) {
    v.plan.push_back({mc_object, "spec.sidecar.sidecarImage", current_sidecar, v.target_sidecar});
  }
  if (!v.spec.mesh_config_patch.empty()) {
    v.plan.push_back({mc_object, "spec (merge patch)", "", v.spec.mesh_config_patch});
  }
  // osm issue 4371: an upgrade keeps MeshConfig's values, so a default the new release changes is not applied.
  if (v.from) {
    for (const auto& c : mesh_config_default_changes(*v.from, *v.target)) {
      v.plan.push_back({mc_object + " (release default; not applied, MeshConfig keeps its value: use meshConfigPatch to adopt it)",
                        c.field, c.from, c.to});
    }
  }
  observe_workloads(ctx, o, v);
  int restarts = 0;
  for (const auto& w : v.workloads) restarts += w.needs_restart ? 1 : 0;
  if (v.spec.restart_workloads && restarts > 0) {
    v.plan.push_back({"meshed workloads", "spec.template.metadata.annotations[" + std::string(kKubectlRestartedAt) + "]",
                      "", "rolling restart of " + std::to_string(restarts) + " workload(s), " +
                              std::to_string(v.spec.max_concurrent.resolve(restarts)) + " at a time"});
  }
}

}  // namespace

std::optional<Problem> control_plane_pod_problem(Context& ctx, const View& v, bool only_target_images) {
  std::vector<ObjectPtr> crashing;
  for (const auto& pod : ctx.caches.control_plane_pods->list(v.spec.osm_namespace)) {
    const json& p = *pod;
    if (only_target_images) {
      bool on_target = false;
      for (const auto& c : snapshot({{"spec", {{"template", {{"spec", p.value("spec", json::object())}}}}}}).containers) {
        ImageRef ref = ImageRef::parse(c.image);
        on_target = on_target || (ref.is_osm_edge() && ref.tag == v.image_target.tag);
      }
      if (!on_target) continue;
    }
    const std::string name = p["metadata"].value("name", "");
    if (p.contains("status") && p["status"].contains("conditions")) {
      for (const auto& c : p["status"]["conditions"]) {
        if (c.value("type", "") == "PodScheduled" && c.value("status", "") == "False" &&
            c.value("message", "").find("Insufficient cpu") != std::string::npos) {
          return Problem{"InsufficientCPU",
                         "control-plane pod " + name + " is Pending: " + c.value("message", "") +
                             " The cluster has not enough CPU for the mesh's control plane: free CPU or add nodes "
                             "(or lower the control plane's CPU requests); the precheck runs again by itself."};
        }
      }
    }
    if (pod_failure(p).find("CrashLoopBackOff") != std::string::npos) crashing.push_back(pod);
  }
  if (crashing.empty()) return std::nullopt;
  // The kubelet's reason says only that it crashes; osm-edge's own Event says why.
  kubert::ListOptions opts;
  auto events = ctx.api.list(kEvents, v.spec.osm_namespace, opts);
  for (const auto& pod : crashing) {
    const std::string name = (*pod)["metadata"].value("name", "");
    for (const auto& e : events.value("items", json::array())) {
      if (e.value("reason", "") != "FatalInvalidCLIParameters") continue;
      if (e.contains("involvedObject") && e["involvedObject"].value("name", "") != name) continue;
      return Problem{"FatalInvalidCLIParameters",
                     "control-plane pod " + name + " crash-loops: " + e.value("message", std::string("")) +
                         " (reason FatalInvalidCLIParameters; the upgrade guide's case is the log line "
                         "{\"error\":\"Please specify the init container image using --init-container-image\","
                         "\"reason\":\"FatalInvalidCLIParameters\"}): the control-plane images and their arguments "
                         "are of different osm-edge versions. Upgrade with the registry and tag set together "
                         "(spec.containerRegistry and spec.imageTag, as `osm mesh upgrade --container-registry "
                         "$CTR_REGISTRY --osm-image-tag $CTR_TAG` does)."};
    }
  }
  return std::nullopt;
}

void observe_precheck(Context& ctx, Observed& o, View& v) {
  if (v.control_plane.count("osm-controller") == 0 ||
      !label_is(*v.control_plane["osm-controller"], "meshName", v.spec.mesh_name)) {
    o.precheck_block = Problem{"MeshNotFound", "no osm-edge control plane of mesh \"" + v.spec.mesh_name +
                                                   "\" in namespace " + v.spec.osm_namespace +
                                                   ": expected Deployment osm-controller labelled meshName=" +
                                                   v.spec.mesh_name + "; check spec.meshName and spec.osmNamespace"};
    o.precheck_retry = true;
    return;
  }
  std::string evidence;
  v.from = running_release(ctx, v, evidence);
  if (!v.from) {
    o.precheck_block = Problem{"UnknownVersion", "cannot tell which osm-edge release runs (" + evidence +
                                                     "): it is not in the release catalog"};
    return;
  }
  v.status["fromVersion"] = v.from->version.str();
  if (v.image_target.registry.empty()) v.image_target.registry = running_registry(v);
  v.image_target.from_repo_image = v.from->repo_server_image;

  const UpgradePath path = classify(v.from->version, v.target->version);
  v.status["upgradePath"] = std::string(to_string(path));
  if (path == UpgradePath::Downgrade && !v.spec.allow_downgrade) {
    o.precheck_block = Problem{"UnsupportedUpgradePath",
                               "downgrade " + v.from->version.str() + " → " + v.target_version +
                                   " is not supported by the upgrade policy; set spec.policy.allowDowngrade to do it anyway"};
    return;
  }
  if (path != UpgradePath::Downgrade && may_break(v.from->version, v.target->version) && !v.spec.allow_breaking_changes) {
    o.precheck_block = Problem{"UnsupportedUpgradePath",
                               std::string(to_string(path)) + " upgrade " + v.from->version.str() + " → " +
                                   v.target_version + " may carry breaking changes (osm-edge supports 0.y.z → 0.y.z+1, "
                                   "x.y.z → x.y.z+1 and x.y.z → x.y+1.0 for x ≥ 1); upgrade step by step, or set "
                                   "spec.policy.allowBreakingChanges"};
    return;
  }

  if (v.from->variant != v.target->variant) {
    const std::string want = v.from->variant.empty() ? v.target_version.substr(0, v.target_version.find('-'))
                                                     : v.target_version + "-" + v.from->variant;
    o.precheck_block = Problem{"UnsupportedUpgradePath",
                               "the mesh runs the " + (v.from->variant.empty() ? std::string("standard") : v.from->variant) +
                                   " images of " + v.from->version.str() + " and " + v.target_version +
                                   " is another variant; set spec.targetVersion to " + want +
                                   " (a variant is changed by reinstalling, not by an upgrade)"};
    return;
  }
  if (!v.spec.allow_gitops_managed) {
    if (auto owner = gitops_owner(v)) {
      o.precheck_block = owner;
      return;
    }
  }
  if (v.spec.control_plane_source == ControlPlaneSource::Images) {
    if (auto gap = images_source_gap(*v.from, *v.target)) {
      o.precheck_block = Problem{"ManifestsRequired",
                                 "the control plane's arguments change from " + v.from->version.str() + " to " +
                                     v.target_version + " (" + *gap + "), which the Images source cannot carry over "
                                     "(the new images would crash-loop with FatalInvalidCLIParameters); set "
                                     "spec.controlPlane.source: Manifests with manifestsRef naming a ConfigMap that "
                                     "holds `helm template` output of chart " + v.target->chart_version};
      return;
    }
  }

  const auto version = ctx.api.server_version();
  const std::string git_version = version.value("gitVersion", "");
  auto kube = Semver::parse(git_version.substr(0, git_version.find('+')));
  if (kube) kube->pre.clear();  // "v1.32.0-eks-..." is still 1.32.0
  if (!kube || *kube < v.target->min_kubernetes) {
    o.precheck_block = Problem{"KubernetesTooOld", "osm-edge " + v.target_version + " needs Kubernetes " +
                                                       v.target->min_kubernetes.str() + " or newer; the API server is " +
                                                       (git_version.empty() ? "of unknown version" : git_version)};
    return;
  }
  if (auto problem = control_plane_pod_problem(ctx, v, false)) {
    o.precheck_block = problem;
    o.precheck_retry = true;
    return;
  }

  // The images an upgrade will pull, proven pullable before anything changes.
  const std::string reg = v.image_target.registry, tag = v.image_target.tag;
  for (const char* component : {"controller", "injector", "bootstrap", "sidecarInit"}) {
    v.target_images.push_back(v.target->image(component, reg, tag));
  }
  if (v.target->crds_by_init_container) v.target_images.push_back(v.target->image("crds", reg, tag));
  v.target_images.push_back(v.target_sidecar);
  if (!v.target->repo_server_image.empty()) v.target_images.push_back(v.target->repo_server_image);
  std::sort(v.target_images.begin(), v.target_images.end());
  v.target_images.erase(std::unique(v.target_images.begin(), v.target_images.end()), v.target_images.end());

  v.pull_check_pod = pull_check_pod_name(v.ref.name);
  const std::string recorded = status_string(v.status, {"attempt", "imagePull"});
  auto pod = ctx.caches.pull_check_pods->get(v.spec.osm_namespace, v.pull_check_pod);
  o.pull_pod_exists = pod != nullptr;
  if (!v.spec.precheck_image_pull) {
    o.pull = PullCheck::NotNeeded;
  } else if (recorded == "Succeeded") {
    o.pull = PullCheck::Succeeded;
  } else if (recorded == "Failed") {
    o.pull = PullCheck::Failed;
    o.pull_failure = Problem{"ImagesNotPullable", status_string(v.status, {"attempt", "imagePullMessage"})};
  } else if (!pod || (*pod)["metadata"]["labels"].value(std::string(kPullCheckLabel), "") != v.attempt_id) {
    o.pull = PullCheck::NotStarted;  // a pod left by an earlier attempt is removed first
  } else {
    std::vector<std::string> failing;
    bool all_started = true;
    const json& st = (*pod).value("status", json::object());
    for (const auto& cs : st.value("containerStatuses", json::array())) {
      const json state = cs.value("state", json::object());
      if (state.contains("running") || state.contains("terminated")) continue;
      const std::string reason = state.contains("waiting") ? state["waiting"].value("reason", "") : "";
      if (reason == "ErrImagePull" || reason == "ImagePullBackOff" || reason == "InvalidImageName" ||
          reason == "ErrImageNeverPull") {
        failing.push_back(cs.value("image", cs.value("name", std::string("?"))) + " (" + reason + ")");
      } else if (reason.empty() || reason == "ContainerCreating" || reason == "PodInitializing") {
        all_started = false;
      }  // any other waiting reason (RunContainerError, CrashLoopBackOff) comes after a successful pull
    }
    if (!failing.empty()) {
      std::string list;
      for (const auto& f : failing) list += (list.empty() ? "" : ", ") + f;
      o.pull = PullCheck::Failed;
      o.pull_failure = Problem{"ImagesNotPullable", "target images cannot be pulled: " + list +
                                                        "; check spec.containerRegistry, spec.imageTag, "
                                                        "spec.sidecar.image and image pull secrets"};
    } else if (all_started && st.contains("containerStatuses") && !st["containerStatuses"].empty()) {
      o.pull = PullCheck::Succeeded;
    } else {
      o.pull = PullCheck::Running;
    }
  }
  make_plan(ctx, o, v);
}

void observe_crds(Context& ctx, Observed& o, View& v) {
  o.previous_recorded = v.status.contains("previousImages") && v.status["previousImages"].contains("deployments");
  o.crds_need_apply = v.spec.crd_source == CrdSource::ConfigMap && !v.status.value("attempt", json::object()).value("crdsApplied", false);
  o.bootstrap_rollout = Rollout::Complete;
  if (v.spec.crd_source == CrdSource::Bootstrap) {
    auto it = v.control_plane.find("osm-bootstrap");
    if (it == v.control_plane.end()) {
      o.failure = Problem{"MeshNotFound", "Deployment osm-bootstrap is gone from " + v.spec.osm_namespace};
      return;
    }
    const auto now = snapshot(*it->second);
    if (v.spec.control_plane_source == ControlPlaneSource::Manifests) {
      // The target's manifests carry bootstrap's new arguments too: they go in now, bootstrap first to roll.
      o.bootstrap_needs_patch = !v.status.value("attempt", json::object()).value("manifestsApplied", false);
    } else {
      o.bootstrap_needs_patch = rewrite(now, v.image_target) != now;
    }
    if (o.bootstrap_needs_patch) v.control_plane_to_patch.push_back("osm-bootstrap");
    auto rs = rollout_status("Deployment", *it->second);
    o.bootstrap_rollout = rs.state;
    if (rs.state == Rollout::Failed) {
      o.failure = control_plane_pod_problem(ctx, v, true).value_or(Problem{"ControlPlaneRolloutFailed", "osm-bootstrap: " + rs.message});
      return;
    }
    if (rs.state == Rollout::Progressing) {
      v.waiting = "osm-bootstrap: " + rs.message;
      if (rollout_pods_failed(ctx, o, v)) return;
    }
  }
  check_crds(ctx, o, v);
  if (v.waiting.empty() && !o.crds_established) v.waiting = "CRDs not yet established: " + v.crds_missing;
  const auto started = step_started(v.status, kStepCRDs);
  if (started && (!o.crds_established || o.bootstrap_rollout != Rollout::Complete)) {
    const auto deadline = *started + v.spec.control_plane_timeout;
    if (ctx.clock.wall() >= deadline) {
      const std::string timed_out = "timed out after " + std::to_string(v.spec.control_plane_timeout.count()) + "s: ";
      o.failure = v.stuck ? Problem{v.stuck->reason, timed_out + v.stuck->message}
                          : Problem{o.crds_established ? "ControlPlaneRolloutFailed" : "CRDsNotEstablished",
                                    timed_out + v.waiting};
    } else {
      v.deadline = deadline;
    }
  }
}

void observe_control_plane(Context& ctx, Observed& o, View& v) {
  o.previous_recorded = v.status.contains("previousImages") && v.status["previousImages"].contains("deployments");
  bool any_progressing = false;
  std::string waiting;
  for (const auto& name : kControlPlane) {
    auto it = v.control_plane.find(std::string(name));
    if (it == v.control_plane.end()) {
      o.failure = Problem{"MeshNotFound", "Deployment " + std::string(name) + " is gone from " + v.spec.osm_namespace};
      return;
    }
    const auto now = snapshot(*it->second);
    if (v.spec.control_plane_source == ControlPlaneSource::Images && rewrite(now, v.image_target) != now) {
      v.control_plane_to_patch.push_back(std::string(name));
    }
    auto rs = rollout_status("Deployment", *it->second);
    if (rs.state == Rollout::Failed) {
      o.failure = control_plane_pod_problem(ctx, v, true)
                      .value_or(Problem{"ControlPlaneRolloutFailed", std::string(name) + ": " + rs.message});
      return;
    }
    if (rs.state != Rollout::Complete) {
      any_progressing = true;
      waiting += (waiting.empty() ? "" : "; ") + std::string(name) + ": " + rs.message;
    }
  }
  if (v.spec.control_plane_source == ControlPlaneSource::Manifests &&
      !v.status.value("attempt", json::object()).value("manifestsApplied", false)) {
    v.control_plane_to_patch = {"manifests"};
  }
  o.control_plane_to_patch = static_cast<int>(v.control_plane_to_patch.size());
  o.control_plane_rollout = any_progressing ? Rollout::Progressing : Rollout::Complete;
  v.waiting = waiting;
  if (any_progressing) {
    if (rollout_pods_failed(ctx, o, v)) return;
    const auto started = step_started(v.status, kStepControlPlane);
    if (started) {
      const auto deadline = *started + v.spec.control_plane_timeout;
      if (ctx.clock.wall() >= deadline) {
        const std::string timed_out = "timed out after " + std::to_string(v.spec.control_plane_timeout.count()) +
                                      "s waiting for the control plane: ";
        o.failure = v.stuck ? Problem{v.stuck->reason, timed_out + v.stuck->message}
                            : Problem{"ControlPlaneRolloutFailed", timed_out + waiting};
        return;
      }
      v.deadline = deadline;
    }
  }
  if (!v.spec.mesh_config_patch.empty() && v.mesh_config) {
    json merged = *v.mesh_config;
    merged.merge_patch(json::parse(v.spec.mesh_config_patch));
    o.mesh_config_patch_pending = merged != *v.mesh_config;
  }
  // Add-on Deployments as the running release's chart names them (jaeger became osm-jaeger in 1.2).
  const std::pair<const char*, const std::string*> addons[] = {
      {"prometheus", &v.spec.prometheus_image}, {"grafana", &v.spec.grafana_image}, {"jaeger", &v.spec.jaeger_image}};
  for (const auto& [addon, image] : addons) {
    if (image->empty()) continue;
    const Release* rel = v.from ? v.from : v.target;
    const Addon* a = rel->addon(addon);
    const std::string name = a ? a->deployment : "osm-" + std::string(addon);
    auto d = ctx.caches.control_plane->get(v.spec.osm_namespace, name);
    if (!d) continue;
    for (const auto& c : snapshot(*d).containers) {
      if (!c.init && (!a || a->container.empty() || c.name == a->container) && c.image != *image) {
        v.addons_to_patch.push_back(std::string(name) + "=" + c.name + "=" + *image);
        break;
      }
    }
  }
  o.addons_pending = !v.addons_to_patch.empty();
  o.helm_record_pending = v.status.contains("helmRelease") &&
                          !v.status.value("attempt", json::object()).value("helmRecorded", false);
}

}  // namespace meshupgrade
