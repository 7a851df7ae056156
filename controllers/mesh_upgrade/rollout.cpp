// Rollout judgement for Deployments, StatefulSets and DaemonSets, and pod failure detection.
#include "controllers/mesh_upgrade/rollout.h"

#include <nlohmann/json.hpp>

namespace meshupgrade {

using nlohmann::json;

namespace {

long num(const json& j, const char* key, long def = 0) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return def;
  return j[key].get<long>();
}

const json& field(const json& j, const char* key) {
  static const json empty = json::object();
  return j.is_object() && j.contains(key) && j[key].is_object() ? j[key] : empty;
}

RolloutStatus deployment(const json& d) {
  const json& spec = field(d, "spec");
  const json& status = field(d, "status");
  const long generation = num(field(d, "metadata"), "generation");
  if (num(status, "observedGeneration") < generation) return {Rollout::Progressing, "waiting for the rollout to be observed"};
  if (status.contains("conditions") && status["conditions"].is_array()) {
    for (const auto& c : status["conditions"]) {
      if (c.value("type", "") == "Progressing" && c.value("reason", "") == "ProgressDeadlineExceeded") {
        return {Rollout::Failed, "ProgressDeadlineExceeded: " + c.value("message", std::string("rollout exceeded its progress deadline"))};
      }
    }
  }
  const long want = num(spec, "replicas", 1);
  const long updated = num(status, "updatedReplicas");
  const long replicas = num(status, "replicas");
  const long available = num(status, "availableReplicas");
  if (updated < want) {
    return {Rollout::Progressing, std::to_string(updated) + " of " + std::to_string(want) + " new replicas updated"};
  }
  if (replicas > updated) {
    return {Rollout::Progressing, std::to_string(replicas - updated) + " old replicas pending termination"};
  }
  if (available < updated) {
    return {Rollout::Progressing, std::to_string(available) + " of " + std::to_string(updated) + " updated replicas available"};
  }
  return {Rollout::Complete, ""};
}

RolloutStatus statefulset(const json& s) {
  const json& spec = field(s, "spec");
  const json& status = field(s, "status");
  if (num(status, "observedGeneration") < num(field(s, "metadata"), "generation")) {
    return {Rollout::Progressing, "waiting for the rollout to be observed"};
  }
  const long want = num(spec, "replicas", 1);
  if (field(spec, "updateStrategy").value("type", "RollingUpdate") == "OnDelete") {
    return {Rollout::Complete, ""};  // kubectl cannot judge OnDelete either; verify looks at the pods
  }
  if (num(status, "readyReplicas") < want) {
    return {Rollout::Progressing, std::to_string(num(status, "readyReplicas")) + " of " + std::to_string(want) + " pods ready"};
  }
  if (num(status, "updatedReplicas") < want ||
      status.value("updateRevision", "") != status.value("currentRevision", status.value("updateRevision", ""))) {
    return {Rollout::Progressing, std::to_string(num(status, "updatedReplicas")) + " of " + std::to_string(want) + " pods updated"};
  }
  return {Rollout::Complete, ""};
}

RolloutStatus daemonset(const json& d) {
  const json& status = field(d, "status");
  if (num(status, "observedGeneration") < num(field(d, "metadata"), "generation")) {
    return {Rollout::Progressing, "waiting for the rollout to be observed"};
  }
  const long desired = num(status, "desiredNumberScheduled");
  if (num(status, "updatedNumberScheduled") < desired) {
    return {Rollout::Progressing, std::to_string(num(status, "updatedNumberScheduled")) + " of " + std::to_string(desired) + " pods updated"};
  }
  if (num(status, "numberAvailable") < desired) {
    return {Rollout::Progressing, std::to_string(num(status, "numberAvailable")) + " of " + std::to_string(desired) + " pods available"};
  }
  return {Rollout::Complete, ""};
}

}  // namespace

RolloutStatus rollout_status(const std::string& kind, const json& object) {
  if (kind == "Deployment") return deployment(object);
  if (kind == "StatefulSet") return statefulset(object);
  if (kind == "DaemonSet") return daemonset(object);
  return {Rollout::Unknown, "unknown kind " + kind};
}

std::string pod_failure(const json& pod) {
  static const char* const kBad[] = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CrashLoopBackOff",
                                     "CreateContainerConfigError", "RunContainerError"};
  const json& status = field(pod, "status");
  for (const char* list : {"initContainerStatuses", "containerStatuses"}) {
    if (!status.contains(list) || !status[list].is_array()) continue;
    for (const auto& cs : status[list]) {
      const json& waiting = field(field(cs, "state"), "waiting");
      const std::string reason = waiting.value("reason", "");
      for (const char* bad : kBad) {
        if (reason == bad) {
          std::string msg = "container " + cs.value("name", std::string("?")) + ": " + reason;
          const std::string detail = waiting.value("message", "");
          return detail.empty() ? msg : msg + " (" + detail + ")";
        }
      }
    }
  }
  return "";
}

bool pod_ready(const json& pod) {
  const json& status = field(pod, "status");
  if (!status.contains("conditions") || !status["conditions"].is_array()) return false;
  for (const auto& c : status["conditions"]) {
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  }
  return false;
}

}  // namespace meshupgrade
