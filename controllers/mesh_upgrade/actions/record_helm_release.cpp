// Helm's record kept true: once the control plane runs the target, the next release revision as `helm upgrade`
// writes it; after a rollback, the next one as `helm rollback` writes it. Resumable: each Secret this attempt
// writes carries the attempt in an annotation, so a crash between two writes never writes a revision twice.
#include <chrono>

#include "controllers/mesh_upgrade/actions/actions.h"
#include "controllers/mesh_upgrade/helm_history.h"
#include "controllers/mesh_upgrade/names.h"
#include "operator/errors.h"

namespace meshupgrade {
namespace {

// What the Images source changed, from the images recorded before the upgrade to those running now.
void collect_rewrites(const View& v, HelmUpgrade& u) {
  const json previous = v.status.value("previousImages", json::object()).value("deployments", json::object());
  for (const auto& [name, recorded] : previous.items()) {
    auto it = v.control_plane.find(name);
    if (it == v.control_plane.end()) continue;
    const WorkloadImages before = workload_images_from_json(recorded), now = snapshot(*it->second);
    for (const auto& b : before.containers) {
      for (const auto& n : now.containers) {
        if (n.name != b.name || n.init != b.init) continue;
        if (b.image != n.image) u.image_rewrites.emplace_back(b.image, n.image);
        for (const auto& [env, image] : b.env) {
          auto e = n.env.find(env);
          if (e != n.env.end() && e->second != image) u.image_rewrites.emplace_back(image, e->second);
        }
        if (b.args.size() != n.args.size()) continue;
        for (std::size_t i = 0; i < b.args.size(); ++i) {
          if (b.args[i] == n.args[i]) continue;
          const auto eq = b.args[i].find('=');
          if (b.args[i].rfind("--", 0) == 0 && eq != std::string::npos) {
            const std::string flag = b.args[i].substr(0, eq);
            u.arg_old_values[flag] = b.args[i].substr(eq + 1);
            u.arg_rewrites.emplace_back(flag, n.args[i].substr(n.args[i].find('=') + 1));
          } else if (i > 0 && b.args[i - 1].rfind("--", 0) == 0) {
            u.arg_old_values[b.args[i - 1]] = b.args[i];
            u.arg_rewrites.emplace_back(b.args[i - 1], n.args[i]);
          }
        }
      }
    }
  }
}

std::string manifests_text(Context& ctx, const View& v) {
  auto cm = ctx.api.get({kConfigMaps, v.spec.osm_namespace, v.spec.manifests_config_map});
  if (!cm) throw kubert::TerminalError("ManifestsNotFound", "ConfigMap " + v.spec.manifests_config_map + " is gone");
  std::string out;
  const json data = cm->value("data", json::object());
  for (const auto& [key, value] : data.items()) {
    if (!value.is_string()) continue;
    out += (out.empty() ? "" : "\n---\n") + value.get<std::string>();
  }
  return out;
}

long long unix_seconds(const kubert::Clock& clock) {
  return std::chrono::duration_cast<std::chrono::seconds>(clock.wall().time_since_epoch()).count();
}

// Marks every other deployed revision superseded, as Helm does once the new one is in.
void supersede_others(Context& ctx, const View& v, const std::vector<HelmRevision>& history, int keep) {
  for (const auto& r : history) {
    if (r.version() == keep || r.status() != "deployed") continue;
    json secret = release_secret(with_status(r.release, "superseded"), v.spec.osm_namespace, r.marker, "modifiedAt",
                                 unix_seconds(ctx.clock));
    secret["metadata"]["resourceVersion"] = r.resource_version;  // a concurrent writer makes this a 409: retry
    if (r.marker.empty()) secret["metadata"].erase("annotations");
    ctx.api.update({kSecrets, v.spec.osm_namespace, r.secret_name}, secret);
  }
}

void write_revision(Context& ctx, const View& v, const std::vector<HelmRevision>& history, const json& release,
                    const std::string& marker) {
  for (const auto& name : revisions_to_prune(history)) {
    ctx.api.remove({kSecrets, v.spec.osm_namespace, name});
  }
  ctx.api.create(kSecrets, v.spec.osm_namespace,
                 release_secret(release, v.spec.osm_namespace, marker, "createdAt", unix_seconds(ctx.clock)));
}

}  // namespace

ActResult act_record_helm_release(Context& ctx, const Decision& d, Observation& obs) {
  View& v = obs.view;
  const bool rollback = d.action == Action::RecordHelmRollback;
  const std::string release_name = v.status.value("helmRelease", json::object()).value("name", v.spec.mesh_name);
  const std::string marker = v.attempt_id + (rollback ? "/rollback" : "/upgrade");
  const std::string who = "meshupgrade-operator, MeshUpgrade " + v.ref.ns + "/" + v.ref.name;
  kubert::ListOptions opts;
  opts.label_selector = "owner=helm,name=" + release_name;
  std::vector<HelmRevision> history;
  try {
    history = helm_history(ctx.api.list(kSecrets, v.spec.osm_namespace, opts));
  } catch (...) {
    std::throw_with_nested(std::runtime_error("read Helm release " + release_name + " in " + v.spec.osm_namespace));
  }

  // An upgrade's marker also names the revision it superseded ("<attempt>/upgrade@3"): the rollback's target.
  const HelmRevision* mine = nullptr;
  for (const auto& r : history) {
    if (r.marker == marker || r.marker.rfind(marker + "@", 0) == 0) mine = &r;
  }
  int version = mine ? mine->version() : 0;
  json written = mine ? mine->release : json();
  if (mine && !rollback && mine->marker.size() > marker.size() + 1) {
    v.status["attempt"]["helmPreviousRevision"] = std::stoi(mine->marker.substr(marker.size() + 1));
  }
  try {
    if (!mine && !history.empty()) {
      const HelmRevision* deployed = nullptr;
      for (const auto& r : history) {
        if (r.status() == "deployed") deployed = &r;
      }
      const HelmRevision& base = deployed ? *deployed : history.back();
      version = history.back().version() + 1;
      const std::string now = kubert::rfc3339(ctx.clock.wall());
      json release;
      if (rollback) {
        // helm rollback <release> <the revision this upgrade superseded>
        const int to = v.status["attempt"].value("helmPreviousRevision", 0);
        const HelmRevision* target = nullptr;
        for (const auto& r : history) {
          if (r.version() == to) target = &r;
        }
        if (!target) {
          // Pruned meanwhile: nothing of Helm's to roll back to; say so and move on.
          ctx.events.record(*v.object, "Warning", "HelmRecordSkipped",
                            "Helm release " + release_name + " revision " + std::to_string(to) +
                                " is gone; no rollback revision written");
          v.status["attempt"]["helmRolledBack"] = true;
          return {};
        }
        release = rolled_back_release(base.release, target->release, version,
                                      "Rollback to " + std::to_string(to) + " (" + who + ")", now);
      } else {
        HelmUpgrade u;
        u.chart_version = v.target->chart_version;
        u.app_version = v.target->app_version;
        u.now = now;
        u.description = "Upgrade complete (" + who + ": " + v.status.value("fromVersion", std::string("?")) + " → " +
                        v.target_version + ")";
        u.value_overrides = {{"osm", {{"image", {{"registry", v.image_target.registry}, {"tag", v.image_target.tag}}}}}};
        if (!v.spec.sidecar_image.empty()) u.value_overrides["osm"]["sidecarImage"] = v.spec.sidecar_image;
        if (v.spec.control_plane_source == ControlPlaneSource::Manifests) {
          u.manifest = manifests_text(ctx, v);
        } else {
          collect_rewrites(v, u);
        }
        release = upgraded_release(base.release, version, u);
        v.status["attempt"]["helmPreviousRevision"] = base.version();
      }
      write_revision(ctx, v, history, release, rollback ? marker : marker + "@" + std::to_string(base.version()));
      written = release;
      history = helm_history(ctx.api.list(kSecrets, v.spec.osm_namespace, opts));
    }
    supersede_others(ctx, v, history, version);
  } catch (const kubert::ApiError& e) {
    if (e.is_forbidden()) throw;
    std::throw_with_nested(std::runtime_error("write Helm release " + release_name + " revision " + std::to_string(version)));
  }

  if (rollback) {
    v.status["attempt"]["helmRolledBack"] = true;
  } else {
    v.status["attempt"]["helmRecorded"] = true;
    v.status["attempt"]["helmRevision"] = version;
  }
  if (version > 0) {
    v.status["helmRelease"]["revision"] = version;
    const json meta = written.value("chart", json::object()).value("metadata", json::object());
    v.status["helmRelease"]["chartVersion"] = meta.value("version", std::string(""));
    v.status["helmRelease"]["appVersion"] = meta.value("appVersion", std::string(""));
    // A rerun on a cache that has not shown our status write yet finds its own revision: no second Event.
    if (!mine) ctx.events.record(*v.object, "Normal", rollback ? "HelmRollbackRecorded" : "HelmReleaseRecorded",
                      "Helm release " + release_name + " revision " + std::to_string(version) + " written" +
                          " (chart " + v.status["helmRelease"].value("chartVersion", std::string("?")) +
                          (rollback ? ", a rollback)" : ")") +
                          "; the previous revision is superseded");
  }
  return {};
}

}  // namespace meshupgrade
