// Manager::run: serve metrics and probes, start caches, lead (or wait to), run controllers, shut down cleanly.
#include "operator/manager.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <fstream>
#include <future>
#include <thread>

#include "operator/errors.h"

namespace kubert {

void block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

Manager::Manager(KubeApi& api, ManagerOptions opts, Logger log, const Clock* clock)
    : api_(api), opts_(std::move(opts)), log_(std::move(log)),
      own_clock_(clock ? nullptr : std::make_unique<RealClock>()), clock_(clock ? clock : own_clock_.get()) {
  health_.add_ready_check("caches", [this] { return caches_synced(); });
}

Manager::~Manager() {
  request_stop();
  for (auto& inf : informers_) inf->stop();
  health_.stop();
}

Informer& Manager::add_informer(InformerOptions opts) {
  informers_.push_back(std::make_unique<Informer>(api_, std::move(opts), *clock_, log_.named("informer")));
  return *informers_.back();
}

WorkQueue& Manager::add_controller(std::string name, Reconciler reconcile, int workers) {
  ControllerEntry e;
  e.queue = std::make_unique<WorkQueue>(name, *clock_, &metrics_);
  e.controller = std::make_unique<Controller>(name, *e.queue, std::move(reconcile),
                                              workers > 0 ? workers : opts_.max_concurrent_reconciles, metrics_,
                                              log_.named("controller"), *clock_);
  controllers_.push_back(std::move(e));
  return *controllers_.back().queue;
}

void Manager::add_runnable(std::string name, std::function<void(std::stop_token)> run, bool needs_leader) {
  runnables_.push_back({std::move(name), std::move(run), needs_leader});
}

void Manager::add_ready_check(std::string name, std::function<bool()> check) {
  health_.add_ready_check(std::move(name), std::move(check));
}

void Manager::add_health_check(std::string name, std::function<bool()> check) {
  health_.add_health_check(std::move(name), std::move(check));
}

void Manager::request_stop() {
  stop_.request_stop();
  std::lock_guard lock(mu_);
  cv_.notify_all();
}

bool Manager::stop_requested() const { return stop_.stop_requested(); }

bool Manager::caches_synced() const {
  for (const auto& inf : informers_) {
    if (!inf->has_synced()) return false;
  }
  return true;
}

bool Manager::wait_for_caches(std::stop_token stop) {
  for (const auto& inf : informers_) {
    // Waits in slices so a stop during a slow first list is noticed.
    while (!inf->wait_for_sync(std::chrono::milliseconds(200))) {
      if (stop.stop_requested()) return false;
    }
  }
  return !stop.stop_requested();
}

LeaderElectionConfig Manager::leader_config() const {
  if (le_cfg_override_) return *le_cfg_override_;
  LeaderElectionConfig cfg;
  cfg.name = opts_.leader_election_id;
  cfg.ns = opts_.leader_election_namespace;
  if (cfg.ns.empty()) {
    std::ifstream in("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
    std::getline(in, cfg.ns);
  }
  if (cfg.ns.empty()) cfg.ns = "default";
  cfg.identity = default_identity();
  return cfg;
}

// While leading: wait for the caches, run controllers and leader-only runnables until stop, then wait for
// them to return (each finishes its in-flight reconcile).
void Manager::lead(std::stop_token stop) {
  leading_ = true;
  if (!wait_for_caches(stop)) {
    leading_ = false;
    return;
  }
  log_.info("caches synced, starting controllers", {{"controllers", controllers_.size()}});
  {
    std::vector<std::jthread> threads;
    for (auto& c : controllers_) {
      threads.emplace_back([&c, stop] { c.controller->run(stop); });
    }
    for (auto& r : runnables_) {
      if (!r.needs_leader) continue;
      threads.emplace_back([this, &r, stop] {
        try {
          r.run(stop);
        } catch (const std::exception& e) {
          log_.error("runnable failed", {{"runnable", r.name}, {"error", describe(e)}});
          request_stop();
        }
      });
    }
  }  // joined
  leading_ = false;
}

int Manager::run() {
  std::jthread signals;
  if (handle_signals_) {
    block_shutdown_signals();
    signals = std::jthread([this](std::stop_token st) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGTERM);
      sigaddset(&set, SIGINT);
      const timespec slice{0, 200'000'000};
      // sigtimedwait in slices: the thread must also end when run() returns without a signal.
      while (!st.stop_requested() && !stop_.stop_requested()) {
        const int sig = sigtimedwait(&set, nullptr, &slice);
        if (sig == SIGTERM || sig == SIGINT) {
          log_.info("shutdown signal received, stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
          request_stop();
        }
      }
    });
  }

  try {
    if (metrics_.serve(opts_.metrics_bind_address)) {
      log_.info("serving metrics", {{"address", opts_.metrics_bind_address}, {"port", metrics_.bound_port()}});
    }
    if (health_.serve(opts_.health_probe_bind_address)) {
      log_.info("serving health probes", {{"address", opts_.health_probe_bind_address}});
    }
  } catch (const std::exception& e) {
    log_.error("cannot start", {{"error", describe(e)}});
    return 1;
  }

  for (auto& inf : informers_) inf->start();
  const std::stop_token stop = stop_.get_token();
  std::vector<std::jthread> always;
  for (auto& r : runnables_) {
    if (r.needs_leader) continue;
    always.emplace_back([this, &r, stop] {
      try {
        r.run(stop);
      } catch (const std::exception& e) {
        log_.error("runnable failed", {{"runnable", r.name}, {"error", describe(e)}});
        request_stop();
      }
    });
  }

  std::promise<void> finished;
  auto finished_future = finished.get_future();
  std::thread leader([this, stop, &finished] {
    if (opts_.leader_elect) {
      LeaderElector elector(api_, *clock_, leader_config(), log_.named("leader-election"), &metrics_);
      elector.run(stop, [this](std::stop_token leading) { lead(leading); },
                  [this] {
                    lost_ = true;
                    request_stop();
                  });
    } else {
      lead(stop);
    }
    finished.set_value();
  });

  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, stop, [] { return false; });
  }
  log_.info("stopping: no new work; waiting for in-flight reconciles",
            {{"timeout_seconds", std::chrono::duration<double>(grace_).count()}});
  if (finished_future.wait_for(grace_) != std::future_status::ready) {
    // A reconcile that ignores shutdown must not keep the process: exit without unwinding its threads.
    log_.error("in-flight work did not finish within the shutdown timeout; exiting anyway");
    std::_Exit(lost_ ? 1 : 0);
  }
  leader.join();
  always.clear();
  for (auto& inf : informers_) inf->stop();
  health_.stop();
  if (lost_) {
    log_.error("leader lease lost, exiting");
    return 1;
  }
  log_.info("stopped cleanly");
  return 0;
}

}  // namespace kubert
