// Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "operator/clock.h"
#include "operator/kube_api.h"
#include "operator/log.h"

namespace kubert {

class LeaderMetrics;

struct LeaderElectionConfig {
  std::string ns;        // the Lease's namespace
  std::string name;      // the Lease's name
  std::string identity;  // this candidate: hostname + "_" + a random suffix, as controller-runtime
  // client-go's defaults. Milliseconds so tests can run the loop fast; seconds convert implicitly.
  std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
  std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
  std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
  bool release_on_cancel = true;  // on a clean stop, hand the Lease over at once
};

const Gvr& lease_gvr();
// A fresh identity: "<hostname>_<random hex>".
std::string default_identity();

class LeaderElector {
 public:
  LeaderElector(KubeApi& api, const Clock& clock, LeaderElectionConfig cfg, Logger log,
                LeaderMetrics* metrics = nullptr);

  // Blocks: tries to acquire every retry_period until leading or stop. While leading, runs
  // on_started_leading on its own thread with a token that is stopped when leadership ends, and renews
  // every retry_period. Leadership ends when stop is requested (then the Lease is released and
  // on_stopped_leading is NOT called: a clean shutdown) or when renewal fails for renew_deadline (then
  // on_stopped_leading is called after on_started_leading has returned). Returns after either.
  void run(std::stop_token stop, std::function<void(std::stop_token)> on_started_leading,
           std::function<void()> on_stopped_leading);
  bool is_leader() const { return leading_; }
  const LeaderElectionConfig& config() const { return cfg_; }

  // One attempt to acquire or renew; true when we hold the Lease afterwards. Exposed for tests.
  bool try_acquire_or_renew();
  // Gives the Lease up if we hold it (holderIdentity cleared, leaseDurationSeconds 1). Exposed for tests.
  void release();

 private:
  json record(const json& old_spec, bool keep_acquire) const;
  bool wait(std::stop_token stop, std::chrono::milliseconds d);
  void set_leading(bool leading);

  KubeApi& api_;
  const Clock& clock_;
  const LeaderElectionConfig cfg_;
  Logger log_;
  LeaderMetrics* metrics_;
  std::atomic<bool> leading_{false};
  json observed_spec_;
  std::chrono::steady_clock::time_point observed_time_{};
  std::mutex mu_;
  std::condition_variable_any cv_;
};

}  // namespace kubert
