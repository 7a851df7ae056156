// Spec parsing: defaults, and the validation the CRD schema cannot express.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/observe.h"
#include "controllers/mesh_upgrade/spec.h"
#include "operator/errors.h"

using namespace meshupgrade;
using nlohmann::json;

static json object(json spec) {
  return {{"metadata", {{"name", "up"}, {"namespace", "osm-system"}}}, {"spec", std::move(spec)}};
}

TEST_CASE("spec defaults follow the API documentation") {
  const auto s = parse_spec(object({{"targetVersion", "v1.3.9"}}));
  CHECK(s.mesh_name == "osm");
  CHECK(s.osm_namespace == "osm-system");
  CHECK(s.crd_source == CrdSource::Bootstrap);
  CHECK(s.control_plane_source == ControlPlaneSource::Images);
  CHECK(s.max_concurrent.resolve(100) == 10);
  CHECK(s.failure_threshold == 1);
  CHECK(s.rollback_on_failure);
  CHECK(s.precheck_image_pull);
  CHECK_FALSE(s.suspend);
  CHECK(s.control_plane_timeout == std::chrono::minutes(10));
  CHECK(s.per_workload_timeout == std::chrono::minutes(5));
}

TEST_CASE("maxConcurrent takes a number or a percentage") {
  auto s = parse_spec(object({{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", "25%"}}}}));
  CHECK(s.max_concurrent.resolve(50) == 13);
  CHECK(s.max_concurrent.resolve(1) == 1);
  s = parse_spec(object({{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", 3}}}}));
  CHECK(s.max_concurrent.resolve(50) == 3);
  s = parse_spec(object({{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", kMaxConcurrentLimit}}}}));
  CHECK(s.max_concurrent.resolve(50) == kMaxConcurrentLimit);
  s = parse_spec(object({{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", "100%"}}}}));
  CHECK(s.max_concurrent.resolve(7) == 7);
}

TEST_CASE("bad specs are terminal errors naming the field") {
  struct Row { json spec; const char* field; };
  const Row rows[] = {
      {json::object(), "spec.targetVersion"},
      {{{"targetVersion", "latest"}}, "spec.targetVersion"},
      {{{"targetVersion", "v1.3.9"}, {"imageTag", "1.3.9"}}, "spec.containerRegistry"},
      {{{"targetVersion", "v1.3.9"}, {"crds", {{"source", "ConfigMap"}}}}, "spec.crds.configMapRef.name"},
      {{{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", "ten"}}}}, "spec.sidecar.maxConcurrent"},
      {{{"targetVersion", "v1.3.9"}, {"sidecar", {{"failureThreshold", 0}}}}, "spec.sidecar.failureThreshold"},
      // Issue 17: out-of-range numbers threw from stoi, wrapped to 1, or read as "at least 1".
      {{{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", "99999999999%"}}}}, "spec.sidecar.maxConcurrent"},
      {{{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", "0%"}}}}, "spec.sidecar.maxConcurrent"},
      {{{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", "101%"}}}}, "spec.sidecar.maxConcurrent"},
      {{{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", 4294967297LL}}}}, "spec.sidecar.maxConcurrent"},
      {{{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", 2147483648LL}}}}, "spec.sidecar.maxConcurrent"},
      {{{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", 18446744073709551615ULL}}}}, "spec.sidecar.maxConcurrent"},
      {{{"targetVersion", "v1.3.9"}, {"sidecar", {{"failureThreshold", 4294967297LL}}}}, "spec.sidecar.failureThreshold"},
      {{{"targetVersion", "v1.3.9"}, {"timeouts", {{"perWorkload", "5 minutes"}}}}, "spec.timeouts.perWorkload"},
  };
  for (const auto& r : rows) {
    INFO(r.spec.dump());
    try {
      parse_spec(object(r.spec));
      FAIL("accepted");
    } catch (const kubert::TerminalError& e) {
      CHECK(e.reason() == "InvalidSpec");
      CHECK(std::string(e.what()).rfind(r.field, 0) == 0);
    }
  }
}

TEST_CASE("durations parse as Go writes them") {
  CHECK(parse_duration("90s") == std::chrono::seconds(90));
  CHECK(parse_duration("1h30m") == std::chrono::seconds(5400));
  CHECK_FALSE(parse_duration("10"));
  CHECK_FALSE(parse_duration("m"));
  CHECK_FALSE(parse_duration(""));
  // Issue 17: what the CRD's pattern admits, the operator takes; what overflowed is refused.
  CHECK(parse_duration("1.5m") == std::chrono::seconds(90));
  CHECK(parse_duration("90000ms") == std::chrono::seconds(90));
  CHECK(parse_duration("1500ms") == std::chrono::seconds(2));
  CHECK(parse_duration("720h") == std::chrono::hours(720));
  CHECK_FALSE(parse_duration("720h1s"));
  CHECK_FALSE(parse_duration("3000000h"));
  CHECK_FALSE(parse_duration("0s"));
  CHECK_FALSE(parse_duration("1.m"));
  CHECK_FALSE(parse_duration("1..5m"));
  CHECK_FALSE(parse_duration("5d"));
}

TEST_CASE("the target identity changes with what names the target, not with suspend") {
  auto a = parse_spec(object({{"targetVersion", "v1.3.9"}}));
  auto b = parse_spec(object({{"targetVersion", "v1.3.9"}, {"suspend", true}}));
  auto c = parse_spec(object({{"targetVersion", "v1.3.9"}, {"sidecar", {{"image", "flomesh/pipy:1"}}}}));
  CHECK(a.target_identity() == b.target_identity());
  CHECK(a.target_identity() != c.target_identity());
}

TEST_CASE("the image-pull check pod's name is a valid pod name whatever the MeshUpgrade is called") {
  // Issue 17: a '.' as the 40th character made "x.-image-pull-check" (422) and the precheck hung.
  const std::string dotted = std::string(39, 'a') + ".b";
  CHECK(pull_check_pod_name(dotted) == std::string(39, 'a') + "-image-pull-check");
  CHECK(pull_check_pod_name(std::string(39, 'a') + "-b") == std::string(39, 'a') + "-image-pull-check");
  CHECK(pull_check_pod_name("up") == "up-image-pull-check");
  for (const std::string& name : {dotted, std::string(253, 'x'), std::string("a.b.c")}) {
    const std::string pod = pull_check_pod_name(name);
    CHECK(pod.size() <= 63);
    CHECK(pod.find(".-") == std::string::npos);
    CHECK(pod.find("-.") == std::string::npos);
  }
}
