// Expectations bookkeeping and the Event recorder.
#include "controllers/mesh_upgrade/context.h"

#include <atomic>
#include <chrono>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "operator/errors.h"

namespace meshupgrade {

void Expectations::expect(const std::string& attempt, const std::string& key) {
  std::lock_guard lock(mu_);
  pending_[attempt].insert(key);
}

bool Expectations::expected(const std::string& attempt, const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = pending_.find(attempt);
  return it != pending_.end() && it->second.count(key) > 0;
}

void Expectations::observed(const std::string& attempt, const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(attempt);
  if (it == pending_.end()) return;
  it->second.erase(key);
  if (it->second.empty()) pending_.erase(it);
}

void Expectations::forget_attempt(const std::string& attempt) {
  std::lock_guard lock(mu_);
  pending_.erase(attempt);
}

void EventRecorder::record(const json& involved, const std::string& type, const std::string& reason,
                           const std::string& message) {
  static std::atomic<unsigned> counter{0};
  const auto& meta = involved["metadata"];
  const std::string ns = meta.value("namespace", "default");
  const auto now = clock_.wall();
  char suffix[40];
  std::snprintf(suffix, sizeof suffix, ".%llx%x",
                static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                    now.time_since_epoch()).count()),
                counter.fetch_add(1) & 0xfff);
  const std::string ts = kubert::rfc3339(now);
  json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", {{"name", meta.value("name", "object") + suffix}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", involved.value("apiVersion", "")},
        {"kind", involved.value("kind", "")},
        {"name", meta.value("name", "")},
        {"namespace", ns},
        {"uid", meta.value("uid", "")},
        {"resourceVersion", meta.value("resourceVersion", "")}}},
      {"type", type},
      {"reason", reason},
      {"message", message.size() > 1024 ? message.substr(0, 1021) + "..." : message},
      {"source", {{"component", "meshupgrade-operator"}}},
      {"reportingComponent", "meshupgrade-operator"},
      {"firstTimestamp", ts},
      {"lastTimestamp", ts},
      {"count", 1},
  };
  try {
    api_.create({"", "v1", "events", true}, ns, event);
  } catch (const std::exception& e) {
    spdlog::warn("could not record event {} on {}/{}: {}", reason, ns, meta.value("name", ""), kubert::describe(e));
  }
}

}  // namespace meshupgrade
