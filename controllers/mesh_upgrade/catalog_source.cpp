// Rebuilding the catalog from the compiled-in releases and the release-catalog ConfigMaps.
#include "controllers/mesh_upgrade/catalog_source.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace meshupgrade {

CatalogSource::CatalogSource() : current_(std::make_shared<const Catalog>(Catalog::builtin())) {}

std::shared_ptr<const Catalog> CatalogSource::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::string CatalogSource::rebuild(const std::vector<std::shared_ptr<const nlohmann::json>>& config_maps) {
  auto next = std::make_shared<Catalog>(Catalog::builtin());
  std::vector<std::pair<std::string, const nlohmann::json*>> ordered;
  for (const auto& cm : config_maps) {
    const auto& meta = (*cm)["metadata"];
    ordered.emplace_back(meta.value("namespace", "") + "/" + meta.value("name", ""), cm.get());
  }
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [name, cm] : ordered) {
    const nlohmann::json data = cm->value("data", nlohmann::json::object());  // items() must not outlive it
    for (const auto& [key, value] : data.items()) {
      try {
        if (!value.is_string()) throw std::invalid_argument("not a string");
        next->merge(nlohmann::json::parse(value.get<std::string>()));
      } catch (const std::exception& e) {  // parse_error and invalid_argument: the entry is named, the rest stands
        next->add_extension_problem("ConfigMap " + name + " key " + key + " was not taken: " + e.what());
      }
    }
  }
  std::string problems = next->extension_problems();
  std::lock_guard lock(mu_);
  current_ = std::move(next);
  return problems;
}

}  // namespace meshupgrade
