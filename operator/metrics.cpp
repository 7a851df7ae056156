// Metrics: the controller-runtime, workqueue, rest_client and leader-election families, and the exposer.
#include "operator/metrics.h"

#include <map>
#include <mutex>
#include <stdexcept>

#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "operator/process_metrics.h"

namespace kubert {
namespace {

using prometheus::Histogram;

Histogram::BucketBoundaries exponential(double start, double factor, int count) {
  Histogram::BucketBoundaries b;
  for (int i = 0; i < count; ++i, start *= factor) b.push_back(start);
  return b;
}

const Histogram::BucketBoundaries kReconcileBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35,
                                                    0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75,
                                                    2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25,
                                                    30, 40, 50, 60};
const Histogram::BucketBoundaries kRestBuckets{0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0};

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  std::vector<std::shared_ptr<prometheus::Collectable>> extra;
  std::unique_ptr<prometheus::Exposer> exposer;
  std::mutex mu;  // Family::Add is thread-safe; the exposer and extra list are not

  prometheus::Family<prometheus::Counter>& reconcile_total =
      prometheus::BuildCounter().Name("controller_runtime_reconcile_total")
          .Help("Total number of reconciliations per controller").Register(*registry);
  prometheus::Family<prometheus::Counter>& reconcile_errors =
      prometheus::BuildCounter().Name("controller_runtime_reconcile_errors_total")
          .Help("Total number of reconciliation errors per controller").Register(*registry);
  prometheus::Family<prometheus::Counter>& terminal_errors =
      prometheus::BuildCounter().Name("controller_runtime_terminal_reconcile_errors_total")
          .Help("Total number of terminal reconciliation errors per controller").Register(*registry);
  prometheus::Family<Histogram>& reconcile_time =
      prometheus::BuildHistogram().Name("controller_runtime_reconcile_time_seconds")
          .Help("Length of time per reconciliation per controller").Register(*registry);
  prometheus::Family<prometheus::Gauge>& active_workers =
      prometheus::BuildGauge().Name("controller_runtime_active_workers")
          .Help("Number of currently used workers per controller").Register(*registry);
  prometheus::Family<prometheus::Gauge>& max_workers =
      prometheus::BuildGauge().Name("controller_runtime_max_concurrent_reconciles")
          .Help("Maximum number of concurrent reconciles per controller").Register(*registry);

  prometheus::Family<prometheus::Gauge>& depth =
      prometheus::BuildGauge().Name("workqueue_depth").Help("Current depth of workqueue").Register(*registry);
  prometheus::Family<prometheus::Counter>& adds =
      prometheus::BuildCounter().Name("workqueue_adds_total").Help("Total number of adds handled by workqueue")
          .Register(*registry);
  prometheus::Family<prometheus::Counter>& retries =
      prometheus::BuildCounter().Name("workqueue_retries_total").Help("Total number of retries handled by workqueue")
          .Register(*registry);
  prometheus::Family<Histogram>& queue_duration =
      prometheus::BuildHistogram().Name("workqueue_queue_duration_seconds")
          .Help("How long in seconds an item stays in workqueue before being requested").Register(*registry);
  prometheus::Family<Histogram>& work_duration =
      prometheus::BuildHistogram().Name("workqueue_work_duration_seconds")
          .Help("How long in seconds processing an item from workqueue takes").Register(*registry);

  prometheus::Family<prometheus::Counter>& rest_requests =
      prometheus::BuildCounter().Name("rest_client_requests_total")
          .Help("Number of HTTP requests, partitioned by status code and method").Register(*registry);
  prometheus::Family<Histogram>& rest_duration =
      prometheus::BuildHistogram().Name("rest_client_request_duration_seconds")
          .Help("Request latency in seconds, by verb").Register(*registry);

  prometheus::Family<prometheus::Gauge>& leader =
      prometheus::BuildGauge().Name("leader_election_master_status")
          .Help("Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates "
                "master. 'name' is the string used to identify the lease.")
          .Register(*registry);

  static prometheus::Labels queue_labels(const std::string& q) { return {{"name", q}, {"controller", q}}; }
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {
  impl_->extra.push_back(make_process_collector());
}

Metrics::~Metrics() {
  // Stop serving before the registry and collectables go away.
  impl_->exposer.reset();
}

void Metrics::reconcile_done(const std::string& controller, std::string_view result, double seconds) {
  impl_->reconcile_total.Add({{"controller", controller}, {"result", std::string(result)}}).Increment();
  impl_->reconcile_time.Add({{"controller", controller}}, kReconcileBuckets).Observe(seconds);
}

void Metrics::reconcile_error(const std::string& controller, bool terminal) {
  impl_->reconcile_errors.Add({{"controller", controller}}).Increment();
  if (terminal) impl_->terminal_errors.Add({{"controller", controller}}).Increment();
}

void Metrics::set_active_workers(const std::string& controller, int n) {
  impl_->active_workers.Add({{"controller", controller}}).Set(n);
}

void Metrics::set_max_workers(const std::string& controller, int n) {
  impl_->max_workers.Add({{"controller", controller}}).Set(n);
  // Present from the start, so dashboards see zeros rather than nothing.
  for (const char* r : {"success", "error", "requeue_after"}) impl_->reconcile_total.Add({{"controller", controller}, {"result", r}});
  impl_->reconcile_errors.Add({{"controller", controller}});
  impl_->terminal_errors.Add({{"controller", controller}});
}

void Metrics::set_depth(const std::string& queue, std::size_t depth) {
  impl_->depth.Add(Impl::queue_labels(queue)).Set(static_cast<double>(depth));
}

void Metrics::inc_adds(const std::string& queue) { impl_->adds.Add(Impl::queue_labels(queue)).Increment(); }

void Metrics::inc_retries(const std::string& queue) { impl_->retries.Add(Impl::queue_labels(queue)).Increment(); }

void Metrics::observe_queue_duration(const std::string& queue, double seconds) {
  static const auto buckets = exponential(1e-8, 10, 10);
  impl_->queue_duration.Add(Impl::queue_labels(queue), buckets).Observe(seconds);
}

void Metrics::observe_work_duration(const std::string& queue, double seconds) {
  static const auto buckets = exponential(1e-8, 10, 10);
  impl_->work_duration.Add(Impl::queue_labels(queue), buckets).Observe(seconds);
}

void Metrics::on_request(std::string_view method, int code, double seconds) {
  const std::string m(method);
  // code 0: no HTTP answer; client-go counts those as "<error>".
  impl_->rest_requests.Add({{"code", code == 0 ? std::string("<error>") : std::to_string(code)}, {"method", m}})
      .Increment();
  impl_->rest_duration.Add({{"verb", m}}, kRestBuckets).Observe(seconds);
}

void Metrics::set_leader(const std::string& lease_name, bool leading) {
  impl_->leader.Add({{"name", lease_name}}).Set(leading ? 1 : 0);
}

prometheus::Registry& Metrics::registry() { return *impl_->registry; }

void Metrics::register_collectable(const std::shared_ptr<prometheus::Collectable>& collectable) {
  std::lock_guard lock(impl_->mu);
  impl_->extra.push_back(collectable);
  if (impl_->exposer) impl_->exposer->RegisterCollectable(collectable);
}

std::string Metrics::render() const {
  std::vector<prometheus::MetricFamily> all = impl_->registry->Collect();
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& c : impl_->extra) {
      auto more = c->Collect();
      all.insert(all.end(), more.begin(), more.end());
    }
  }
  return prometheus::TextSerializer().Serialize(all);
}

std::string normalize_bind_address(const std::string& bind_address) {
  const auto colon = bind_address.rfind(':');
  if (colon == std::string::npos || colon + 1 == bind_address.size()) {
    throw std::invalid_argument("bind address must be [host]:port, not \"" + bind_address + "\"");
  }
  const std::string port = bind_address.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5 || std::stoi(port) > 65535) {
    throw std::invalid_argument("bind address \"" + bind_address + "\": bad port");
  }
  return colon == 0 ? "0.0.0.0" + bind_address : bind_address;
}

bool Metrics::serve(const std::string& bind_address) {
  if (bind_address == "0") return false;
  const std::string addr = normalize_bind_address(bind_address);
  std::lock_guard lock(impl_->mu);
  try {
    impl_->exposer = std::make_unique<prometheus::Exposer>(addr, 2);
  } catch (const std::exception& e) {
    throw std::runtime_error("metrics: cannot listen on " + addr + ": " + e.what());
  }
  impl_->exposer->RegisterCollectable(impl_->registry);
  for (const auto& c : impl_->extra) impl_->exposer->RegisterCollectable(c);
  return true;
}

int Metrics::bound_port() const {
  std::lock_guard lock(impl_->mu);
  if (!impl_->exposer) return 0;
  const auto ports = impl_->exposer->GetListeningPorts();
  return ports.empty() ? 0 : ports.front();
}

}  // namespace kubert
