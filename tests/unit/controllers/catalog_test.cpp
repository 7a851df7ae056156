// The compiled-in release catalog (generated from the upstream fixtures), its lookups and its run-time extension.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/catalog.h"
#include "controllers/mesh_upgrade/catalog_source.h"

using namespace meshupgrade;

namespace {
const Release& release(const Catalog& c, const char* v) {
  const Release* r = c.find(*Semver::parse(v));
  REQUIRE(r);
  return *r;
}
}  // namespace

TEST_CASE("the catalog knows every osm-edge release and the ubi8 variants") {
  const auto c = Catalog::builtin();
  CHECK(c.size() == 21);  // v1.1.0-v1.1.3, v1.2.0-v1.2.3, v1.3.0-v1.3.9, and 1.2.1-1.2.3 -ubi8
  const Release& r = release(c, "v1.3.9");
  CHECK(r.sidecar_image == "flomesh/pipy:0.90.3-38");
  CHECK(r.crds.size() == 19);
  CHECK(r.crd_storage_versions.at("meshconfigs.config.openservicemesh.io") == "v1alpha2");
  CHECK_FALSE(r.crds_by_init_container);
  CHECK(release(c, "v1.1.0").crds_by_init_container);
  CHECK(release(c, "v1.2.2-ubi8").variant == "ubi8");
  CHECK(release(c, "v1.2.2-ubi8").image("controller", "quay.io/flomesh", "1.2.2") ==
        "quay.io/flomesh/osm-edge-controller-ubi8:1.2.2");
}

TEST_CASE("v1.1.3's images are tagged 1.1.1: the tag and the CLI chart's appVersion find the release") {
  const auto c = Catalog::builtin();
  const Release* r = c.find_by_image_tag("1.1.1");
  REQUIRE(r);
  CHECK(r->version.str() == "v1.1.3");
  CHECK(c.find_by_app_version("v1.1.1") == r);  // the osm CLI v1.1.3's embedded chart says v1.1.1
  // The published chart 1.1.1 says "1.1.1": that is v1.1.1, whose images are tagged 1.1.1 too (found by the path
  // matrix: a v1.1.1 mesh was read as v1.1.3).
  CHECK(c.find_by_app_version("1.1.1")->version.str() == "v1.1.1");
  CHECK(c.find_by_app_version("1.3.9")->version.str() == "v1.3.9");
  CHECK(c.find_by_app_version("v1.3.9")->version.str() == "v1.3.9");
  CHECK(c.find_by_image_tag("9.9.9") == nullptr);
  CHECK(c.find_by_image_tag("1.2.1", "osm-edge-controller-ubi8")->version.str() == "v1.2.1-ubi8");
  CHECK(c.find_by_image_tag("1.2.1", "osm-edge-controller")->version.str() == "v1.2.1");
}

TEST_CASE("add-on Deployments are named as each release's chart names them") {
  const auto c = Catalog::builtin();
  REQUIRE(release(c, "v1.1.3").addon("jaeger"));
  CHECK(release(c, "v1.1.3").addon("jaeger")->deployment == "jaeger");
  CHECK(release(c, "v1.3.9").addon("jaeger")->deployment == "osm-jaeger");
  CHECK(release(c, "v1.3.9").addon("prometheus")->deployment == "osm-prometheus");
}

TEST_CASE("the Images source cannot bridge 1.1 to 1.2: the control plane's flags change") {
  const auto c = Catalog::builtin();
  auto gap = images_source_gap(release(c, "v1.1.3"), release(c, "v1.2.0"));
  REQUIRE(gap);
  CHECK_THAT(*gap, Catch::Contains("--trust-domain"));
  CHECK_FALSE(images_source_gap(release(c, "v1.3.8"), release(c, "v1.3.9")));
  CHECK_FALSE(images_source_gap(release(c, "v1.2.1"), release(c, "v1.2.3")));
}

TEST_CASE("MeshConfig defaults that change between releases are listed, equal ones are not") {
  const auto c = Catalog::builtin();
  CHECK(mesh_config_default_changes(release(c, "v1.3.8"), release(c, "v1.3.8")).empty());
  const Release& a = release(c, "v1.2.3");
  const Release& b = release(c, "v1.3.9");
  const auto changes = mesh_config_default_changes(a, b);
  REQUIRE_FALSE(changes.empty());
  for (const auto& ch : changes) {
    INFO(ch.field);
    CHECK(ch.field.rfind("spec.", 0) == 0);
    CHECK(ch.from != ch.to);
  }
}

TEST_CASE("the catalog is extended at run time, and bad entries are named") {
  auto c = Catalog::builtin();
  c.merge(nlohmann::json::parse(R"({"releases":[{"version":"v1.4.0","sidecarImage":"flomesh/pipy:1.0.0"}]})"));
  const Release* r = c.find(*Semver::parse("v1.4.0"));
  REQUIRE(r);
  CHECK(r->image_tag == "1.4.0");
  CHECK(r->image("controller", "flomesh", "1.4.0") == "flomesh/osm-edge-controller:1.4.0");
  CHECK_THROWS_WITH(c.merge(nlohmann::json::parse(R"({"releases":[{"version":"v2"}]})")),
                    Catch::Contains("release #0") && Catch::Contains("version"));
  CHECK_THROWS_WITH(c.merge(nlohmann::json::parse(R"({"releases":[{"version":"v2.0.0"}]})")),
                    Catch::Contains("v2.0.0") && Catch::Contains("sidecarImage"));
  // A document with one bad entry changes nothing.
  CHECK_THROWS(c.merge(nlohmann::json::parse(
      R"({"releases":[{"version":"v1.5.0","sidecarImage":"a:b"},{"version":"v1.6.0"}]})")));
  CHECK(c.find(*Semver::parse("v1.5.0")) == nullptr);
}

TEST_CASE("release-catalog ConfigMaps extend the builtin catalog; a bad one is named and left out") {
  CatalogSource source;
  const auto before = source.current();
  auto cm = [](const char* name, const char* value) {
    return std::make_shared<const nlohmann::json>(nlohmann::json{
        {"metadata", {{"namespace", "meshupgrade-system"}, {"name", name}}}, {"data", {{"releases.json", value}}}});
  };
  const std::string problems = source.rebuild(
      {cm("fork", R"({"releases":[{"version":"v1.4.0","sidecarImage":"example.com/pipy:1.0.0"}]})"),
       cm("broken", "{not json")});
  CHECK_THAT(problems, Catch::Contains("meshupgrade-system/broken") && Catch::Contains("releases.json"));
  const auto now = source.current();
  CHECK(now->find(*Semver::parse("v1.4.0")));
  CHECK(now->size() == before->size() + 1);
  CHECK(before->find(*Semver::parse("v1.4.0")) == nullptr);  // a snapshot held by a reconcile does not move
  source.rebuild({});
  CHECK(source.current()->find(*Semver::parse("v1.4.0")) == nullptr);  // the ConfigMap is gone: so is the release
}
