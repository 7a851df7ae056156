// Steps, phase and summary conditions in status.
#include "controllers/mesh_upgrade/status.h"

#include "controllers/mesh_upgrade/conditions.h"

namespace meshupgrade {
namespace {

std::string now_string(Context& ctx) { return kubert::rfc3339(ctx.clock.wall()); }

json* find_step(json& status, std::string_view name) {
  if (!status.contains("steps") || !status["steps"].is_array()) return nullptr;
  for (auto& s : status["steps"]) {
    if (s.value("name", "") == name) return &s;
  }
  return nullptr;
}

}  // namespace

void init_steps(View& v) {
  json steps = json::array();
  for (auto name : {kStepPrecheck, kStepCRDs, kStepControlPlane, kStepSidecars, kStepVerify}) {
    std::string state = "Pending";
    if (name == kStepCRDs && v.spec.crd_source == CrdSource::Skip) state = "Pending";  // still waits for Established
    steps.push_back({{"name", name}, {"state", state}});
  }
  v.status["steps"] = steps;
}

std::string running_step(const json& status) {
  if (!status.contains("steps") || !status["steps"].is_array()) return "";
  for (const auto& s : status["steps"]) {
    if (s.value("state", "") == "Running") return s.value("name", "");
  }
  return "";
}

void start_step(Context& ctx, View& v, std::string_view step, const std::string& message) {
  json* s = find_step(v.status, step);
  if (!s) {
    v.status["steps"].push_back({{"name", step}, {"state", "Pending"}});
    s = &v.status["steps"].back();
  }
  if (s->value("state", "") != "Running") {
    (*s)["state"] = "Running";
    (*s)["startedAt"] = now_string(ctx);
    s->erase("finishedAt");
    ctx.events.record(*v.object, "Normal", std::string(step) + "Started", message.empty() ? std::string(step) + " started" : message);
  }
  if (!message.empty()) (*s)["message"] = message;
  const auto cond = condition_of_step(step);
  if (!cond.empty()) set_condition(v.status, cond, "Unknown", "Progressing", message.empty() ? "in progress" : message, v.generation, now_string(ctx));
}

void finish_step(Context& ctx, View& v, std::string_view step, std::string_view state, const std::string& reason,
                 const std::string& message) {
  json* s = find_step(v.status, step);
  if (!s) {
    v.status["steps"].push_back({{"name", step}});
    s = &v.status["steps"].back();
  }
  if (s->value("state", "") == state) return;
  (*s)["state"] = state;
  (*s)["finishedAt"] = now_string(ctx);
  if (!s->contains("startedAt")) (*s)["startedAt"] = (*s)["finishedAt"];
  (*s)["message"] = message;
  const auto cond = condition_of_step(step);
  if (!cond.empty()) {
    set_condition(v.status, cond, state == "Failed" ? "False" : "True", reason, message, v.generation, now_string(ctx));
  }
  ctx.events.record(*v.object, state == "Failed" ? "Warning" : "Normal", state == "Failed" ? reason : std::string(step) + std::string(state), message);
}

void progressing(Context& ctx, View& v, Phase phase, const std::string& message) {
  v.status["phase"] = std::string(to_string(phase));
  v.status["message"] = message;
  summarize(v.status, Summary::InProgress, "Progressing", message, v.generation, now_string(ctx));
}

void stalled(Context& ctx, View& v, Phase phase, const Problem& problem) {
  v.status["phase"] = std::string(to_string(phase));
  v.status["message"] = problem.message;
  summarize(v.status, Summary::Stalled, problem.reason, problem.message, v.generation, now_string(ctx));
}

bool status_changed(const json& object, const json& status) {
  if (!object.contains("status")) return true;
  return object["status"] != status;
}

}  // namespace meshupgrade
