// The release catalog: parsing releases.json and looking releases up by version, image tag or appVersion.
#include "controllers/mesh_upgrade/catalog.h"

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

namespace meshupgrade {

extern const std::string_view kReleasesJson;

namespace {

using nlohmann::json;

std::string field(const json& r, const char* name, const std::string& where) {
  if (!r.contains(name) || !r[name].is_string() || r[name].get<std::string>().empty()) {
    throw std::invalid_argument(where + ": field \"" + name + "\" must be a non-empty string");
  }
  return r[name].get<std::string>();
}

std::string optional_string(const json& r, const char* name, const std::string& fallback, const std::string& where) {
  if (!r.contains(name) || r[name].is_null()) return fallback;
  if (!r[name].is_string()) throw std::invalid_argument(where + ": field \"" + std::string(name) + "\" must be a string");
  return r[name].get<std::string>();
}

Semver version_field(const json& r, const char* name, const std::string& where) {
  auto s = field(r, name, where);
  auto v = Semver::parse(s);
  if (!v) throw std::invalid_argument(where + ": field \"" + name + "\" is not a semantic version: " + s);
  return *v;
}

void flatten(const json& j, const std::string& prefix, std::map<std::string, std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it) flatten(it.value(), prefix + "." + it.key(), out);
  } else {
    out[prefix] = j.dump();
  }
}

std::vector<std::string> flag_names(const json& args) {
  std::vector<std::string> out;
  for (const auto& a : args) {
    if (!a.is_string()) continue;
    const auto s = a.get<std::string>();
    if (s.rfind("--", 0) == 0) out.push_back(s.substr(0, s.find('=')));
  }
  return out;
}

// Every field but version and sidecarImage is optional, so a ConfigMap can add a fork's release in two lines.
Release parse_release(const json& r, std::size_t index) {
  std::string where = "release #" + std::to_string(index);
  if (!r.is_object()) throw std::invalid_argument(where + ": must be an object");
  Release out;
  out.version = version_field(r, "version", where);
  where = "release " + out.version.str();
  std::string core = out.version.str().substr(1);
  out.variant = optional_string(r, "variant", "", where);
  if (!out.variant.empty() && out.version.pre != out.variant) {
    throw std::invalid_argument(where + ": a variant's version ends with -" + out.variant);
  }
  const json chart = r.value("chart", json::object());
  out.chart_version = optional_string(chart, "version", optional_string(r, "chartVersion", core, where), where);
  out.app_version = optional_string(chart, "appVersion", optional_string(r, "appVersion", out.version.str(), where), where);
  if (r.contains("cliChart") && r["cliChart"].is_object()) {
    out.cli_chart_version = optional_string(r["cliChart"], "version", "", where);
    out.cli_app_version = optional_string(r["cliChart"], "appVersion", "", where);
  }
  if (!out.variant.empty()) core = core.substr(0, core.size() - out.variant.size() - 1);
  out.registry = optional_string(r, "registry", "flomesh", where);
  out.image_tag = optional_string(r, "imageTag", core, where);
  if (r.contains("imageNames")) out.image_names = r["imageNames"].get<std::map<std::string, std::string>>();
  // What the charts name them, for an entry (a ConfigMap's) that does not say.
  static const std::map<std::string, std::string> kDefaultImageNames = {
      {"controller", "osm-edge-controller"}, {"injector", "osm-edge-injector"}, {"sidecarInit", "osm-edge-sidecar-init"},
      {"bootstrap", "osm-edge-bootstrap"},   {"crds", "osm-edge-crds"},         {"healthcheck", "osm-edge-healthcheck"}};
  out.image_names.insert(kDefaultImageNames.begin(), kDefaultImageNames.end());  // keeps the entry's own names
  out.min_kubernetes = r.contains("minKubernetes") ? version_field(r, "minKubernetes", where) : Semver{1, 19, 0, ""};
  out.sidecar_image = field(r, "sidecarImage", where);
  out.repo_server_image = optional_string(r, "repoServerImage", "", where);
  const auto by = optional_string(r, "crdsBy", "Bootstrap", where);
  if (by != "Bootstrap" && by != "InitContainer") {
    throw std::invalid_argument(where + ": field \"crdsBy\" must be Bootstrap or InitContainer, not " + by);
  }
  out.crds_by_init_container = by == "InitContainer";
  const json addons = r.value("addons", json::array());
  if (addons.is_object()) {  // the short form: {"prometheus": "prom/prometheus:v2.34.0"}
    for (const auto& [name, image] : addons.items()) {
      if (!image.is_string()) throw std::invalid_argument(where + ": addons." + name + " must be an image");
      out.addons.push_back({name, name == "jaeger" ? "jaeger" : "osm-" + name, "", image.get<std::string>()});
    }
  }
  for (const auto& a : addons.is_array() ? addons : json::array()) {
    if (!a.is_object()) throw std::invalid_argument(where + ": each of \"addons\" must be an object");
    out.addons.push_back({field(a, "name", where + " addon"), field(a, "deployment", where + " addon"),
                          optional_string(a, "container", "", where), optional_string(a, "image", "", where)});
  }
  for (const auto& c : r.value("crds", json::array())) {
    if (c.is_string()) {
      out.crds.push_back(c.get<std::string>());
      continue;
    }
    const std::string name = field(c, "name", where + " crd");
    out.crds.push_back(name);
    for (const auto& v : c.value("versions", json::array())) {
      if (v.value("storage", false)) out.crd_storage_versions[name] = v.value("name", "");
    }
  }
  for (const auto& d : r.value("controlPlane", json::array())) {
    const std::string dep = field(d, "deployment", where + " controlPlane");
    for (const auto& c : d.value("containers", json::array())) {
      ContainerFlags f{dep, field(c, "name", where + " controlPlane " + dep), c.value("init", false),
                       flag_names(c.value("args", json::array())), {}};
      for (const auto& o : c.value("optionalFlags", json::array())) f.optional_flags.push_back(o.get<std::string>());
      out.control_plane.push_back(std::move(f));
    }
  }
  if (r.contains("meshConfigDefaults") && r["meshConfigDefaults"].is_object()) {
    flatten(r["meshConfigDefaults"], "spec", out.mesh_config_defaults);
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::string Release::image(const std::string& component, const std::string& reg, const std::string& tag) const {
  auto it = image_names.find(component);
  const std::string name = it != image_names.end() ? it->second : "osm-edge-" + component;
  return (reg.empty() ? "" : reg + "/") + name + ":" + tag;
}

const Addon* Release::addon(const std::string& name) const {
  for (const auto& a : addons) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::optional<std::string> images_source_gap(const Release& from, const Release& to) {
  std::vector<std::string> gaps;
  for (const auto& t : to.control_plane) {
    auto f = std::find_if(from.control_plane.begin(), from.control_plane.end(), [&](const ContainerFlags& x) {
      return x.deployment == t.deployment && x.container == t.container && x.init == t.init;
    });
    if (f == from.control_plane.end()) {
      if (!from.control_plane.empty()) gaps.push_back(t.deployment + " gains container " + t.container);
      continue;
    }
    const std::set<std::string> have(f->flags.begin(), f->flags.end()), want(t.flags.begin(), t.flags.end());
    const std::set<std::string> to_optional(t.optional_flags.begin(), t.optional_flags.end());
    std::vector<std::string> added, removed;
    for (const auto& w : want) if (!have.count(w)) added.push_back(w);
    for (const auto& h : have) if (!want.count(h) && !to_optional.count(h)) removed.push_back(h);
    if (added.empty() && removed.empty()) continue;
    std::string gap = t.container;
    if (!added.empty()) gap += " takes new " + join(added);
    if (!removed.empty()) gap += std::string(added.empty() ? "" : ";") + " no longer takes " + join(removed);
    gaps.push_back(gap);
  }
  if (gaps.empty()) return std::nullopt;
  std::string out;
  for (const auto& g : gaps) out += (out.empty() ? "" : "; ") + g;
  return out;
}

std::vector<DefaultChange> mesh_config_default_changes(const Release& from, const Release& to) {
  std::vector<DefaultChange> out;
  if (from.mesh_config_defaults.empty() || to.mesh_config_defaults.empty()) return out;  // unknown: say nothing
  std::set<std::string> keys;
  for (const auto& [k, _] : from.mesh_config_defaults) keys.insert(k);
  for (const auto& [k, _] : to.mesh_config_defaults) keys.insert(k);
  for (const auto& k : keys) {
    auto f = from.mesh_config_defaults.find(k);
    auto t = to.mesh_config_defaults.find(k);
    const std::string fv = f == from.mesh_config_defaults.end() ? "" : f->second;
    const std::string tv = t == to.mesh_config_defaults.end() ? "" : t->second;
    if (fv != tv) out.push_back({k, fv, tv});
  }
  return out;
}

Catalog Catalog::builtin() {
  Catalog c;
  c.merge(json::parse(kReleasesJson));
  return c;
}

void Catalog::merge(const json& doc) {
  if (!doc.is_object() || !doc.contains("releases") || !doc["releases"].is_array()) {
    throw std::invalid_argument("release catalog: expected an object with a \"releases\" list");
  }
  std::vector<Release> parsed;
  std::size_t i = 0;
  for (const auto& r : doc["releases"]) parsed.push_back(parse_release(r, i++));
  for (auto& rel : parsed) {
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

const Release* Catalog::find_by_image_tag(const std::string& tag, const std::string& image_name) const {
  // Newest first: when two releases share a tag (v1.1.1 and v1.1.3 both run 1.1.1), the newer chart is the
  // likelier install. The image's name tells a variant apart (osm-edge-controller-ubi8).
  for (auto it = releases_.rbegin(); it != releases_.rend(); ++it) {
    if (it->image_tag != tag) continue;
    if (image_name.empty()) return &*it;
    for (const auto& [_, name] : it->image_names) {
      if (name == image_name) return &*it;
    }
  }
  return nullptr;
}

const Release* Catalog::find_by_app_version(const std::string& app_version) const {
  // The literal string first: the published chart 1.1.1 says "1.1.1", the osm CLI v1.1.3's embedded chart
  // "v1.1.1"; semver alone cannot tell the two apart. Then the published charts, then the CLI's, by semver.
  for (auto it = releases_.rbegin(); it != releases_.rend(); ++it) {
    if (it->app_version == app_version || (!it->cli_app_version.empty() && it->cli_app_version == app_version)) {
      return &*it;
    }
  }
  auto want = Semver::parse(app_version);
  if (!want) return nullptr;
  for (const bool cli : {false, true}) {
    for (auto it = releases_.rbegin(); it != releases_.rend(); ++it) {
      auto have = Semver::parse(cli ? it->cli_app_version : it->app_version);
      if (have && *want == *have) return &*it;
    }
  }
  return nullptr;
}

std::vector<std::string> Catalog::versions() const {
  std::vector<std::string> out;
  for (const auto& r : releases_) out.push_back(r.version.str());
  return out;
}

}  // namespace meshupgrade
