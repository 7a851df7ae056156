// Image rewriting of control-plane Deployments, and the patches that do it.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/images.h"

using namespace meshupgrade;
using nlohmann::json;

static json controller_deployment() {
  return {{"spec",
           {{"template",
             {{"spec",
               {{"initContainers", {{{"name", "init-osm-controller"}, {"image", "curlimages/curl"}}}},
                {"containers",
                 {{{"name", "osm-pipy-repo"}, {"image", "flomesh/pipy-repo:0.90.2-14"}},
                  {{"name", "osm-controller"},
                   {"image", "flomesh/osm-edge-controller:1.3.8"},
                   {"args", {"--verbosity", "info", "--osm-version", "v1.3.8", "--init-image=flomesh/osm-edge-sidecar-init:1.3.8"}},
                   {"env", {{{"name", "OSM_DEFAULT_INIT_CONTAINER_IMAGE"}, {"value", "flomesh/osm-edge-sidecar-init:1.3.8"}},
                            {{"name", "OSM_DEFAULT_SIDECAR_CLASS"}, {"value", "pipy"}}}}}}}}}}}}}};
}

static ImageTarget target() { return {"flomesh", "1.3.9", "v1.3.9", "flomesh/pipy-repo:0.90.2-14", "flomesh/pipy-repo:0.90.3-38"}; }

TEST_CASE("image references parse and print back") {
  for (const char* s : {"flomesh/osm-edge-controller:1.3.9", "my.reg:5000/team/osm-edge-injector:1.3.9",
                        "curlimages/curl", "busybox", "flomesh/pipy@sha256:abc"}) {
    INFO(s);
    CHECK(ImageRef::parse(s).str() == s);
  }
  auto r = ImageRef::parse("my.reg:5000/team/osm-edge-injector:1.3.9");
  CHECK(r.registry == "my.reg:5000/team");
  CHECK(r.name == "osm-edge-injector");
  CHECK(r.tag == "1.3.9");
  CHECK(r.is_osm_edge());
  CHECK_FALSE(ImageRef::parse("curlimages/curl").is_osm_edge());
}

TEST_CASE("rewrite moves osm-edge images, the repo image, --osm-version and image-naming args and env, nothing else") {
  const auto now = snapshot(controller_deployment());
  const auto want = rewrite(now, target());
  REQUIRE(want.containers.size() == 3);
  CHECK(want.containers[0].image == "curlimages/curl");
  CHECK(want.containers[1].image == "flomesh/pipy-repo:0.90.3-38");
  const auto& c = want.containers[2];
  CHECK(c.image == "flomesh/osm-edge-controller:1.3.9");
  CHECK(c.args == std::vector<std::string>{"--verbosity", "info", "--osm-version", "v1.3.9",
                                           "--init-image=flomesh/osm-edge-sidecar-init:1.3.9"});
  CHECK(c.env.at("OSM_DEFAULT_INIT_CONTAINER_IMAGE") == "flomesh/osm-edge-sidecar-init:1.3.9");
  CHECK(c.env.count("OSM_DEFAULT_SIDECAR_CLASS") == 0);
  CHECK(rewrite(want, target()) == want);  // idempotent
}

TEST_CASE("a registry change moves every osm-edge image to the new registry") {
  auto t = target();
  t.registry = "registry.example.com/mirror";
  const auto want = rewrite(snapshot(controller_deployment()), t);
  CHECK(want.containers[2].image == "registry.example.com/mirror/osm-edge-controller:1.3.9");
}

TEST_CASE("the template patch names only what changes and is null when nothing does") {
  const auto now = snapshot(controller_deployment());
  const auto want = rewrite(now, target());
  const json patch = template_patch(now, want);
  const auto& containers = patch["spec"]["template"]["spec"]["containers"];
  REQUIRE(containers.size() == 2);
  CHECK(containers[0]["name"] == "osm-pipy-repo");
  CHECK_FALSE(containers[0].contains("args"));
  CHECK(containers[1]["args"][3] == "v1.3.9");
  CHECK(containers[1]["env"].size() == 1);
  CHECK_FALSE(patch["spec"]["template"]["spec"].contains("initContainers"));
  CHECK(template_patch(want, want).is_null());
  // And back again, for rollback.
  CHECK(template_patch(want, now)["spec"]["template"]["spec"]["containers"][1]["image"] == "flomesh/osm-edge-controller:1.3.8");
}

TEST_CASE("snapshots survive a trip through status") {
  const auto now = snapshot(controller_deployment());
  CHECK(workload_images_from_json(to_json(now)) == now);
}

TEST_CASE("diff lists each changed field old to new") {
  const auto now = snapshot(controller_deployment());
  const auto changes = diff("Deployment osm-system/osm-controller", now, rewrite(now, target()));
  REQUIRE(changes.size() == 4);
  CHECK(changes[1].field == "spec.template.spec.containers[osm-controller].image");
  CHECK(changes[1].from == "flomesh/osm-edge-controller:1.3.8");
  CHECK(changes[1].to == "flomesh/osm-edge-controller:1.3.9");
}
