// The Lease protocol: acquire when free or expired, renew with optimistic concurrency, release on stop.
#include "operator/leader_election.h"

#include <unistd.h>

#include <cstdio>
#include <random>
#include <thread>

#include "operator/errors.h"
#include "operator/metrics.h"

namespace kubert {
namespace {

// metav1.MicroTime: RFC 3339 with microseconds.
std::string micro_time(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1'000'000;
  std::string s = rfc3339(t);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(us < 0 ? us + 1'000'000 : us));
  s.insert(s.size() - 1, frac);
  return s;
}

double jitter_factor() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(1.0, 2.2)(rng);  // client-go: JitterFactor 1.2
}

}  // namespace

const Gvr& lease_gvr() {
  static const Gvr gvr{"coordination.k8s.io", "v1", "leases", true};
  return gvr;
}

std::string default_identity() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::mt19937_64 rng{std::random_device{}()};
  char suffix[20];
  std::snprintf(suffix, sizeof suffix, "%012llx", static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
  return std::string(host) + "_" + suffix;
}

LeaderElector::LeaderElector(KubeApi& api, const Clock& clock, LeaderElectionConfig cfg, Logger log,
                             LeaderMetrics* metrics)
    : api_(api), clock_(clock), cfg_(std::move(cfg)),
      log_(log.with({{"lease", cfg_.ns + "/" + cfg_.name}, {"identity", cfg_.identity}})), metrics_(metrics) {
  if (metrics_) metrics_->set_leader(cfg_.name, false);
}

void LeaderElector::set_leading(bool leading) {
  leading_ = leading;
  if (metrics_) metrics_->set_leader(cfg_.name, leading);
}

json LeaderElector::record(const json& old_spec, bool keep_acquire) const {
  const std::string now = micro_time(clock_.wall());
  json spec = {{"holderIdentity", cfg_.identity},
               {"leaseDurationSeconds", std::chrono::duration_cast<std::chrono::seconds>(cfg_.lease_duration).count()},
               {"renewTime", now}};
  const long transitions = old_spec.is_object() ? old_spec.value("leaseTransitions", 0L) : 0L;
  if (keep_acquire && old_spec.contains("acquireTime")) {
    spec["acquireTime"] = old_spec["acquireTime"];
    spec["leaseTransitions"] = transitions;
  } else {
    spec["acquireTime"] = now;
    // A first acquisition is no transition; taking over from a holder (or an empty holder) is.
    spec["leaseTransitions"] = old_spec.is_object() ? transitions + 1 : 0;
  }
  return spec;
}

bool LeaderElector::try_acquire_or_renew() {
  const ObjectRef ref{lease_gvr(), cfg_.ns, cfg_.name};
  try {
    std::optional<json> lease = api_.get(ref);
    if (!lease) {
      json spec = record(nullptr, false);
      json body = {{"apiVersion", "coordination.k8s.io/v1"},
                   {"kind", "Lease"},
                   {"metadata", {{"name", cfg_.name}, {"namespace", cfg_.ns}}},
                   {"spec", spec}};
      api_.create(lease_gvr(), cfg_.ns, body);
      observed_spec_ = spec;
      observed_time_ = clock_.steady();
      return true;
    }
    const json spec = lease->value("spec", json::object());
    if (spec != observed_spec_) {
      // Expiry is judged from when WE saw the record change, not from its timestamps: clocks differ.
      observed_spec_ = spec;
      observed_time_ = clock_.steady();
    }
    const std::string holder = spec.value("holderIdentity", "");
    const auto duration = std::chrono::seconds(spec.value("leaseDurationSeconds", 0L));
    const bool mine = holder == cfg_.identity;
    if (!holder.empty() && !mine && observed_time_ + duration > clock_.steady()) return false;

    json next = *lease;
    next["spec"] = record(spec, mine);
    api_.update(ref, next);  // carries metadata.resourceVersion: a concurrent writer makes this a 409
    observed_spec_ = next["spec"];
    observed_time_ = clock_.steady();
    if (!mine) log_.info("acquired lease", {{"previousHolder", holder}});
    return true;
  } catch (const ApiError& e) {
    if (!e.is_conflict() && !e.is_already_exists()) log_.warn("lease attempt failed", {{"error", describe(e)}});
    return false;
  } catch (const std::exception& e) {
    log_.warn("lease attempt failed", {{"error", describe(e)}});
    return false;
  }
}

void LeaderElector::release() {
  const ObjectRef ref{lease_gvr(), cfg_.ns, cfg_.name};
  try {
    std::optional<json> lease = api_.get(ref);
    if (!lease || lease->value("spec", json::object()).value("holderIdentity", "") != cfg_.identity) return;
    json next = *lease;
    const std::string now = micro_time(clock_.wall());
    next["spec"]["holderIdentity"] = "";
    next["spec"]["leaseDurationSeconds"] = 1;
    next["spec"]["renewTime"] = now;
    next["spec"]["acquireTime"] = now;
    api_.update(ref, next);
    log_.info("released lease");
  } catch (const std::exception& e) {
    log_.warn("could not release lease", {{"error", describe(e)}});
  }
}

bool LeaderElector::wait(std::stop_token stop, std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, stop, d, [] { return false; });
  return !stop.stop_requested();
}

void LeaderElector::run(std::stop_token stop, std::function<void(std::stop_token)> on_started_leading,
                        std::function<void()> on_stopped_leading) {
  log_.info("attempting to acquire leader lease");
  while (!stop.stop_requested() && !try_acquire_or_renew()) {
    const auto d = std::chrono::milliseconds(
        static_cast<long>(static_cast<double>(cfg_.retry_period.count()) * jitter_factor()));
    if (!wait(stop, d)) break;
  }
  if (stop.stop_requested()) return;

  set_leading(true);
  log_.info("became leader");
  std::stop_source leading;
  std::jthread work([&, token = leading.get_token()] {
    if (on_started_leading) on_started_leading(token);
  });

  bool lost = false;
  auto last_renew = clock_.steady();
  while (wait(stop, cfg_.retry_period)) {
    if (try_acquire_or_renew()) {
      last_renew = clock_.steady();
    } else if (clock_.steady() - last_renew >= cfg_.renew_deadline) {
      lost = true;
      break;
    }
  }
  set_leading(false);
  if (lost) {
    log_.error("leader lease lost: could not renew within the renew deadline");
  }
  leading.request_stop();
  work.join();
  if (lost) {
    if (on_stopped_leading) on_stopped_leading();
  } else if (cfg_.release_on_cancel) {
    release();
  }
}

}  // namespace kubert
