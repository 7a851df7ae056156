// observe(): reads the caches (and, while prechecking, a few things the caches do not hold) into the
// decision's facts and the actions' view. Reads only; never writes.
#pragma once

#include "controllers/mesh_upgrade/context.h"
#include "controllers/mesh_upgrade/decide.h"
#include "controllers/mesh_upgrade/view.h"

namespace meshupgrade {

struct Observation {
  Observed facts;
  View view;
};

Observation observe(Context& ctx, const ObjectPtr& object);

// Pieces of observe(), one per phase, in observe_mesh.cpp and observe_workloads.cpp.
void observe_precheck(Context& ctx, Observed& o, View& v);
void observe_crds(Context& ctx, Observed& o, View& v);
void observe_control_plane(Context& ctx, Observed& o, View& v);
void observe_workloads(Context& ctx, Observed& o, View& v);
void observe_verify(Context& ctx, Observed& o, View& v);
void observe_rollback(Context& ctx, Observed& o, View& v);

// Shared helpers.
std::string status_string(const json& status, std::initializer_list<const char*> path);
std::optional<std::chrono::system_clock::time_point> step_started(const json& status, std::string_view step);
// The registry the running osm-controller pulls from ("flomesh").
std::string running_registry(const View& v);
// Problems of control-plane pods in the guide's words: Insufficient cpu, FatalInvalidCLIParameters.
std::optional<Problem> control_plane_pod_problem(Context& ctx, const View& v, bool only_target_images);
// The image-pull check pod's name for a MeshUpgrade: always a valid pod name.
std::string pull_check_pod_name(const std::string& mesh_upgrade);

}  // namespace meshupgrade
