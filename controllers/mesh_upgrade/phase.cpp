// Phase names, and the mapping of steps to phases and condition types.
#include "controllers/mesh_upgrade/phase.h"

#include <array>
#include <utility>

namespace meshupgrade {
namespace {

constexpr std::array<std::pair<Phase, std::string_view>, 11> kNames{{
    {Phase::Pending, "Pending"},
    {Phase::Prechecking, "Prechecking"},
    {Phase::UpdatingCRDs, "UpdatingCRDs"},
    {Phase::UpgradingControlPlane, "UpgradingControlPlane"},
    {Phase::RollingSidecars, "RollingSidecars"},
    {Phase::Verifying, "Verifying"},
    {Phase::Succeeded, "Succeeded"},
    {Phase::Failed, "Failed"},
    {Phase::RollingBack, "RollingBack"},
    {Phase::RolledBack, "RolledBack"},
    {Phase::Suspended, "Suspended"},
}};

}  // namespace

std::string_view to_string(Phase p) {
  for (const auto& [phase, name] : kNames) {
    if (phase == p) return name;
  }
  return "Pending";
}

std::optional<Phase> parse_phase(std::string_view s) {
  for (const auto& [phase, name] : kNames) {
    if (name == s) return phase;
  }
  return std::nullopt;
}

bool is_terminal(Phase p) { return p == Phase::Succeeded || p == Phase::Failed || p == Phase::RolledBack; }

bool is_in_flight(Phase p) { return p != Phase::Pending && !is_terminal(p); }

Phase phase_of_step(std::string_view step) {
  if (step == kStepPrecheck) return Phase::Prechecking;
  if (step == kStepCRDs) return Phase::UpdatingCRDs;
  if (step == kStepControlPlane) return Phase::UpgradingControlPlane;
  if (step == kStepSidecars) return Phase::RollingSidecars;
  if (step == kStepVerify) return Phase::Verifying;
  if (step == kStepRollback) return Phase::RollingBack;
  return Phase::Pending;
}

std::string_view condition_of_step(std::string_view step) {
  if (step == kStepPrecheck) return "PrecheckPassed";
  if (step == kStepCRDs) return "CRDsUpdated";
  if (step == kStepControlPlane) return "ControlPlaneUpgraded";
  if (step == kStepSidecars) return "SidecarsUpgraded";
  if (step == kStepVerify) return "Verified";
  return "";
}

}  // namespace meshupgrade
