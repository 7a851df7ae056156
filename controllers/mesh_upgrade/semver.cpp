// Semver parsing, ordering and the guide's upgrade-path policy.
#include "controllers/mesh_upgrade/semver.h"

#include <charconv>
#include <vector>

namespace meshupgrade {
namespace {

bool parse_number(std::string_view s, int& out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc{} && p == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

bool numeric(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

std::optional<Semver> Semver::parse(std::string_view s) {
  if (!s.empty() && s[0] == 'v') s.remove_prefix(1);
  if (auto plus = s.find('+'); plus != std::string_view::npos) s = s.substr(0, plus);  // build metadata
  Semver v;
  if (auto dash = s.find('-'); dash != std::string_view::npos) {
    v.pre = std::string(s.substr(dash + 1));
    s = s.substr(0, dash);
    if (v.pre.empty()) return std::nullopt;
    for (auto part : split(v.pre, '.')) {
      if (part.empty() || part.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-") !=
                              std::string_view::npos) {
        return std::nullopt;
      }
    }
  }
  auto parts = split(s, '.');
  if (parts.size() != 3) return std::nullopt;
  if (!parse_number(parts[0], v.major) || !parse_number(parts[1], v.minor) || !parse_number(parts[2], v.patch)) {
    return std::nullopt;
  }
  return v;
}

std::string Semver::str() const {
  std::string s = "v" + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  return pre.empty() ? s : s + "-" + pre;
}

std::strong_ordering Semver::operator<=>(const Semver& o) const {
  if (auto c = major <=> o.major; c != 0) return c;
  if (auto c = minor <=> o.minor; c != 0) return c;
  if (auto c = patch <=> o.patch; c != 0) return c;
  if (pre.empty() || o.pre.empty()) return pre.empty() <=> o.pre.empty();  // a release sorts after its pre-releases
  auto a = split(pre, '.'), b = split(o.pre, '.');
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const bool an = numeric(a[i]), bn = numeric(b[i]);
    if (an && bn) {
      int x = 0, y = 0;
      std::from_chars(a[i].data(), a[i].data() + a[i].size(), x);
      std::from_chars(b[i].data(), b[i].data() + b[i].size(), y);
      if (auto c = x <=> y; c != 0) return c;
    } else if (an != bn) {
      return an ? std::strong_ordering::less : std::strong_ordering::greater;  // numbers sort first
    } else if (auto c = a[i].compare(b[i]) <=> 0; c != 0) {
      return c;
    }
  }
  return a.size() <=> b.size();
}

std::string_view to_string(UpgradePath p) {
  switch (p) {
    case UpgradePath::None: return "None";
    case UpgradePath::Patch: return "Patch";
    case UpgradePath::Minor: return "Minor";
    case UpgradePath::Major: return "Major";
    case UpgradePath::Downgrade: return "Downgrade";
  }
  return "None";
}

UpgradePath classify(const Semver& from, const Semver& to) {
  const auto c = to <=> from;
  if (c == 0) return UpgradePath::None;
  if (c < 0) return UpgradePath::Downgrade;
  if (to.major != from.major) return UpgradePath::Major;
  if (to.minor != from.minor) return UpgradePath::Minor;
  return UpgradePath::Patch;
}

bool may_break(const Semver& from, const Semver& to) {
  switch (classify(from, to)) {
    case UpgradePath::None:
    case UpgradePath::Patch: return false;
    case UpgradePath::Major: return true;
    case UpgradePath::Downgrade: return true;
    case UpgradePath::Minor:
      // 0.y → 0.y+1 may break; for x ≥ 1 no minor release breaks, so x.y → x.y+n has none between.
      return from.major == 0;
  }
  return true;
}

}  // namespace meshupgrade
