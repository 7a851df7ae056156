// Prometheus metrics named as controller-runtime and client-go name theirs, and the /metrics endpoint.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "operator/controller.h"
#include "operator/rest_client.h"
#include "operator/work_queue.h"

namespace prometheus {
class Registry;
class Collectable;
}  // namespace prometheus

namespace kubert {

// leader_election_master_status{name}: 1 while this process holds the lease.
class LeaderMetrics {
 public:
  virtual ~LeaderMetrics() = default;
  virtual void set_leader(const std::string& lease_name, bool leading) = 0;
};

// One registry for the process. Built once, passed by reference to what reports; thread-safe.
class Metrics final : public ControllerMetrics,
                      public WorkQueueMetrics,
                      public RestClientObserver,
                      public LeaderMetrics {
 public:
  Metrics();
  ~Metrics() override;
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // ControllerMetrics
  void reconcile_done(const std::string& controller, std::string_view result, double seconds) override;
  void reconcile_error(const std::string& controller, bool terminal) override;
  void set_active_workers(const std::string& controller, int n) override;
  void set_max_workers(const std::string& controller, int n) override;
  // WorkQueueMetrics (queue name = controller name, as controller-runtime labels both)
  void set_depth(const std::string& queue, std::size_t depth) override;
  void inc_adds(const std::string& queue) override;
  void inc_retries(const std::string& queue) override;
  void observe_queue_duration(const std::string& queue, double seconds) override;
  void observe_work_duration(const std::string& queue, double seconds) override;
  // RestClientObserver: rest_client_requests_total{code,method}, rest_client_request_duration_seconds{verb}
  void on_request(std::string_view method, int code, double seconds) override;
  // LeaderMetrics
  void set_leader(const std::string& lease_name, bool leading) override;

  // For the controllers' own meshupgrade_* families: register them on this registry directly, or add a
  // Collectable that is scraped with ours.
  prometheus::Registry& registry();
  void register_collectable(const std::shared_ptr<prometheus::Collectable>& collectable);

  // The text exposition of everything registered (what /metrics serves).
  std::string render() const;

  // Serves /metrics on bind_address: ":8080", "127.0.0.1:8080", "0" (disabled: returns false).
  // Throws std::runtime_error when the port cannot be bound. Only /metrics is served.
  bool serve(const std::string& bind_address);
  int bound_port() const;  // the port actually bound (for ":0" in tests); 0 when not serving

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ":8080" → "0.0.0.0:8080"; "host:port" unchanged; throws std::invalid_argument for anything else.
std::string normalize_bind_address(const std::string& bind_address);

}  // namespace kubert
