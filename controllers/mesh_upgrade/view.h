// What observe() reads for one MeshUpgrade: the caches it needs and the detailed view the actions use.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/catalog.h"
#include "controllers/mesh_upgrade/decide.h"
#include "controllers/mesh_upgrade/images.h"
#include "controllers/mesh_upgrade/spec.h"
#include "operator/kube_api.h"
#include "operator/store.h"

namespace meshupgrade {

using json = nlohmann::json;
using ObjectPtr = std::shared_ptr<const json>;

// The informers' stores the reconciler reads; each is label- or field-selected and stripped.
struct Caches {
  const kubert::Store* mesh_upgrades = nullptr;
  const kubert::Store* control_plane = nullptr;       // Deployments labelled app.kubernetes.io/name=openservicemesh.io
  const kubert::Store* control_plane_pods = nullptr;  // Pods labelled app in (osm-bootstrap,osm-controller,osm-injector)
  const kubert::Store* pull_check_pods = nullptr;     // Pods labelled upgrade.flomesh.io/pull-check
  const kubert::Store* mesh_configs = nullptr;
  const kubert::Store* namespaces = nullptr;
  const kubert::Store* crds = nullptr;                // all CRDs, name and conditions only
  const kubert::Store* deployments = nullptr;         // all, stripped to what rollouts need
  const kubert::Store* statefulsets = nullptr;
  const kubert::Store* daemonsets = nullptr;
  const kubert::Store* meshed_pods = nullptr;         // Pods labelled osm-proxy-uuid, stripped
};

struct WorkloadView {
  kubert::ObjectRef ref;
  std::string kind;                 // Deployment, StatefulSet, DaemonSet
  std::string key() const { return kind + " " + ref.ns + "/" + ref.name; }
  bool restarted = false;           // stamped by this attempt
  bool rolled_back = false;         // stamped by this attempt's rollback
  bool needs_restart = false;       // pods on another sidecar image
  Rollout rollout = Rollout::Unknown;
  std::string failure;              // why its rollout failed
  std::optional<std::chrono::system_clock::time_point> restarted_at;
};

// Everything the actions need beyond the decision's facts.
struct View {
  ObjectPtr object;
  kubert::ObjectRef ref;
  std::int64_t generation = 0;
  MeshUpgradeSpec spec;
  json status;                      // the current status (a copy the actions edit)
  std::string attempt_id;           // "<uid>.<attempt generation>": stamped on what this attempt restarts
  const Release* target = nullptr;
  const Release* from = nullptr;
  std::string target_version;       // "v1.3.9"
  std::string target_sidecar;
  ImageTarget image_target;
  std::map<std::string, ObjectPtr> control_plane;  // osm-bootstrap, osm-controller, osm-injector
  std::vector<std::string> control_plane_to_patch;
  std::vector<std::string> rollback_to_patch;
  std::vector<std::string> addons_to_patch;        // "deployment=image"
  ObjectPtr mesh_config;
  std::vector<WorkloadView> workloads;
  std::vector<std::string> bare_pods;
  std::vector<Change> plan;
  std::vector<std::string> target_images;          // what the pull check pulls
  std::optional<std::chrono::system_clock::time_point> deadline;  // the earliest timeout in hand
  std::string pull_check_pod;
  std::string crds_missing;                         // for messages
  std::string waiting;                              // what the step in hand waits for, for a person
  std::optional<Problem> stuck;                     // a cause that may clear (Insufficient cpu); the reason on timeout
};

}  // namespace meshupgrade
