// The catalog in force: the compiled-in releases extended by ConfigMaps labelled
// upgrade.flomesh.io/release-catalog=true, rebuilt whenever one changes; readers take a snapshot.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "controllers/mesh_upgrade/catalog.h"

namespace meshupgrade {

inline constexpr std::string_view kCatalogLabel = "upgrade.flomesh.io/release-catalog";

class CatalogSource {
 public:
  CatalogSource();
  // The catalog for one reconcile: stays valid (and unchanged) while the caller holds it.
  std::shared_ptr<const Catalog> current() const;
  // Builtin, then each ConfigMap's data values ({"releases": [...]}, JSON) in namespace/name order; a value that
  // does not parse is left out whole and named in extension_problems(). Returns those problems ("" when none).
  std::string rebuild(const std::vector<std::shared_ptr<const nlohmann::json>>& config_maps);

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Catalog> current_;
};

}  // namespace meshupgrade
