// An informer: lists then watches one resource type, keeps a Store current and calls handlers on changes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "operator/clock.h"
#include "operator/kube_api.h"
#include "operator/log.h"
#include "operator/store.h"

namespace kubert {

struct InformerOptions {
  Gvr gvr;
  std::string ns;                 // "": all namespaces
  std::string label_selector;
  std::string field_selector;
  bool strip_managed_fields = true;
  std::function<void(json&)> transform;  // runs on every object before it is stored, to drop what we never read
  // Between failed attempts: starts here, doubles, capped, jittered; reset after a success.
  std::chrono::milliseconds backoff_initial{800};
  std::chrono::milliseconds backoff_cap{30'000};
  long watch_timeout_seconds = 0;  // 0: 300 to 600 s at random, so watches are renewed now and then
};

// old_obj null: added; new_obj null: deleted; both: updated (also for every object on a re-list).
using InformerHandler = std::function<void(const json* old_obj, const json* new_obj)>;

class Informer {
 public:
  Informer(KubeApi& api, InformerOptions opts, const Clock& clock, Logger log);
  ~Informer();  // stops
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void add_handler(InformerHandler handler);  // before start(); handlers run on the informer's thread
  void start();
  void stop();  // returns once the thread has ended
  bool has_synced() const;
  bool wait_for_sync(std::chrono::milliseconds timeout) const;
  const Store& store() const { return store_; }
  const InformerOptions& options() const { return opts_; }
  std::string last_resource_version() const;
  long relists() const { return relists_; }  // lists after the first one

 private:
  void run(std::stop_token stop);
  void relist();
  void watch_once(std::stop_token stop, std::size_t& events);
  void apply(const std::string& type, const json& object);
  json prepare(const json& object) const;
  void notify(const json* old_obj, const json* new_obj);
  bool wait_backoff(std::stop_token stop, std::chrono::milliseconds& backoff);

  KubeApi& api_;
  const InformerOptions opts_;
  const Clock& clock_;
  Logger log_;
  Store store_;
  std::vector<InformerHandler> handlers_;

  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;
  bool synced_ = false;
  std::string rv_;
  std::atomic<long> relists_{0};
  long lists_ = 0;
  std::jthread thread_;
};

}  // namespace kubert
