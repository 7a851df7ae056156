// Phases and steps of an upgrade, and the names users read in status.
#pragma once

#include <optional>
#include <string_view>

namespace meshupgrade {

enum class Phase {
  Pending, Prechecking, UpdatingCRDs, UpgradingControlPlane, RollingSidecars, Verifying,
  Succeeded, Failed, RollingBack, RolledBack, Suspended
};

std::string_view to_string(Phase p);
std::optional<Phase> parse_phase(std::string_view s);
bool is_terminal(Phase p);   // Succeeded, Failed, RolledBack
bool is_in_flight(Phase p);  // between Pending and a terminal phase, Suspended included

// The steps recorded in status.steps, in order.
inline constexpr std::string_view kStepPrecheck = "Precheck";
inline constexpr std::string_view kStepCRDs = "UpdateCRDs";
inline constexpr std::string_view kStepControlPlane = "UpgradeControlPlane";
inline constexpr std::string_view kStepSidecars = "RollSidecars";
inline constexpr std::string_view kStepVerify = "Verify";
inline constexpr std::string_view kStepRollback = "Rollback";

// The phase in which a step runs, and its condition type.
Phase phase_of_step(std::string_view step);
std::string_view condition_of_step(std::string_view step);

}  // namespace meshupgrade
