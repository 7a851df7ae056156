// The release catalog: what the operator knows of each osm-edge release, compiled in and extendable at run time.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "controllers/mesh_upgrade/semver.h"

namespace meshupgrade {

struct Release {
  Semver version;                 // the release tag, v1.3.9
  std::string chart_version;      // charts/osm Chart.yaml version
  std::string app_version;        // Chart.yaml appVersion (the --osm-version arg and the version label)
  std::string image_tag;          // the control-plane image tag the chart uses (not always the release)
  Semver min_kubernetes;
  std::string sidecar_image;      // default Pipy sidecar image
  std::string repo_server_image;  // osm-controller's Pipy repo container
  bool crds_by_init_container = false;  // 1.1: init-osm-bootstrap applies CRDs; 1.2+: osm-bootstrap itself
  std::map<std::string, std::string> addons;  // prometheus, grafana → default image
  std::vector<std::string> crds;  // CRD names the release installs
};

class Catalog {
 public:
  // The compiled-in releases.
  static Catalog builtin();
  // Adds or replaces releases from a JSON document {"releases": [...]} (e.g. a ConfigMap's data).
  // Throws std::invalid_argument naming the release and field on bad input.
  void merge(const nlohmann::json& doc);

  const Release* find(const Semver& version) const;
  // The release whose chart used this control-plane image tag or appVersion ("1.1.1" → v1.1.3).
  const Release* find_by_image_tag(const std::string& tag) const;
  const Release* find_by_app_version(const std::string& app_version) const;
  std::vector<std::string> versions() const;  // "v1.1.3, ..." for messages

 private:
  std::vector<Release> releases_;  // sorted by version
};

}  // namespace meshupgrade
