// observe(): the object, its attempt and its phase; then the phase's own observation.
#include "controllers/mesh_upgrade/observe.h"

#include "controllers/mesh_upgrade/names.h"
#include "operator/errors.h"

namespace meshupgrade {

std::string status_string(const json& status, std::initializer_list<const char*> path) {
  const json* cur = &status;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->contains(key)) return "";
    cur = &(*cur)[key];
  }
  return cur->is_string() ? cur->get<std::string>() : "";
}

std::optional<std::chrono::system_clock::time_point> step_started(const json& status, std::string_view step) {
  if (!status.contains("steps") || !status["steps"].is_array()) return std::nullopt;
  for (const auto& s : status["steps"]) {
    if (s.value("name", "") == step && s.contains("startedAt") && s["startedAt"].is_string()) {
      try {
        return kubert::parse_rfc3339(s["startedAt"].get<std::string>());
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::string running_registry(const View& v) {
  auto it = v.control_plane.find("osm-controller");
  if (it == v.control_plane.end()) return "";
  for (const auto& c : snapshot(*it->second).containers) {
    ImageRef ref = ImageRef::parse(c.image);
    if (ref.is_osm_edge()) return ref.registry;
  }
  return "";
}

namespace {

// The step in hand: the first one Running, else the first Pending one.
Phase resume_phase(const json& status) {
  if (!status.contains("steps") || !status["steps"].is_array()) return Phase::Prechecking;
  for (const char* state : {"Running", "Pending"}) {
    for (const auto& s : status["steps"]) {
      if (s.value("state", "") == state) return phase_of_step(s.value("name", ""));
    }
  }
  return Phase::Verifying;
}

std::optional<Problem> other_upgrade(Context& ctx, const View& v, const json& self) {
  const auto& meta = self["metadata"];
  const std::string my_created = meta.value("creationTimestamp", "");
  const std::string my_name = meta.value("namespace", "") + "/" + meta.value("name", "");
  for (const auto& other : ctx.caches.mesh_upgrades->list()) {
    const auto& om = (*other)["metadata"];
    const std::string other_name = om.value("namespace", "") + "/" + om.value("name", "");
    if (other_name == my_name || om.contains("deletionTimestamp")) continue;
    MeshUpgradeSpec os;
    try {
      os = parse_spec(*other);
    } catch (const std::exception&) {
      continue;
    }
    if (os.mesh_name != v.spec.mesh_name || os.osm_namespace != v.spec.osm_namespace) continue;
    const json ost = other->value("status", json::object());
    const auto phase = parse_phase(ost.value("phase", "")).value_or(Phase::Pending);
    const bool older_pending = phase == Phase::Pending && !os.suspend &&
                               std::make_pair(om.value("creationTimestamp", ""), other_name) <
                                   std::make_pair(my_created, my_name);
    if (is_in_flight(phase) || older_pending) {
      return Problem{"WaitingForUpgrade", "MeshUpgrade " + other_name + " is upgrading mesh \"" + v.spec.mesh_name +
                                              "\" in " + v.spec.osm_namespace +
                                              "; this upgrade starts when that one has finished"};
    }
  }
  return std::nullopt;
}

}  // namespace

Observation observe(Context& ctx, const ObjectPtr& object) {
  Observation out;
  Observed& o = out.facts;
  View& v = out.view;
  const json& obj = *object;
  const json& meta = obj["metadata"];
  v.object = object;
  v.ref = kubert::ObjectRef{kMeshUpgrades, meta.value("namespace", ""), meta.value("name", "")};
  v.generation = meta.value("generation", 1);
  v.status = obj.contains("status") && obj["status"].is_object() ? obj["status"] : json::object();

  o.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  o.has_finalizer = false;
  if (meta.contains("finalizers")) {
    for (const auto& f : meta["finalizers"]) o.has_finalizer = o.has_finalizer || f == kFinalizer;
  }

  try {
    v.spec = parse_spec(obj);
  } catch (const kubert::TerminalError& e) {
    o.spec_error = Problem{e.reason(), e.what()};
  }
  if (!o.spec_error) {
    auto version = Semver::parse(v.spec.target_version);
    v.target = ctx.catalog.find(*version);
    if (!v.target) {
      std::string known;
      for (const auto& k : ctx.catalog.versions()) known += (known.empty() ? "" : ", ") + k;
      o.spec_error = Problem{"UnknownVersion", "osm-edge " + v.spec.target_version +
                                                   " is not in the release catalog (known: " + known +
                                                   "); choose a known release, or add yours (a fork, a private build) "
                                                   "with a ConfigMap labelled upgrade.flomesh.io/release-catalog=true "
                                                   "(see docs/api.md, \"The release catalog\")" +
                                                   (ctx.catalog.extension_problems().empty()
                                                        ? std::string()
                                                        : "; " + ctx.catalog.extension_problems())};
    }
  }
  o.suspend = v.spec.suspend;
  o.dry_run = v.spec.dry_run;
  o.rollback_on_failure = v.spec.rollback_on_failure;
  o.failure_threshold = v.spec.failure_threshold;
  o.restart_workloads = v.spec.restart_workloads;

  const json attempt = v.status.value("attempt", json::object());
  const std::string identity = v.spec.target_identity() + (v.spec.dry_run ? "|dry-run" : "");
  const auto recorded_phase = parse_phase(v.status.value("phase", "")).value_or(Phase::Pending);
  // A new target starts a new attempt; so does any spec change after a failure ("until the spec changes").
  o.new_target = attempt.value("target", "") != identity ||
                 ((recorded_phase == Phase::Failed || recorded_phase == Phase::RolledBack) &&
                  attempt.value("endedGeneration", v.generation) != v.generation);
  v.attempt_id = meta.value("uid", "") + "." + std::to_string(attempt.value("generation", 0));

  auto phase = parse_phase(v.status.value("phase", "")).value_or(Phase::Pending);
  if (phase == Phase::Suspended) phase = resume_phase(v.status);
  o.phase = phase;

  if (o.deleting || o.spec_error) return out;
  for (const auto& name : kControlPlane) {
    if (auto d = ctx.caches.control_plane->get(v.spec.osm_namespace, std::string(name))) {
      v.control_plane[std::string(name)] = d;
    }
  }
  v.target_version = v.target->version.str();
  v.target_sidecar = v.spec.sidecar_image.empty() ? v.target->sidecar_image : v.spec.sidecar_image;
  if (auto mc = ctx.caches.mesh_configs->get(v.spec.osm_namespace, std::string(kMeshConfigName))) v.mesh_config = mc;

  if (o.new_target) {
    o.waiting_for = other_upgrade(ctx, v, obj);
    return out;
  }
  if (!is_in_flight(phase) || o.suspend) return out;

  // The running release recorded by the precheck; the target's image set.
  if (auto from = Semver::parse(v.status.value("fromVersion", ""))) v.from = ctx.catalog.find(*from);
  v.image_target.registry = v.spec.container_registry.empty() ? running_registry(v) : v.spec.container_registry;
  v.image_target.tag = v.spec.image_tag.empty() ? v.target->image_tag : v.spec.image_tag;
  v.image_target.app_version = v.target->app_version;
  if (v.from) v.image_target.from_repo_image = v.from->repo_server_image;
  v.image_target.to_repo_image = v.target->repo_server_image;

  switch (phase) {
    case Phase::Prechecking: observe_precheck(ctx, o, v); break;
    case Phase::UpdatingCRDs: observe_crds(ctx, o, v); break;
    case Phase::UpgradingControlPlane: observe_control_plane(ctx, o, v); break;
    case Phase::RollingSidecars: observe_workloads(ctx, o, v); break;
    case Phase::Verifying: observe_verify(ctx, o, v); break;
    case Phase::RollingBack: observe_rollback(ctx, o, v); break;
    default: break;
  }
  return out;
}

}  // namespace meshupgrade
