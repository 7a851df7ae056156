// Helm's record written as Helm writes it: Secrets, revisions, supersede, rollback, pruning, manifests.
#include <catch2/catch.hpp>

#include "controllers/mesh_upgrade/helm_history.h"
#include "controllers/mesh_upgrade/helm_release.h"

using namespace meshupgrade;
using nlohmann::json;

namespace {

json release_v(int version, const std::string& status) {
  return {{"name", "osm"},
          {"namespace", "osm-system"},
          {"version", version},
          {"info", {{"first_deployed", "2023-09-08T10:00:00Z"}, {"last_deployed", "2023-09-08T10:00:00Z"},
                    {"deleted", ""}, {"description", "Install complete"}, {"status", status}}},
          {"chart", {{"metadata", {{"name", "osm-edge"}, {"version", "1.3.8"}, {"appVersion", "1.3.8"}}}}},
          {"config", {{"osm", {{"meshName", "osm"}}}}},
          {"manifest", "---\n# Source: osm-edge/templates/osm-deployment.yaml\nspec:\n  template:\n    spec:\n"
                       "      containers:\n        - name: osm-controller\n          image: \"flomesh/osm-edge-controller:1.3.8\"\n"
                       "          args: [\n            \"--osm-version\", \"1.3.8\",\n            \"--enable-reconciler=false\",\n"
                       "          ]\n"}};
}

json list_of(std::initializer_list<json> secrets) { return {{"items", json(secrets)}}; }

}  // namespace

TEST_CASE("a release Secret decodes as Helm decodes it: base64 of base64 of gzip of the JSON") {
  const json s = release_secret(release_v(3, "deployed"), "osm-system", "", "createdAt", 1700000000);
  CHECK(s["metadata"]["name"] == "sh.helm.release.v1.osm.v3");
  CHECK(s["type"] == "helm.sh/release.v1");
  CHECK(s["metadata"]["labels"] == json{{"name", "osm"}, {"owner", "helm"}, {"status", "deployed"}, {"version", "3"},
                                         {"createdAt", "1700000000"}});
  // What Helm does: the API hands it the bytes (decode once), its driver decodes base64 again, then gunzips.
  const std::string helm_bytes = base64_decode(s["data"]["release"].get<std::string>());
  const std::string gz = base64_decode(helm_bytes);
  REQUIRE(gz.size() > 2);
  CHECK(static_cast<unsigned char>(gz[0]) == 0x1f);
  CHECK(json::parse(gunzip(gz)) == release_v(3, "deployed"));
  const auto rel = decode_helm_release(s);
  CHECK(rel.revision == 3);
  CHECK(rel.chart_version == "1.3.8");
}

TEST_CASE("base64 round-trips every length") {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x00\xff\x10"}) {
    CHECK(base64_decode(base64_encode(s)) == s);
  }
  CHECK(base64_encode("hello") == "aGVsbG8=");
}

TEST_CASE("the upgrade revision names the target chart, keeps first_deployed and the user's values") {
  HelmUpgrade u;
  u.chart_version = "1.3.9";
  u.app_version = "1.3.9";
  u.now = "2026-12-02T12:00:00Z";
  u.description = "Upgrade complete (meshupgrade-operator)";
  u.value_overrides = {{"osm", {{"image", {{"registry", "flomesh"}, {"tag", "1.3.9"}}}}}};
  u.image_rewrites = {{"flomesh/osm-edge-controller:1.3.8", "flomesh/osm-edge-controller:1.3.9"}};
  u.arg_rewrites = {{"--osm-version", "1.3.9"}};
  u.arg_old_values = {{"--osm-version", "1.3.8"}};
  const json r = upgraded_release(release_v(3, "deployed"), 4, u);
  CHECK(r["version"] == 4);
  CHECK(r["info"]["status"] == "deployed");
  CHECK(r["info"]["first_deployed"] == "2023-09-08T10:00:00Z");
  CHECK(r["info"]["last_deployed"] == "2026-12-02T12:00:00Z");
  CHECK(r["info"]["description"] == "Upgrade complete (meshupgrade-operator)");
  CHECK(r["chart"]["metadata"]["version"] == "1.3.9");
  CHECK(r["chart"]["metadata"]["appVersion"] == "1.3.9");
  CHECK(r["config"]["osm"]["meshName"] == "osm");
  CHECK(r["config"]["osm"]["image"]["tag"] == "1.3.9");
  const std::string m = r["manifest"];
  CHECK_THAT(m, Catch::Contains("flomesh/osm-edge-controller:1.3.9") && !Catch::Contains(":1.3.8"));
  CHECK_THAT(m, Catch::Contains("\"--osm-version\", \"1.3.9\""));
}

TEST_CASE("manifest rewrites reach every form a chart renders a flag in, and nothing else") {
  HelmUpgrade u;
  u.arg_rewrites = {{"--osm-version", "v1.3.9"}};
  u.arg_old_values = {{"--osm-version", "v1.3.8"}};
  CHECK(rewrite_manifest("args:\n- --osm-version\n- v1.3.8\n", u) == "args:\n- --osm-version\n- v1.3.9\n");
  CHECK(rewrite_manifest("- --osm-version=v1.3.8\n", u) == "- --osm-version=v1.3.9\n");
  CHECK(rewrite_manifest("app.kubernetes.io/version: v1.3.8\n", u) == "app.kubernetes.io/version: v1.3.8\n");
  CHECK(rewrite_manifest("- --osm-version\n- v1.3.80\n", u) == "- --osm-version\n- v1.3.80\n");
}

TEST_CASE("helm rollback: the target's chart, values and manifest at the next version") {
  const json current = with_status(release_v(4, "deployed"), "deployed");
  json target = release_v(3, "superseded");
  target["chart"]["metadata"]["version"] = "1.3.8";
  const json r = rolled_back_release(current, target, 5, "Rollback to 3", "2026-12-02T13:00:00Z");
  CHECK(r["version"] == 5);
  CHECK(r["info"]["status"] == "deployed");
  CHECK(r["info"]["description"] == "Rollback to 3");
  CHECK(r["chart"]["metadata"]["version"] == "1.3.8");
  CHECK(r["manifest"] == target["manifest"]);
}

TEST_CASE("history: ordered by version, undecodable Secrets skipped, the attempt marker read back") {
  json good = release_secret(release_v(2, "deployed"), "osm-system", "uid.1/upgrade@1", "createdAt", 1);
  good["metadata"]["resourceVersion"] = "42";
  const json older = release_secret(release_v(1, "superseded"), "osm-system", "", "createdAt", 1);
  json broken = older;
  broken["data"]["release"] = "!!!";
  const auto h = helm_history(list_of({good, broken, older}));
  REQUIRE(h.size() == 2);
  CHECK(h[0].version() == 1);
  CHECK(h[1].version() == 2);
  CHECK(h[1].status() == "deployed");
  CHECK(h[1].marker == "uid.1/upgrade@1");
  CHECK(h[1].resource_version == "42");
}

TEST_CASE("pruning keeps room for one more under Helm's limit of 10, and never the deployed revision") {
  std::vector<json> secrets;
  for (int v = 1; v <= 10; ++v) {
    secrets.push_back(release_secret(release_v(v, v == 1 ? "deployed" : "superseded"), "osm-system", "", "createdAt", 1));
  }
  json list = {{"items", secrets}};
  const auto prune = revisions_to_prune(helm_history(list));
  CHECK(prune == std::vector<std::string>{"sh.helm.release.v1.osm.v2"});  // v1 is deployed: kept
  list["items"].erase(list["items"].begin() + 9);
  CHECK(revisions_to_prune(helm_history(list)).empty());  // 9 + the next one = 10
}
