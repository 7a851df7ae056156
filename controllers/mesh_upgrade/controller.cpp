// Wiring: which informers feed the reconciler, and which events requeue which MeshUpgrades.
#include "controllers/mesh_upgrade/controller.h"

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/catalog_source.h"
#include "controllers/mesh_upgrade/context.h"
#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/phase.h"
#include "controllers/mesh_upgrade/reconciler.h"
#include "controllers/mesh_upgrade/transforms.h"
#include "controllers/mesh_upgrade/upgrade_metrics.h"

namespace meshupgrade {

namespace {

// A cached MeshUpgrade's phase, read in place: this runs for every watch event, so no copy of the status.
Phase phase_of(const kubert::json& mu) {
  const auto status = mu.find("status");
  if (status == mu.end() || !status->is_object()) return Phase::Pending;
  const auto phase = status->find("phase");
  if (phase == status->end() || !phase->is_string()) return Phase::Pending;
  return parse_phase(phase->get_ref<const std::string&>()).value_or(Phase::Pending);
}

}  // namespace

struct MeshUpgradeController::Impl {
  kubert::KubeApi& api;
  const kubert::Clock& clock;
  kubert::Logger log;
  ControllerOptions opts;
  kubert::WorkQueue queue;
  Catalog builtin_catalog = Catalog::builtin();  // the reconciler's fallback; `catalogs` is what it reads
  CatalogSource catalogs;
  Expectations expectations;
  EventRecorder events;
  std::vector<std::unique_ptr<kubert::Informer>> informers;
  const kubert::Informer* mesh_config_informer = nullptr;  // optional: a cluster without osm-edge has no such CRD
  std::unique_ptr<MeshUpgradeReconciler> reconciler;
  std::unique_ptr<kubert::Controller> controller;

  Impl(kubert::KubeApi& a, const kubert::Clock& c, kubert::Logger l, kubert::WorkQueueMetrics* qm, ControllerOptions o)
      : api(a), clock(c), log(std::move(l)), opts(std::move(o)), queue("meshupgrade", c, qm), events(a, c) {}

  kubert::Informer& informer(const kubert::Gvr& gvr, std::string ns, std::string label_selector,
                             std::function<void(kubert::json&)> transform) {
    kubert::InformerOptions io;
    io.gvr = gvr;
    io.ns = std::move(ns);
    io.label_selector = std::move(label_selector);
    io.transform = std::move(transform);
    informers.push_back(std::make_unique<kubert::Informer>(api, std::move(io), clock, log.named("informer").with({{"resource", gvr.str()}})));
    return *informers.back();
  }

  // A change of anything but a MeshUpgrade concerns the upgrades in hand: requeue those (there are few).
  void requeue_active() {
    for (const auto& mu : informers.front()->store().list()) {
      if (!is_terminal(phase_of(*mu))) queue.add(kubert::ObjectKey::of(*mu).str());
    }
  }
};

MeshUpgradeController::MeshUpgradeController(kubert::KubeApi& api, const kubert::Clock& clock, kubert::Logger log,
                                             kubert::ControllerMetrics& controller_metrics,
                                             kubert::WorkQueueMetrics* queue_metrics, ControllerOptions opts)
    : impl_(std::make_unique<Impl>(api, clock, std::move(log), queue_metrics, std::move(opts))) {
  Impl& m = *impl_;
  auto& mus = m.informer(kMeshUpgrades, m.opts.watch_namespace, "", nullptr);  // first: requeue_active reads it
  auto& control_plane = m.informer(kDeployments, "", std::string(kOsmNameLabel) + "=" + std::string(kOsmNameValue), nullptr);
  auto& cp_pods = m.informer(kPods, "", "app in (osm-bootstrap,osm-controller,osm-injector)", nullptr);
  auto& pull_pods = m.informer(kPods, "", std::string(kPullCheckLabel), nullptr);
  auto& mesh_configs = m.informer(kMeshConfigs, "", "", nullptr);
  m.mesh_config_informer = &mesh_configs;
  auto& namespaces = m.informer(kNamespaces, "", "", keep_namespace_fields);
  // All CRDs, stripped to name and conditions: the multicluster ones of 1.3 carry no osm-edge label.
  auto& crds = m.informer(kCrds, "", "", keep_crd_fields);
  auto& deployments = m.informer(kDeployments, "", "", keep_workload_fields);
  auto& statefulsets = m.informer(kStatefulSets, "", "", keep_workload_fields);
  auto& daemonsets = m.informer(kDaemonSets, "", "", keep_workload_fields);
  auto& meshed_pods = m.informer(kPods, "", std::string(kProxyUuid), keep_pod_fields);
  // The catalog's run-time extension: a change rebuilds it and every MeshUpgrade is looked at again (an
  // UnknownVersion may now be known).
  auto& catalog_maps = m.informer(kConfigMaps, "", std::string(kCatalogLabel) + "=true", nullptr);
  catalog_maps.add_handler([&m, &catalog_maps, &mus](const kubert::json*, const kubert::json*) {
    const std::string problems = m.catalogs.rebuild(catalog_maps.store().list());
    const auto now = m.catalogs.current();
    m.log.info("release catalog rebuilt", {{"releases", now->size()}, {"problems", problems}});
    for (const auto& mu : mus.store().list()) m.queue.add(kubert::ObjectKey::of(*mu).str());
  });

  mus.add_handler(kubert::Controller::enqueue_on_change(m.queue));
  // An upgrade that ends (or goes) frees its mesh: the ones queued behind it (Pending, WaitingForUpgrade) are
  // looked at again at once, not when something else happens to touch them (issue 17).
  mus.add_handler([&m, &mus](const kubert::json* old_obj, const kubert::json* new_obj) {
    if (!old_obj) return;  // a new upgrade frees nothing
    if (new_obj && is_terminal(phase_of(*old_obj)) == is_terminal(phase_of(*new_obj))) return;
    for (const auto& mu : mus.store().list()) {
      if (phase_of(*mu) == Phase::Pending) m.queue.add(kubert::ObjectKey::of(*mu).str());
    }
  });
  for (auto* inf : {&control_plane, &cp_pods, &pull_pods, &mesh_configs, &namespaces, &crds, &deployments,
                    &statefulsets, &daemonsets, &meshed_pods}) {
    inf->add_handler([&m](const kubert::json*, const kubert::json*) { m.requeue_active(); });
  }

  Caches caches;
  caches.mesh_upgrades = &mus.store();
  caches.control_plane = &control_plane.store();
  caches.control_plane_pods = &cp_pods.store();
  caches.pull_check_pods = &pull_pods.store();
  caches.mesh_configs = &mesh_configs.store();
  caches.namespaces = &namespaces.store();
  caches.crds = &crds.store();
  caches.deployments = &deployments.store();
  caches.statefulsets = &statefulsets.store();
  caches.daemonsets = &daemonsets.store();
  caches.meshed_pods = &meshed_pods.store();
  m.reconciler = std::make_unique<MeshUpgradeReconciler>(
      Context{m.api, m.clock, m.builtin_catalog, caches, m.expectations, m.events, m.opts.metrics},
      std::chrono::seconds(1), &m.catalogs);
  if (m.opts.metrics) m.opts.metrics->watch(&mus.store());
  m.controller = std::make_unique<kubert::Controller>(
      "meshupgrade", m.queue, [&m](const kubert::ObjectKey& key) { return m.reconciler->reconcile(key); },
      m.opts.workers, controller_metrics, m.log, m.clock);
}

MeshUpgradeController::~MeshUpgradeController() { stop_informers(); }

void MeshUpgradeController::start_informers() {
  for (auto& inf : impl_->informers) inf->start();
}

bool MeshUpgradeController::has_synced() const {
  for (const auto& inf : impl_->informers) {
    if (inf.get() != impl_->mesh_config_informer && !inf->has_synced()) return false;
  }
  return true;
}

bool MeshUpgradeController::wait_for_sync(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& inf : impl_->informers) {
    if (inf.get() == impl_->mesh_config_informer) continue;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !inf->wait_for_sync(left)) return false;
  }
  return true;
}

void MeshUpgradeController::run(std::stop_token stop) { impl_->controller->run(stop); }

void MeshUpgradeController::stop_informers() {
  for (auto& inf : impl_->informers) inf->stop();
}

}  // namespace meshupgrade
