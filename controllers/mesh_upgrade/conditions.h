// Conditions as Kubernetes API conventions and kstatus want them, and the Ready/Reconciling/Stalled summary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace meshupgrade {

// Sets one condition in status.conditions; lastTransitionTime moves only when the status value changes.
void set_condition(nlohmann::json& status, std::string_view type, std::string_view value, std::string_view reason,
                   std::string_view message, std::int64_t generation, const std::string& now);
void remove_condition(nlohmann::json& status, std::string_view type);
// The condition's status ("True", "False", "Unknown"), "" when absent.
std::string condition_status(const nlohmann::json& status, std::string_view type);
std::string condition_reason(const nlohmann::json& status, std::string_view type);

// How the whole object reads to kstatus, Flux and Argo CD. Never Reconciling and Stalled together.
enum class Summary { InProgress, Suspended, Stalled, Succeeded, Failed };
void summarize(nlohmann::json& status, Summary summary, std::string_view reason, std::string_view message,
               std::int64_t generation, const std::string& now);

}  // namespace meshupgrade
