// The Manager: runs informers, controllers and runnables under leader election, with metrics, health
// probes and a graceful shutdown on SIGTERM/SIGINT.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "operator/clock.h"
#include "operator/controller.h"
#include "operator/health.h"
#include "operator/informer.h"
#include "operator/kube_api.h"
#include "operator/leader_election.h"
#include "operator/log.h"
#include "operator/metrics.h"
#include "operator/options.h"
#include "operator/work_queue.h"

namespace kubert {

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts later; call first in main,
// before any library starts threads, so that only the Manager's signal thread receives them.
void block_shutdown_signals();

class Manager {
 public:
  // clock: nullptr for the real clock. api must outlive the Manager.
  Manager(KubeApi& api, ManagerOptions opts, Logger log, const Clock* clock = nullptr);
  ~Manager();
  Manager(const Manager&) = delete;
  Manager& operator=(const Manager&) = delete;

  KubeApi& api() { return api_; }
  const Clock& clock() const { return *clock_; }
  const Logger& logger() const { return log_; }
  Metrics& metrics() { return metrics_; }
  HealthServer& health() { return health_; }
  const ManagerOptions& options() const { return opts_; }

  // Started when run() starts, on every replica (leader or not); /readyz waits for them to sync, and
  // controllers start only once they have.
  Informer& add_informer(InformerOptions opts);
  // A controller with its own queue (named after it) and workers (0: --max-concurrent-reconciles). It runs
  // while this replica leads. Wire informer handlers to the returned queue, e.g.
  // informer.add_handler(Controller::enqueue_on_change(queue)).
  WorkQueue& add_controller(std::string name, Reconciler reconcile, int workers = 0);
  // Anything else that runs until its token is stopped: while leading (needs_leader) or from the start.
  void add_runnable(std::string name, std::function<void(std::stop_token)> run, bool needs_leader = true);
  void add_ready_check(std::string name, std::function<bool()> check);
  void add_health_check(std::string name, std::function<bool()> check);

  // Blocks until SIGTERM/SIGINT or request_stop(): 0 after a clean shutdown (in-flight reconciles finished
  // within the grace period, Lease released), 1 when the Lease was lost or startup failed.
  int run();
  void request_stop();
  bool stop_requested() const;
  // How long a shutdown waits for in-flight work before giving up (default 30 s).
  void set_graceful_shutdown_timeout(std::chrono::milliseconds d) { grace_ = d; }
  // For tests: do not install the signal thread.
  void set_handle_signals(bool on) { handle_signals_ = on; }
  // For tests: the leader election settings run() uses (identity, periods).
  void set_leader_election_config(LeaderElectionConfig cfg) { le_cfg_override_ = std::move(cfg); }
  bool is_leader() const { return leading_; }
  bool caches_synced() const;

 private:
  struct ControllerEntry {
    std::unique_ptr<WorkQueue> queue;
    std::unique_ptr<Controller> controller;
  };
  struct Runnable {
    std::string name;
    std::function<void(std::stop_token)> run;
    bool needs_leader;
  };

  void lead(std::stop_token stop);
  bool wait_for_caches(std::stop_token stop);
  LeaderElectionConfig leader_config() const;

  KubeApi& api_;
  const ManagerOptions opts_;
  Logger log_;
  std::unique_ptr<Clock> own_clock_;
  const Clock* clock_;
  Metrics metrics_;
  HealthServer health_;
  std::list<std::unique_ptr<Informer>> informers_;
  std::list<ControllerEntry> controllers_;
  std::vector<Runnable> runnables_;

  std::stop_source stop_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::atomic<bool> lost_{false};
  std::atomic<bool> leading_{false};
  std::chrono::milliseconds grace_{std::chrono::seconds(30)};
  bool handle_signals_ = true;
  std::optional<LeaderElectionConfig> le_cfg_override_;
};

}  // namespace kubert
