// The worker loop: the one place reconcile errors are caught, logged, counted and retried with backoff.
#include "operator/controller.h"

#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/errors.h"

namespace kubert {
namespace {

thread_local std::string t_reconcile_id;
thread_local const Logger* t_reconcile_log = nullptr;

std::string new_reconcile_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::uint64_t a = rng(), b = rng();
  char buf[40];
  // A version-4 UUID layout, as controller-runtime's reconcileID.
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

}  // namespace

const std::string& current_reconcile_id() { return t_reconcile_id; }

const Logger& reconcile_log() {
  static const Logger null = Logger::null();
  return t_reconcile_log ? *t_reconcile_log : null;
}

ObjectKey ObjectKey::parse(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

ObjectKey ObjectKey::of(const nlohmann::json& obj) {
  const nlohmann::json& m = obj.at("metadata");
  return {m.value("namespace", ""), m.value("name", "")};
}

const Clock& Controller::default_clock() {
  static const RealClock clock;
  return clock;
}

Controller::Controller(std::string name, WorkQueue& queue, Reconciler reconcile, int workers,
                       ControllerMetrics& metrics, Logger log, const Clock& clock)
    : name_(std::move(name)), queue_(queue), reconcile_(std::move(reconcile)), workers_(std::max(1, workers)),
      metrics_(metrics), log_(log.with({{"controller", name_}})), clock_(clock) {
  metrics_.set_max_workers(name_, workers_);
  metrics_.set_active_workers(name_, 0);
}

std::function<void(const nlohmann::json*, const nlohmann::json*)> Controller::enqueue_on_change(WorkQueue& queue) {
  return [&queue](const nlohmann::json* old_obj, const nlohmann::json* new_obj) {
    const nlohmann::json* obj = new_obj ? new_obj : old_obj;
    if (obj) queue.add(ObjectKey::of(*obj).str());
  };
}

void Controller::run(std::stop_token stop) {
  std::stop_callback on_stop(stop, [this] { queue_.shut_down(); });
  log_.info("starting workers", {{"workers", workers_}});
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < workers_; ++i) {
      threads.emplace_back([this] {
        while (process_next()) {
        }
      });
    }
  }  // joins: every in-flight reconcile has returned
  log_.info("all workers finished");
}

bool Controller::process_next() {
  std::optional<std::string> key = queue_.get();
  if (!key) return false;
  metrics_.set_active_workers(name_, ++active_);
  reconcile_one(*key);
  metrics_.set_active_workers(name_, --active_);
  queue_.done(*key);
  return true;
}

void Controller::reconcile_one(const std::string& key) {
  const ObjectKey k = ObjectKey::parse(key);
  t_reconcile_id = new_reconcile_id();
  const Logger log = log_.with({{"namespace", k.ns}, {"name", k.name}, {"reconcileID", t_reconcile_id}});
  t_reconcile_log = &log;
  const auto start = clock_.steady();
  auto elapsed = [&] { return std::chrono::duration<double>(clock_.steady() - start).count(); };
  try {
    const Result r = reconcile_(k);
    queue_.forget(key);
    if (r.requeue_after) {
      queue_.add_after(key, *r.requeue_after);
      metrics_.reconcile_done(name_, "requeue_after", elapsed());
    } else {
      metrics_.reconcile_done(name_, "success", elapsed());
    }
  } catch (const TerminalError& e) {
    // Retrying cannot fix it: count it and wait for the object to change.
    queue_.forget(key);
    metrics_.reconcile_error(name_, true);
    metrics_.reconcile_done(name_, "error", elapsed());
    log.error("reconcile failed terminally", {{"reason", e.reason()}, {"error", describe(e)}});
  } catch (const std::exception& e) {
    queue_.add_rate_limited(key);
    metrics_.reconcile_error(name_, false);
    metrics_.reconcile_done(name_, "error", elapsed());
    log.error("reconcile failed", {{"error", describe(e)}, {"requeues", queue_.num_requeues(key)}});
  } catch (...) {
    queue_.add_rate_limited(key);
    metrics_.reconcile_error(name_, false);
    metrics_.reconcile_done(name_, "error", elapsed());
    log.error("reconcile failed with a non-standard exception");
  }
  t_reconcile_log = nullptr;
  t_reconcile_id.clear();
}

}  // namespace kubert
