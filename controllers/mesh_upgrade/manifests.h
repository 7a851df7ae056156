// Manifests from ConfigMaps (CRDs, `helm template` output): YAML documents to JSON, applied server-side.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "operator/kube_api.h"

namespace meshupgrade {

// Every non-empty document of a (multi-document) YAML text, as JSON. Throws std::runtime_error on bad YAML.
std::vector<nlohmann::json> yaml_documents(const std::string& text);
// The resource type of a manifest (apiVersion, kind), for the kinds a mesh's manifests hold.
kubert::Gvr gvr_of(const std::string& api_version, const std::string& kind);
// Server-side apply of every object in every data value of a ConfigMap; returns how many were applied.
// default_ns is used for namespaced objects without one.
int apply_config_map(kubert::KubeApi& api, const std::string& ns, const std::string& name, const std::string& default_ns,
                     bool only_crds);

}  // namespace meshupgrade
