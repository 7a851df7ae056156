// Semantic versions of osm-edge releases ("v1.3.9", "1.3.9", "v1.4.0-rc.1"), compared as semver orders them.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace meshupgrade {

struct Semver {
  int major = 0, minor = 0, patch = 0;
  std::string pre;  // pre-release without its '-', "" for a release

  static std::optional<Semver> parse(std::string_view s);  // a leading 'v' is allowed
  std::string str() const;                                  // "v1.3.9"
  std::strong_ordering operator<=>(const Semver& o) const;
  bool operator==(const Semver& o) const { return (*this <=> o) == 0; }
};

// The guide's policy, as a path classification.
enum class UpgradePath { None, Patch, Minor, Major, Downgrade };
std::string_view to_string(UpgradePath p);
UpgradePath classify(const Semver& from, const Semver& to);

// Whether the guide says the path may carry breaking changes: 0.y→0.y+1 and x→x+1 may; patch releases and
// x.y→x.y+1 for x≥1 do not. Downgrades are judged separately (spec.policy.allowDowngrade).
bool may_break(const Semver& from, const Semver& to);

}  // namespace meshupgrade
