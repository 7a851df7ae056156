// Control-plane image sets: a snapshot of what a Deployment runs, the rewrite to a target release, and patches.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace meshupgrade {

struct ImageRef {
  std::string registry;  // everything before the last '/', "" for library images
  std::string name;      // the last path segment: "osm-edge-controller"
  std::string tag;       // "" when absent
  std::string digest;    // "sha256:..." when pinned

  static ImageRef parse(const std::string& image);
  std::string str() const;
  bool is_osm_edge() const { return name.rfind("osm-edge-", 0) == 0; }
};

// The image-bearing parts of one container of a pod template.
struct ContainerImages {
  std::string name;
  bool init = false;
  std::string image;
  std::vector<std::string> args;            // the whole list: args are replaced, never merged
  std::map<std::string, std::string> env;   // only variables whose value is an osm-edge image
  bool operator==(const ContainerImages&) const = default;
};

struct WorkloadImages {
  std::vector<ContainerImages> containers;
  bool operator==(const WorkloadImages&) const = default;
};

// What an upgrade moves the control plane to.
struct ImageTarget {
  std::string registry;           // "flomesh"
  std::string tag;                // "1.3.9"
  std::string app_version;        // "v1.3.9": the value of --osm-version
  std::string from_repo_image;    // the running release's Pipy repo image ("" : leave repo images alone)
  std::string to_repo_image;
};

struct Change {
  std::string object;  // "Deployment osm-system/osm-controller"
  std::string field;   // "spec.template.spec.containers[osm-controller].image"
  std::string from, to;
};

WorkloadImages snapshot(const nlohmann::json& deployment);
// The same containers moved to the target: osm-edge images, the repo image, --osm-version and image-naming
// args and env values. Nothing else changes.
WorkloadImages rewrite(const WorkloadImages& current, const ImageTarget& target);
std::vector<Change> diff(const std::string& object, const WorkloadImages& from, const WorkloadImages& to);
// A strategic merge patch for a Deployment that sets `desired` where it differs from `current`; null when equal.
nlohmann::json template_patch(const WorkloadImages& current, const WorkloadImages& desired);

nlohmann::json to_json(const WorkloadImages& w);
WorkloadImages workload_images_from_json(const nlohmann::json& j);

// The image of the named container in a pod spec ("" when absent).
std::string container_image(const nlohmann::json& pod_spec, const std::string& container, bool init = false);

}  // namespace meshupgrade
