// Image references and the rewrite of a control-plane Deployment's image-bearing fields.
#include "controllers/mesh_upgrade/images.h"

#include <nlohmann/json.hpp>

namespace meshupgrade {

using nlohmann::json;

ImageRef ImageRef::parse(const std::string& image) {
  ImageRef r;
  std::string rest = image;
  if (auto at = rest.find('@'); at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  const auto slash = rest.rfind('/');
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  if (slash != std::string::npos) {
    r.registry = rest.substr(0, slash);
    r.name = rest.substr(slash + 1);
  } else {
    r.name = rest;
  }
  return r;
}

std::string ImageRef::str() const {
  std::string s = registry.empty() ? name : registry + "/" + name;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

namespace {

bool looks_like_osm_image(const std::string& value) {
  if (value.find(' ') != std::string::npos || value.empty()) return false;
  return ImageRef::parse(value).is_osm_edge();
}

std::string move_image(const std::string& image, const ImageTarget& t) {
  if (!t.from_repo_image.empty() && image == t.from_repo_image && !t.to_repo_image.empty()) return t.to_repo_image;
  ImageRef ref = ImageRef::parse(image);
  if (!ref.is_osm_edge()) return image;
  ref.registry = t.registry;
  ref.tag = t.tag;
  ref.digest.clear();  // a digest pins the old image; the target is named by tag
  return ref.str();
}

// "--flag=value" or a bare value: rewrites osm-edge images inside; "--osm-version" values follow the target.
std::vector<std::string> move_args(const std::vector<std::string>& args, const ImageTarget& t) {
  std::vector<std::string> out;
  out.reserve(args.size());
  bool next_is_version = false;
  for (const auto& a : args) {
    if (next_is_version) {
      out.push_back(t.app_version.empty() ? a : t.app_version);
      next_is_version = false;
      continue;
    }
    if (a == "--osm-version") {
      next_is_version = true;
      out.push_back(a);
      continue;
    }
    if (a.rfind("--osm-version=", 0) == 0 && !t.app_version.empty()) {
      out.push_back("--osm-version=" + t.app_version);
      continue;
    }
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      const auto value = a.substr(eq + 1);
      out.push_back(looks_like_osm_image(value) ? a.substr(0, eq + 1) + move_image(value, t) : a);
      continue;
    }
    out.push_back(looks_like_osm_image(a) ? move_image(a, t) : a);
  }
  return out;
}

void snapshot_list(const json& list, bool init, WorkloadImages& out) {
  if (!list.is_array()) return;
  for (const auto& c : list) {
    ContainerImages ci;
    ci.name = c.value("name", "");
    ci.init = init;
    ci.image = c.value("image", "");
    if (c.contains("args") && c["args"].is_array()) {
      for (const auto& a : c["args"]) {
        if (a.is_string()) ci.args.push_back(a.get<std::string>());
      }
    }
    if (c.contains("env") && c["env"].is_array()) {
      for (const auto& e : c["env"]) {
        if (e.contains("value") && e["value"].is_string() && looks_like_osm_image(e["value"].get<std::string>())) {
          ci.env[e.value("name", "")] = e["value"].get<std::string>();
        }
      }
    }
    out.containers.push_back(std::move(ci));
  }
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s;
}

}  // namespace

WorkloadImages snapshot(const json& deployment) {
  WorkloadImages out;
  const json* spec = nullptr;
  if (deployment.contains("spec") && deployment["spec"].contains("template") &&
      deployment["spec"]["template"].contains("spec")) {
    spec = &deployment["spec"]["template"]["spec"];
  }
  if (!spec) return out;
  if (spec->contains("initContainers")) snapshot_list((*spec)["initContainers"], true, out);
  if (spec->contains("containers")) snapshot_list((*spec)["containers"], false, out);
  return out;
}

WorkloadImages rewrite(const WorkloadImages& current, const ImageTarget& target) {
  WorkloadImages out = current;
  for (auto& c : out.containers) {
    c.image = move_image(c.image, target);
    c.args = move_args(c.args, target);
    for (auto& [name, value] : c.env) value = move_image(value, target);
  }
  return out;
}

std::vector<Change> diff(const std::string& object, const WorkloadImages& from, const WorkloadImages& to) {
  std::vector<Change> out;
  for (std::size_t i = 0; i < from.containers.size() && i < to.containers.size(); ++i) {
    const auto& a = from.containers[i];
    const auto& b = to.containers[i];
    const std::string base =
        std::string("spec.template.spec.") + (a.init ? "initContainers[" : "containers[") + a.name + "]";
    if (a.image != b.image) out.push_back({object, base + ".image", a.image, b.image});
    if (a.args != b.args) out.push_back({object, base + ".args", join(a.args), join(b.args)});
    for (const auto& [name, value] : a.env) {
      auto it = b.env.find(name);
      if (it != b.env.end() && it->second != value) out.push_back({object, base + ".env[" + name + "]", value, it->second});
    }
  }
  return out;
}

json template_patch(const WorkloadImages& current, const WorkloadImages& desired) {
  json containers = json::array(), init = json::array();
  for (const auto& want : desired.containers) {
    const ContainerImages* have = nullptr;
    for (const auto& c : current.containers) {
      if (c.name == want.name && c.init == want.init) have = &c;
    }
    if (have && *have == want) continue;
    json c = {{"name", want.name}, {"image", want.image}};
    if (!have || have->args != want.args) c["args"] = want.args;
    for (const auto& [name, value] : want.env) {
      if (!have || have->env.count(name) == 0 || have->env.at(name) != value) {
        c["env"].push_back({{"name", name}, {"value", value}});
      }
    }
    (want.init ? init : containers).push_back(std::move(c));
  }
  if (containers.empty() && init.empty()) return nullptr;
  json spec = json::object();
  if (!containers.empty()) spec["containers"] = containers;
  if (!init.empty()) spec["initContainers"] = init;
  return {{"spec", {{"template", {{"spec", spec}}}}}};
}

json to_json(const WorkloadImages& w) {
  json out = json::array();
  for (const auto& c : w.containers) {
    json j = {{"name", c.name}, {"image", c.image}};
    if (c.init) j["init"] = true;
    if (!c.args.empty()) j["args"] = c.args;
    if (!c.env.empty()) j["env"] = c.env;
    out.push_back(std::move(j));
  }
  return out;
}

WorkloadImages workload_images_from_json(const json& j) {
  WorkloadImages w;
  if (!j.is_array()) return w;
  for (const auto& c : j) {
    ContainerImages ci;
    ci.name = c.value("name", "");
    ci.image = c.value("image", "");
    ci.init = c.value("init", false);
    if (c.contains("args")) ci.args = c["args"].get<std::vector<std::string>>();
    if (c.contains("env")) ci.env = c["env"].get<std::map<std::string, std::string>>();
    w.containers.push_back(std::move(ci));
  }
  return w;
}

std::string container_image(const json& pod_spec, const std::string& container, bool init) {
  const char* key = init ? "initContainers" : "containers";
  if (!pod_spec.is_object() || !pod_spec.contains(key) || !pod_spec[key].is_array()) return "";
  for (const auto& c : pod_spec[key]) {
    if (c.value("name", "") == container) return c.value("image", "");
  }
  return "";
}

}  // namespace meshupgrade
