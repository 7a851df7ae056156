// The release catalog: parsing releases.json and looking releases up by version, image tag or appVersion.
#include "controllers/mesh_upgrade/catalog.h"

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

namespace meshupgrade {

extern const std::string_view kReleasesJson;

namespace {

std::string field(const nlohmann::json& r, const char* name, const std::string& where) {
  if (!r.contains(name) || !r[name].is_string() || r[name].get<std::string>().empty()) {
    throw std::invalid_argument(where + ": field \"" + name + "\" must be a non-empty string");
  }
  return r[name].get<std::string>();
}

Semver version_field(const nlohmann::json& r, const char* name, const std::string& where) {
  auto s = field(r, name, where);
  auto v = Semver::parse(s);
  if (!v) throw std::invalid_argument(where + ": field \"" + name + "\" is not a semantic version: " + s);
  return *v;
}

Release parse_release(const nlohmann::json& r, std::size_t index) {
  std::string where = "release #" + std::to_string(index);
  Release out;
  out.version = version_field(r, "version", where);
  where = "release " + out.version.str();
  out.chart_version = r.value("chartVersion", out.version.str().substr(1));
  out.app_version = r.value("appVersion", out.version.str());
  out.image_tag = r.value("imageTag", out.version.str().substr(1));
  out.min_kubernetes = r.contains("minKubernetes") ? version_field(r, "minKubernetes", where) : Semver{1, 19, 0, ""};
  out.sidecar_image = field(r, "sidecarImage", where);
  out.repo_server_image = r.value("repoServerImage", "");
  const auto by = r.value("crdsBy", std::string("Bootstrap"));
  if (by != "Bootstrap" && by != "InitContainer") {
    throw std::invalid_argument(where + ": field \"crdsBy\" must be Bootstrap or InitContainer, not " + by);
  }
  out.crds_by_init_container = by == "InitContainer";
  if (r.contains("addons")) out.addons = r["addons"].get<std::map<std::string, std::string>>();
  if (r.contains("crds")) out.crds = r["crds"].get<std::vector<std::string>>();
  return out;
}

}  // namespace

Catalog Catalog::builtin() {
  Catalog c;
  c.merge(nlohmann::json::parse(kReleasesJson));
  return c;
}

void Catalog::merge(const nlohmann::json& doc) {
  if (!doc.is_object() || !doc.contains("releases") || !doc["releases"].is_array()) {
    throw std::invalid_argument("release catalog: expected an object with a \"releases\" list");
  }
  std::size_t i = 0;
  for (const auto& r : doc["releases"]) {
    Release rel = parse_release(r, i++);
    auto it = std::find_if(releases_.begin(), releases_.end(), [&](const Release& x) { return x.version == rel.version; });
    if (it != releases_.end()) {
      *it = std::move(rel);
    } else {
      releases_.push_back(std::move(rel));
    }
  }
  std::sort(releases_.begin(), releases_.end(), [](const Release& a, const Release& b) { return a.version < b.version; });
}

const Release* Catalog::find(const Semver& version) const {
  for (const auto& r : releases_) {
    if (r.version == version) return &r;
  }
  return nullptr;
}

const Release* Catalog::find_by_image_tag(const std::string& tag) const {
  // Newest first: when two releases share a tag, the newer chart is the likelier install.
  for (auto it = releases_.rbegin(); it != releases_.rend(); ++it) {
    if (it->image_tag == tag) return &*it;
  }
  return nullptr;
}

const Release* Catalog::find_by_app_version(const std::string& app_version) const {
  auto want = Semver::parse(app_version);
  for (auto it = releases_.rbegin(); it != releases_.rend(); ++it) {
    auto have = Semver::parse(it->app_version);
    if (want && have && *want == *have) return &*it;
  }
  return nullptr;
}

std::vector<std::string> Catalog::versions() const {
  std::vector<std::string> out;
  for (const auto& r : releases_) out.push_back(r.version.str());
  return out;
}

}  // namespace meshupgrade
