// MeshUpgrade spec: parsed from the object with the API's defaults applied, validated beyond the CRD schema.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace meshupgrade {

enum class CrdSource { Bootstrap, ConfigMap, Skip };
enum class ControlPlaneSource { Images, Manifests };

// The largest maxConcurrent and failureThreshold the CRD accepts (its `maximum`), checked alike here.
inline constexpr int kMaxConcurrentLimit = 100000;

struct MaxConcurrent {
  int value = 10;
  bool percent = false;
  int resolve(int total) const;  // at least 1
};

struct MeshUpgradeSpec {
  std::string mesh_name = "osm";
  std::string osm_namespace;      // the object's namespace when empty in the spec
  std::string target_version;     // as written, "v1.3.9"
  std::string container_registry; // "" : the registry the running controller uses
  std::string image_tag;          // "" : the release's image tag
  CrdSource crd_source = CrdSource::Bootstrap;
  std::string crd_config_map;
  ControlPlaneSource control_plane_source = ControlPlaneSource::Images;
  std::string manifests_config_map;
  std::string sidecar_image;      // "" : the release's default
  bool restart_workloads = true;
  MaxConcurrent max_concurrent;
  int failure_threshold = 1;
  std::map<std::string, std::string> namespace_match_labels;  // empty: namespaces monitored by the mesh
  bool has_namespace_selector = false;
  std::string mesh_config_patch;  // JSON text of spec.meshConfigPatch, "" when absent or empty
  std::string prometheus_image, grafana_image, jaeger_image;
  bool allow_breaking_changes = false;
  bool allow_downgrade = false;
  bool allow_gitops_managed = false;  // upgrade a mesh whose release a Flux HelmRelease or Argo CD Application owns
  bool precheck_image_pull = true;
  bool rollback_on_failure = true;
  bool suspend = false;
  bool dry_run = false;
  std::chrono::seconds control_plane_timeout{600};
  std::chrono::seconds per_workload_timeout{300};

  // What identifies one upgrade: a change of any of these starts a new one.
  std::string target_identity() const;
};

// Throws kubert::TerminalError("InvalidSpec", "spec.FIELD: what is wrong") for what the schema cannot catch.
MeshUpgradeSpec parse_spec(const nlohmann::json& object);

// The longest timeout the CRD accepts.
inline constexpr std::chrono::hours kMaxTimeout{720};

// Go durations as the CRD admits them: "90s", "1.5m", "90000ms", "1h30m", above 0 and at most kMaxTimeout, in
// whole seconds rounded up. nullopt when malformed or out of range.
std::optional<std::chrono::seconds> parse_duration(const std::string& s);

}  // namespace meshupgrade
