// The compiled-in release catalog, its lookups and its run-time extension.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/catalog.h"

using namespace meshupgrade;

TEST_CASE("the catalog knows the four fixture releases") {
  const auto c = Catalog::builtin();
  CHECK(c.versions() == std::vector<std::string>{"v1.1.3", "v1.2.3", "v1.3.8", "v1.3.9"});
  const Release* r = c.find(*Semver::parse("v1.3.9"));
  REQUIRE(r);
  CHECK(r->sidecar_image == "flomesh/pipy:0.90.3-38");
  CHECK(r->crds.size() == 19);
  CHECK_FALSE(r->crds_by_init_container);
  CHECK(c.find(*Semver::parse("v1.1.3"))->crds_by_init_container);
}

TEST_CASE("v1.1.3's images are tagged 1.1.1: the tag finds the release") {
  const auto c = Catalog::builtin();
  const Release* r = c.find_by_image_tag("1.1.1");
  REQUIRE(r);
  CHECK(r->version.str() == "v1.1.3");
  CHECK(c.find_by_app_version("v1.1.1") == r);
  CHECK(c.find_by_image_tag("9.9.9") == nullptr);
}

TEST_CASE("the catalog is extended at run time, and bad entries are named") {
  auto c = Catalog::builtin();
  c.merge(nlohmann::json::parse(R"({"releases":[{"version":"v1.4.0","sidecarImage":"flomesh/pipy:1.0.0"}]})"));
  const Release* r = c.find(*Semver::parse("v1.4.0"));
  REQUIRE(r);
  CHECK(r->image_tag == "1.4.0");
  CHECK_THROWS_WITH(c.merge(nlohmann::json::parse(R"({"releases":[{"version":"v2"}]})")),
                    Catch::Contains("release #0") && Catch::Contains("version"));
  CHECK_THROWS_WITH(c.merge(nlohmann::json::parse(R"({"releases":[{"version":"v2.0.0"}]})")),
                    Catch::Contains("v2.0.0") && Catch::Contains("sidecarImage"));
}
