// The release catalog: what the operator knows of each osm-edge release, compiled in and extendable at run time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "controllers/mesh_upgrade/semver.h"

namespace meshupgrade {

// An add-on Deployment the chart can install (prometheus, grafana, jaeger) and its default image.
struct Addon {
  std::string name;        // prometheus, grafana, jaeger
  std::string deployment;  // as the release's chart names it: osm-prometheus, osm-grafana, jaeger or osm-jaeger
  std::string container;
  std::string image;
};

// The flags one control-plane container is started with, as the release's chart renders them by default.
struct ContainerFlags {
  std::string deployment;                  // osm-controller
  std::string container;                   // osm-controller
  bool init = false;
  std::vector<std::string> flags;          // flag names in order: "--osm-version", ...
  std::vector<std::string> optional_flags; // passed only under non-default values (vault, ...)
};

struct Release {
  Semver version;                 // the release tag, v1.3.9; a variant carries it as pre-release: v1.2.1-ubi8
  std::string variant;            // "" or "ubi8"
  std::string chart_version;      // the published chart's version (helm-repo)
  std::string app_version;        // the chart's appVersion: the value of --osm-version
  std::string cli_chart_version;  // the chart the osm CLI of this tag embeds, when it differs ("" : same)
  std::string cli_app_version;
  std::string registry;           // default image registry, "flomesh"
  std::string image_tag;          // the control-plane image tag the chart uses (not always the release)
  std::map<std::string, std::string> image_names;  // controller, injector, sidecarInit, bootstrap, crds, ...
  Semver min_kubernetes;
  std::string sidecar_image;      // default Pipy sidecar image
  std::string repo_server_image;  // osm-controller's Pipy repo container
  bool crds_by_init_container = false;  // 1.1: init-osm-bootstrap applies CRDs; 1.2+: osm-bootstrap itself
  std::vector<Addon> addons;
  std::vector<std::string> crds;  // CRD names the release installs
  std::map<std::string, std::string> crd_storage_versions;  // CRD name → its storage version
  std::vector<ContainerFlags> control_plane;
  // The preset MeshConfig's spec, flattened: "spec.sidecar.logLevel" → its JSON text ("\"error\"").
  std::map<std::string, std::string> mesh_config_defaults;

  // The image a component runs at the given registry and tag ("controller" → flomesh/osm-edge-controller:1.3.9).
  std::string image(const std::string& component, const std::string& registry, const std::string& tag) const;
  const Addon* addon(const std::string& name) const;
};

// Why the Images source cannot carry a control plane from one release to another: the flags its containers
// take differ (a flag the target does not know crashes it; one it needs is missing). nullopt: it can.
std::optional<std::string> images_source_gap(const Release& from, const Release& to);

// A default of the preset MeshConfig that differs between two releases.
struct DefaultChange {
  std::string field;  // spec.sidecar.logLevel
  std::string from, to;  // JSON text; "" when absent
};
std::vector<DefaultChange> mesh_config_default_changes(const Release& from, const Release& to);

class Catalog {
 public:
  // The compiled-in releases.
  static Catalog builtin();
  // Adds or replaces releases from a JSON document {"releases": [...]} (releases.json's format; a ConfigMap's
  // data may give only version and sidecarImage, the rest takes defaults). Throws std::invalid_argument naming
  // the release and field on bad input; on a throw the catalog is unchanged.
  void merge(const nlohmann::json& doc);

  const Release* find(const Semver& version) const;
  // The release whose chart used this control-plane image tag ("1.1.1" → v1.1.3); with the image's name, the
  // variant whose image names it matches (osm-edge-controller-ubi8 → the ubi8 variant).
  const Release* find_by_image_tag(const std::string& tag, const std::string& image_name = "") const;
  // appVersion as the published chart or the osm CLI's embedded chart records it.
  const Release* find_by_app_version(const std::string& app_version) const;
  std::vector<std::string> versions() const;  // "v1.1.3, ..." for messages
  std::size_t size() const { return releases_.size(); }
  // Why an extension was not taken (a ConfigMap that does not parse), for messages; "" when none.
  const std::string& extension_problems() const { return extension_problems_; }
  void add_extension_problem(const std::string& p) {
    extension_problems_ += (extension_problems_.empty() ? "" : "; ") + p;
  }

 private:
  std::vector<Release> releases_;  // sorted by version
  std::string extension_problems_;
};

}  // namespace meshupgrade
