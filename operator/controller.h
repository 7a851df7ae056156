// A controller: N workers take keys from a WorkQueue and call reconcile(key) → Result, level-based.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "operator/clock.h"
#include "operator/log.h"
#include "operator/work_queue.h"

namespace kubert {

struct Result {  // no `requeue` flag: controller-runtime deprecated it
  std::optional<std::chrono::milliseconds> requeue_after;  // nullopt: wait for a watch event
};

struct ObjectKey {
  std::string ns;
  std::string name;
  std::string str() const { return ns.empty() ? name : ns + "/" + name; }  // the queue key
  static ObjectKey parse(const std::string& key);                             // "ns/name" or "name"
  static ObjectKey of(const nlohmann::json& obj);                             // from metadata
  bool operator==(const ObjectKey&) const = default;
};

// What a controller reports; implemented by Metrics (controller_runtime_* families).
class ControllerMetrics {
 public:
  virtual ~ControllerMetrics() = default;
  // result: "success", "error", "requeue_after".
  virtual void reconcile_done(const std::string& controller, std::string_view result, double seconds) = 0;
  virtual void reconcile_error(const std::string& controller, bool terminal) = 0;
  virtual void set_active_workers(const std::string& controller, int n) = 0;
  virtual void set_max_workers(const std::string& controller, int n) = 0;
};

using Reconciler = std::function<Result(const ObjectKey&)>;

// During a reconcile, on its worker thread: the reconcile id and a logger carrying controller, namespace,
// name and reconcileID. Outside a reconcile: "" and the null logger.
const std::string& current_reconcile_id();
const Logger& reconcile_log();

class Controller {
 public:
  Controller(std::string name, WorkQueue& queue, Reconciler reconcile, int workers, ControllerMetrics& metrics,
             Logger log, const Clock& clock = default_clock());
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Runs the workers until stop is requested: then shuts the queue down (no new work) and returns once
  // every in-flight reconcile has finished.
  void run(std::stop_token stop);
  // One key, as a worker handles it (get → reconcile → done); false once the queue is shut down.
  bool process_next();
  const std::string& name() const { return name_; }

  // An informer handler that queues the key of every added, updated or deleted object.
  static std::function<void(const nlohmann::json*, const nlohmann::json*)> enqueue_on_change(WorkQueue& queue);

 private:
  static const Clock& default_clock();
  void reconcile_one(const std::string& key);

  const std::string name_;
  WorkQueue& queue_;
  Reconciler reconcile_;
  const int workers_;
  ControllerMetrics& metrics_;
  Logger log_;
  const Clock& clock_;
  std::atomic<int> active_{0};
};

}  // namespace kubert
