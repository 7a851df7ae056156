// YAML manifests to JSON and server-side apply, for the ConfigMap CRD source and the Manifests control-plane source.
#include "controllers/mesh_upgrade/manifests.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "controllers/mesh_upgrade/names.h"
#include "operator/errors.h"

namespace meshupgrade {
namespace {

using nlohmann::json;

json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined: return nullptr;
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = node.Scalar();
      if (node.Tag() == "!" ) return s;  // quoted: a string, whatever it looks like
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~") return nullptr;
      if (!s.empty() && (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-')) {
        try {
          std::size_t pos = 0;
          long long n = std::stoll(s, &pos);
          if (pos == s.size()) return n;
          double d = std::stod(s, &pos);
          if (pos == s.size()) return d;
        } catch (const std::exception&) {
        }
      }
      return s;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<json> yaml_documents(const std::string& text) {
  std::vector<json> out;
  try {
    for (const auto& doc : YAML::LoadAll(text)) {
      json j = to_json(doc);
      if (j.is_object() && !j.empty()) out.push_back(std::move(j));
    }
  } catch (const YAML::Exception& e) {
    throw std::runtime_error(std::string("invalid YAML: ") + e.what());
  }
  return out;
}

kubert::Gvr gvr_of(const std::string& api_version, const std::string& kind) {
  static const std::map<std::string, std::pair<std::string, bool>> kKinds = {
      {"CustomResourceDefinition", {"customresourcedefinitions", false}},
      {"Namespace", {"namespaces", false}},
      {"ClusterRole", {"clusterroles", false}},
      {"ClusterRoleBinding", {"clusterrolebindings", false}},
      {"MutatingWebhookConfiguration", {"mutatingwebhookconfigurations", false}},
      {"ValidatingWebhookConfiguration", {"validatingwebhookconfigurations", false}},
      {"PriorityClass", {"priorityclasses", false}},
      {"MeshConfig", {"meshconfigs", true}},
      {"MeshRootCertificate", {"meshrootcertificates", true}},
      {"Ingress", {"ingresses", true}},
      {"NetworkPolicy", {"networkpolicies", true}},
      {"PodDisruptionBudget", {"poddisruptionbudgets", true}},
  };
  const auto slash = api_version.find('/');
  kubert::Gvr gvr;
  gvr.group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  gvr.version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  if (auto it = kKinds.find(kind); it != kKinds.end()) {
    gvr.resource = it->second.first;
    gvr.namespaced = it->second.second;
  } else {
    std::string plural = kind;
    std::transform(plural.begin(), plural.end(), plural.begin(), [](unsigned char c) { return std::tolower(c); });
    gvr.resource = plural.ends_with("s") ? plural + "es" : plural.ends_with("y") ? plural.substr(0, plural.size() - 1) + "ies" : plural + "s";
    gvr.namespaced = true;
  }
  return gvr;
}

int apply_config_map(kubert::KubeApi& api, const std::string& ns, const std::string& name, const std::string& default_ns,
                     bool only_crds) {
  auto cm = api.get({kConfigMaps, ns, name});
  if (!cm) throw kubert::TerminalError("ManifestsNotFound", "ConfigMap " + ns + "/" + name + " does not exist");
  int applied = 0;
  const json data = cm->value("data", json::object());
  for (const auto& [key, value] : data.items()) {
    std::vector<json> docs;
    try {
      docs = yaml_documents(value.get<std::string>());
    } catch (const std::exception& e) {
      throw kubert::TerminalError("InvalidManifests", "ConfigMap " + ns + "/" + name + " key " + key + ": " + e.what());
    }
    for (auto& doc : docs) {
      const std::string kind = doc.value("kind", "");
      if (only_crds && kind != "CustomResourceDefinition") continue;
      if (kind.empty() || !doc.contains("metadata")) continue;
      kubert::Gvr gvr = gvr_of(doc.value("apiVersion", ""), kind);
      std::string obj_ns = gvr.namespaced ? doc["metadata"].value("namespace", default_ns) : "";
      if (gvr.namespaced) doc["metadata"]["namespace"] = obj_ns;
      kubert::PatchOptions opts;
      opts.field_manager = std::string(kFieldManager);
      opts.force = true;
      try {
        api.patch({gvr, obj_ns, doc["metadata"].value("name", "")}, kubert::PatchType::Apply, doc, opts);
      } catch (...) {
        std::throw_with_nested(std::runtime_error("apply " + kind + " " + doc["metadata"].value("name", "") +
                                                  " from ConfigMap " + ns + "/" + name));
      }
      ++applied;
    }
  }
  return applied;
}

}  // namespace meshupgrade
