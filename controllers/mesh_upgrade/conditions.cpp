// Condition bookkeeping and the kstatus summary conditions.
#include "controllers/mesh_upgrade/conditions.h"

#include <nlohmann/json.hpp>

namespace meshupgrade {

using nlohmann::json;

void set_condition(json& status, std::string_view type, std::string_view value, std::string_view reason,
                   std::string_view message, std::int64_t generation, const std::string& now) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) status["conditions"] = json::array();
  for (auto& c : status["conditions"]) {
    if (c.value("type", "") != type) continue;
    if (c.value("status", "") != value) c["lastTransitionTime"] = now;
    c["status"] = value;
    c["reason"] = reason;
    c["message"] = message;
    c["observedGeneration"] = generation;
    return;
  }
  status["conditions"].push_back({{"type", type},
                                  {"status", value},
                                  {"reason", reason},
                                  {"message", message},
                                  {"observedGeneration", generation},
                                  {"lastTransitionTime", now}});
}

void remove_condition(json& status, std::string_view type) {
  if (!status.contains("conditions") || !status["conditions"].is_array()) return;
  auto& list = status["conditions"];
  for (auto it = list.begin(); it != list.end(); ++it) {
    if (it->value("type", "") == type) {
      list.erase(it);
      return;
    }
  }
}

namespace {
const json* find(const json& status, std::string_view type) {
  if (!status.is_object() || !status.contains("conditions") || !status["conditions"].is_array()) return nullptr;
  for (const auto& c : status["conditions"]) {
    if (c.value("type", "") == type) return &c;
  }
  return nullptr;
}
}  // namespace

std::string condition_status(const json& status, std::string_view type) {
  const json* c = find(status, type);
  return c ? c->value("status", "") : "";
}

std::string condition_reason(const json& status, std::string_view type) {
  const json* c = find(status, type);
  return c ? c->value("reason", "") : "";
}

void summarize(json& status, Summary summary, std::string_view reason, std::string_view message,
               std::int64_t generation, const std::string& now) {
  switch (summary) {
    case Summary::InProgress:
      set_condition(status, "Ready", "Unknown", reason, message, generation, now);
      set_condition(status, "Reconciling", "True", reason, message, generation, now);
      remove_condition(status, "Stalled");
      break;
    case Summary::Suspended:
      set_condition(status, "Ready", "Unknown", "Suspended", message, generation, now);
      set_condition(status, "Reconciling", "False", "Suspended", message, generation, now);
      remove_condition(status, "Stalled");
      break;
    case Summary::Stalled:
    case Summary::Failed:
      set_condition(status, "Ready", "False", reason, message, generation, now);
      set_condition(status, "Stalled", "True", reason, message, generation, now);
      remove_condition(status, "Reconciling");
      break;
    case Summary::Succeeded:
      set_condition(status, "Ready", "True", reason, message, generation, now);
      remove_condition(status, "Reconciling");
      remove_condition(status, "Stalled");
      break;
  }
}

}  // namespace meshupgrade
