// Versions and the guide's upgrade-path policy.
#include <catch2/catch.hpp>

#include "controllers/mesh_upgrade/semver.h"

using namespace meshupgrade;

static Semver v(const char* s) {
  auto p = Semver::parse(s);
  REQUIRE(p);
  return *p;
}

TEST_CASE("semver parses releases with or without a leading v") {
  CHECK(v("v1.3.9").str() == "v1.3.9");
  CHECK(v("1.3.9") == v("v1.3.9"));
  CHECK(v("v1.4.0-rc.1").pre == "rc.1");
  for (const char* bad : {"", "v1", "1.2", "1.2.3.4", "01.2.3", "v1.2.x", "1.2.3-", "latest"}) {
    INFO(bad);
    CHECK_FALSE(Semver::parse(bad));
  }
}

TEST_CASE("semver orders as semver.org says") {
  CHECK(v("v1.2.3") < v("v1.3.0"));
  CHECK(v("v1.10.0") > v("v1.9.9"));
  CHECK(v("v1.4.0-rc.1") < v("v1.4.0"));
  CHECK(v("v1.4.0-alpha") < v("v1.4.0-beta"));
  CHECK(v("v1.4.0-rc.2") < v("v1.4.0-rc.10"));
  CHECK(v("v1.4.0-1") < v("v1.4.0-alpha"));
}

TEST_CASE("the guide's policy classifies upgrade paths") {
  struct Row { const char* from; const char* to; UpgradePath path; bool breaks; };
  const Row rows[] = {
      {"v1.3.8", "v1.3.9", UpgradePath::Patch, false},
      {"v1.2.3", "v1.3.0", UpgradePath::Minor, false},
      {"v1.1.3", "v1.3.9", UpgradePath::Minor, false},
      {"v0.9.1", "v0.9.2", UpgradePath::Patch, false},
      {"v0.9.1", "v0.10.0", UpgradePath::Minor, true},
      {"v1.3.9", "v2.0.0", UpgradePath::Major, true},
      {"v1.3.9", "v1.3.8", UpgradePath::Downgrade, true},
      {"v1.3.9", "v1.3.9", UpgradePath::None, false},
  };
  for (const auto& r : rows) {
    INFO(r.from << " -> " << r.to);
    CHECK(classify(v(r.from), v(r.to)) == r.path);
    CHECK(may_break(v(r.from), v(r.to)) == r.breaks);
  }
}
