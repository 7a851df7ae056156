// Parsing the MeshUpgrade spec with defaults, and the validation the CRD schema cannot express.
#include "controllers/mesh_upgrade/spec.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/semver.h"
#include "operator/errors.h"

namespace meshupgrade {
namespace {

using nlohmann::json;

[[noreturn]] void invalid(const std::string& field, const std::string& what) {
  throw kubert::TerminalError("InvalidSpec", "spec." + field + ": " + what);
}

const json& sub(const json& j, const char* key) {
  static const json empty = json::object();
  if (j.is_object() && j.contains(key) && j[key].is_object()) return j[key];
  return empty;
}

std::string str(const json& j, const char* key, const std::string& def = "") {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return def;
  if (!j[key].is_string()) invalid(key, "must be a string");
  return j[key].get<std::string>();
}

bool boolean(const json& j, const char* key, bool def, const std::string& path) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return def;
  if (!j[key].is_boolean()) invalid(path, "must be true or false");
  return j[key].get<bool>();
}

}  // namespace

int MaxConcurrent::resolve(int total) const {
  int n = percent ? (total * value + 99) / 100 : value;
  return std::max(1, n);
}

std::string MeshUpgradeSpec::target_identity() const {
  return target_version + "|" + container_registry + "|" + image_tag + "|" + sidecar_image;
}

std::optional<std::chrono::seconds> parse_duration(const std::string& s) {
  // Go's time.ParseDuration grammar as the CRD's pattern admits it (fractions; ns, us, ms, s, m, h), bounded
  // as the CRD's rule bounds it (issue 17: "1.5m" was refused, "3000000h" overflowed the deadline).
  if (s.empty() || s.size() > 64) return std::nullopt;
  long double total_ns = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    const std::string number = s.substr(start, i - start);
    if (number.empty() || number.front() == '.' || number.back() == '.' ||
        std::count(number.begin(), number.end(), '.') > 1) {
      return std::nullopt;
    }
    const std::size_t unit_start = i;
    while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    const std::string unit = s.substr(unit_start, i - unit_start);
    static const std::pair<const char*, long double> kUnits[] = {
        {"ns", 1.0L}, {"us", 1e3L}, {"ms", 1e6L}, {"s", 1e9L}, {"m", 60e9L}, {"h", 3600e9L}};
    const auto* u = std::find_if(std::begin(kUnits), std::end(kUnits), [&](const auto& x) { return unit == x.first; });
    if (u == std::end(kUnits)) return std::nullopt;
    total_ns += std::stold(number) * u->second;
    if (total_ns > std::chrono::seconds(kMaxTimeout).count() * 1e9L) return std::nullopt;
  }
  if (total_ns <= 0) return std::nullopt;
  // Whole seconds, rounded up: a deadline is never shorter than asked.
  return std::chrono::seconds(static_cast<long long>(std::ceil(total_ns / 1e9L)));
}

MeshUpgradeSpec parse_spec(const json& object) {
  const json& spec = sub(object, "spec");
  MeshUpgradeSpec out;
  out.mesh_name = str(spec, "meshName", "osm");
  out.osm_namespace = str(spec, "osmNamespace");
  if (out.osm_namespace.empty() && object.contains("metadata")) {
    out.osm_namespace = object["metadata"].value("namespace", "");
  }
  out.target_version = str(spec, "targetVersion");
  if (out.target_version.empty()) invalid("targetVersion", "is required (an osm-edge release such as v1.3.9)");
  if (!Semver::parse(out.target_version)) {
    invalid("targetVersion", "\"" + out.target_version + "\" is not a semantic version such as v1.3.9");
  }
  out.container_registry = str(spec, "containerRegistry");
  out.image_tag = str(spec, "imageTag");
  if (out.container_registry.empty() != out.image_tag.empty()) {
    invalid(out.image_tag.empty() ? "imageTag" : "containerRegistry",
            "containerRegistry and imageTag must be set together");
  }

  const json& crds = sub(spec, "crds");
  const auto crd_source = str(crds, "source", "Bootstrap");
  if (crd_source == "Bootstrap") out.crd_source = CrdSource::Bootstrap;
  else if (crd_source == "ConfigMap") out.crd_source = CrdSource::ConfigMap;
  else if (crd_source == "Skip") out.crd_source = CrdSource::Skip;
  else invalid("crds.source", "must be Bootstrap, ConfigMap or Skip, not \"" + crd_source + "\"");
  out.crd_config_map = str(sub(crds, "configMapRef"), "name");
  if (out.crd_source == CrdSource::ConfigMap && out.crd_config_map.empty()) {
    invalid("crds.configMapRef.name", "is required when crds.source is ConfigMap");
  }

  const json& cp = sub(spec, "controlPlane");
  const auto cp_source = str(cp, "source", "Images");
  if (cp_source == "Images") out.control_plane_source = ControlPlaneSource::Images;
  else if (cp_source == "Manifests") out.control_plane_source = ControlPlaneSource::Manifests;
  else invalid("controlPlane.source", "must be Images or Manifests, not \"" + cp_source + "\"");
  out.manifests_config_map = str(sub(cp, "manifestsRef"), "name");
  if (out.control_plane_source == ControlPlaneSource::Manifests && out.manifests_config_map.empty()) {
    invalid("controlPlane.manifestsRef.name", "is required when controlPlane.source is Manifests");
  }

  const json& sidecar = sub(spec, "sidecar");
  out.sidecar_image = str(sidecar, "image");
  out.restart_workloads = boolean(sidecar, "restartWorkloads", true, "sidecar.restartWorkloads");
  if (sidecar.contains("maxConcurrent")) {
    const json& mc = sidecar["maxConcurrent"];
    // The CRD's bounds, checked the same way here: 1..kMaxConcurrentLimit, or 1%..100% (issue 17: a huge value
    // threw from stoi or wrapped around).
    if (mc.is_number_integer()) {
      const long long n = mc.is_number_unsigned() && mc.get<unsigned long long>() > kMaxConcurrentLimit
                              ? kMaxConcurrentLimit + 1LL
                              : mc.get<long long>();
      if (n < 1 || n > kMaxConcurrentLimit) {
        invalid("sidecar.maxConcurrent", "must be between 1 and " + std::to_string(kMaxConcurrentLimit) + ", not " + mc.dump());
      }
      out.max_concurrent.value = static_cast<int>(n);
    } else if (mc.is_string()) {
      auto s = mc.get<std::string>();
      const bool digits = s.size() >= 2 && s.size() <= 4 && s.back() == '%' &&
                          std::all_of(s.begin(), s.end() - 1, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
      const int pct = digits ? std::stoi(s.substr(0, s.size() - 1)) : 0;
      if (!digits || pct < 1 || pct > 100) {
        invalid("sidecar.maxConcurrent", "must be a number or a percentage from 1% to 100%, not \"" + s + "\"");
      }
      out.max_concurrent.value = pct;
      out.max_concurrent.percent = true;
    } else {
      invalid("sidecar.maxConcurrent", "must be a number or a percentage");
    }
  }
  if (sidecar.contains("failureThreshold")) {
    const json& ft = sidecar["failureThreshold"];
    if (!ft.is_number_integer() || ft.get<long long>() < 1 || ft.get<long long>() > kMaxConcurrentLimit ||
        (ft.is_number_unsigned() && ft.get<unsigned long long>() > kMaxConcurrentLimit)) {
      invalid("sidecar.failureThreshold", "must be an integer between 1 and " + std::to_string(kMaxConcurrentLimit));
    }
    out.failure_threshold = sidecar["failureThreshold"].get<int>();
  }
  if (sidecar.contains("namespaceSelector") && sidecar["namespaceSelector"].is_object()) {
    const json& sel = sidecar["namespaceSelector"];
    if (sel.contains("matchExpressions") && !sel["matchExpressions"].empty()) {
      invalid("sidecar.namespaceSelector.matchExpressions", "is not supported yet; use matchLabels");
    }
    if (sel.contains("matchLabels")) {
      out.namespace_match_labels = sel["matchLabels"].get<std::map<std::string, std::string>>();
      out.has_namespace_selector = !out.namespace_match_labels.empty();
    }
  }

  if (spec.contains("meshConfigPatch") && spec["meshConfigPatch"].is_object() && !spec["meshConfigPatch"].empty()) {
    out.mesh_config_patch = spec["meshConfigPatch"].dump();
  }
  const json& addons = sub(spec, "addons");
  out.prometheus_image = str(addons, "prometheusImage");
  out.grafana_image = str(addons, "grafanaImage");
  out.jaeger_image = str(addons, "jaegerImage");
  const json& policy = sub(spec, "policy");
  out.allow_breaking_changes = boolean(policy, "allowBreakingChanges", false, "policy.allowBreakingChanges");
  out.allow_downgrade = boolean(policy, "allowDowngrade", false, "policy.allowDowngrade");
  out.allow_gitops_managed = boolean(policy, "allowGitOpsManaged", false, "policy.allowGitOpsManaged");
  out.precheck_image_pull = boolean(sub(spec, "precheck"), "imagePull", true, "precheck.imagePull");
  out.rollback_on_failure = boolean(spec, "rollbackOnFailure", true, "rollbackOnFailure");
  out.suspend = boolean(spec, "suspend", false, "suspend");
  out.dry_run = boolean(spec, "dryRun", false, "dryRun");

  const json& timeouts = sub(spec, "timeouts");
  for (auto [key, target] : {std::pair{"controlPlane", &out.control_plane_timeout},
                             std::pair{"perWorkload", &out.per_workload_timeout}}) {
    auto text = str(timeouts, key);
    if (text.empty()) continue;
    auto d = parse_duration(text);
    if (!d || d->count() <= 0) {
      invalid(std::string("timeouts.") + key,
              "\"" + text + "\" is not a duration above 0 and at most 720h, such as 90s, 1.5m, 10m or 1h30m");
    }
    *target = *d;
  }
  return out;
}

}  // namespace meshupgrade
