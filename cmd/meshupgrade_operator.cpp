// meshupgrade-operator: wires the runtime (operator/) to the MeshUpgrade reconciler (controllers/).
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "controllers/setup.h"
#include "operator/errors.h"
#include "operator/kubeconfig.h"
#include "operator/log.h"
#include "operator/manager.h"
#include "operator/options.h"
#include "operator/rest_client.h"

int main(int argc, char** argv) {
  // Before anything starts a thread: only the Manager's signal thread may receive SIGTERM/SIGINT.
  kubert::block_shutdown_signals();
  // Few malloc arenas: the client's thread pool would otherwise give each thread its own, and idle RSS grows.
  mallopt(M_ARENA_MAX, 2);

  kubert::ManagerOptions opts;
  try {
    opts = kubert::parse_flags(argc, argv);
  } catch (const kubert::UsageError& e) {
    std::cerr << "meshupgrade-operator: " << e.what() << "\n\n" << kubert::usage();
    return 2;
  }
  if (opts.show_help) {
    std::cout << kubert::usage();
    return 0;
  }
  if (opts.show_version) {
    std::cout << "meshupgrade-operator " << MESHUPGRADE_VERSION << "\n";
    return 0;
  }

  const kubert::Logger log = kubert::Logger::make("meshupgrade-operator", opts.log_format, opts.log_level);
  kubert::RestConfig cfg;
  try {
    std::optional<kubert::RestConfig> found = kubert::load_default(opts.kubeconfig, opts.context);
    if (!found) {
      std::cerr << "meshupgrade-operator: no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config "
                   "or run in a cluster\n";
      return 1;
    }
    cfg = std::move(*found);
  } catch (const std::exception& e) {
    // One clear line: which file, which field, what is wrong (ConfigError says so).
    std::cerr << "meshupgrade-operator: " << kubert::describe(e) << "\n";
    return 1;
  }
  cfg.qps = opts.kube_api_qps;
  cfg.burst = opts.kube_api_burst;
  if (opts.leader_election_namespace.empty()) {
    opts.leader_election_namespace = cfg.namespace_.empty() ? "default" : cfg.namespace_;
  }

  try {
    // The client must exist before the Manager (which takes it) and report to the Manager's metrics:
    // an observer that forwards once the Manager is built.
    struct LateObserver final : kubert::RestClientObserver {
      std::atomic<kubert::RestClientObserver*> target{nullptr};
      void on_request(std::string_view method, int code, double seconds) override {
        if (auto* t = target.load()) t->on_request(method, code, seconds);
      }
    } observer;
    kubert::RestClientOptions copts;
    copts.observer = &observer;
    kubert::RestClient client(cfg, copts);
    kubert::Manager mgr(client, opts, log);
    observer.target = &mgr.metrics();
    log.info("starting", {{"version", MESHUPGRADE_VERSION}, {"server", cfg.server}, {"config", cfg.source},
                          {"namespace", opts.watch_namespace.empty() ? "(all)" : opts.watch_namespace},
                          {"leaderElect", opts.leader_elect}});
    meshupgrade::setup(mgr, client, opts);
    return mgr.run();
  } catch (const std::exception& e) {
    log.error("fatal", {{"error", kubert::describe(e)}});
    return 1;
  }
}
