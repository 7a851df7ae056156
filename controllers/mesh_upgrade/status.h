// Status bookkeeping shared by the actions: steps, phase, summary conditions, history.
#pragma once

#include <string>
#include <string_view>

#include "controllers/mesh_upgrade/context.h"
#include "controllers/mesh_upgrade/decide.h"
#include "controllers/mesh_upgrade/phase.h"
#include "controllers/mesh_upgrade/view.h"

namespace meshupgrade {

// Fresh steps for a new attempt, all Pending (Skipped where the spec says so).
void init_steps(View& v);
// Marks a step Running (once: startedAt is kept) and moves the phase to it; an Event when it starts.
void start_step(Context& ctx, View& v, std::string_view step, const std::string& message = "");
// Marks a step Succeeded/Failed/Skipped with its condition; an Event.
void finish_step(Context& ctx, View& v, std::string_view step, std::string_view state, const std::string& reason,
                 const std::string& message);
// The step currently Running, "" when none.
std::string running_step(const json& status);

// Phase and kstatus summary while the upgrade moves.
void progressing(Context& ctx, View& v, Phase phase, const std::string& message);
// Stalled=True (Ready=False) with a reason; phase as given.
void stalled(Context& ctx, View& v, Phase phase, const Problem& problem);

// True when the new status differs from the object's current one (so a write is due).
bool status_changed(const json& object, const json& status);

}  // namespace meshupgrade
