// The reconciler against an in-memory API: status written only on change, restarts never repeated.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/names.h"
#include "controllers/mesh_upgrade/reconciler.h"
#include "controllers/mesh_upgrade/transforms.h"
#include "support/fake_clock.h"
#include "support/fake_kube_api.h"

using namespace meshupgrade;
using nlohmann::json;

namespace {

constexpr const char* kOldSidecar = "flomesh/pipy:0.90.2-14";
constexpr const char* kNewSidecar = "flomesh/pipy:0.90.3-38";

json control_plane(const std::string& name) {
  return {{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "osm-system"}, {"generation", 2},
                        {"labels", {{"app", name}, {"meshName", "osm"}, {"app.kubernetes.io/name", "openservicemesh.io"}}}}},
          {"spec", {{"replicas", 1}, {"template", {{"spec", {{"containers", {{{"name", name}, {"image", "flomesh/osm-edge-" + name.substr(4) + ":1.3.9"}}}}}}}}}},
          {"status", {{"observedGeneration", 2}, {"replicas", 1}, {"updatedReplicas", 1}, {"availableReplicas", 1}}}};
}

json workload(const std::string& name) {
  return {{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
          {"metadata", {{"name", name}, {"namespace", "mesh"}, {"generation", 1}}},
          {"spec", {{"replicas", 1}, {"template", {{"spec", {{"containers", json::array()}}}}}}},
          {"status", {{"observedGeneration", 1}, {"replicas", 1}, {"updatedReplicas", 1}, {"availableReplicas", 1}}}};
}

json pod(const std::string& workload, const std::string& sidecar) {
  return {{"apiVersion", "v1"}, {"kind", "Pod"},
          {"metadata", {{"name", workload + "-abc-1"}, {"namespace", "mesh"},
                        {"labels", {{"pod-template-hash", "abc"}, {"osm-proxy-uuid", "x"}}},
                        {"ownerReferences", {{{"kind", "ReplicaSet"}, {"name", workload + "-abc"}, {"controller", true}}}}}},
          {"spec", {{"containers", {{{"name", "sidecar"}, {"image", sidecar}}}}}},
          {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
}

// A MeshUpgrade in the middle of its sidecar rollout, as an earlier reconcile left it.
json rolling_upgrade() {
  return {{"apiVersion", "upgrade.flomesh.io/v1alpha1"}, {"kind", "MeshUpgrade"},
          {"metadata", {{"name", "up"}, {"namespace", "osm-system"}, {"uid", "u-1"}, {"generation", 1},
                        {"finalizers", {kFinalizer}}}},
          {"spec", {{"targetVersion", "v1.3.9"}, {"sidecar", {{"maxConcurrent", 10}}}}},
          {"status", {{"phase", "RollingSidecars"}, {"fromVersion", "v1.3.8"}, {"toVersion", "v1.3.9"},
                      {"observedGeneration", 1},
                      {"attempt", {{"generation", 1}, {"target", "v1.3.9|||"}}},
                      {"previousImages", {{"deployments", json::object()}, {"sidecarImage", kOldSidecar}}},
                      {"steps", {{{"name", "Precheck"}, {"state", "Succeeded"}},
                                 {{"name", "RollSidecars"}, {"state", "Running"}, {"startedAt", "2027-01-15T08:00:00Z"}}}}}}};
}

// The API and caches an informer would keep in step with it.
struct World {
  kubert::FakeKubeApi api;
  kubert::FakeClock clock;
  Catalog catalog = Catalog::builtin();
  kubert::Store mus, cp, cp_pods, pull, mcs, nss, crds, deps, sts, dss, pods;
  EventRecorder events{api, clock};

  World() {
    api.put(kMeshUpgrades, rolling_upgrade());
    for (const char* n : {"osm-bootstrap", "osm-controller", "osm-injector"}) api.put(kDeployments, control_plane(n));
    api.put(kMeshConfigs, {{"apiVersion", "config.openservicemesh.io/v1alpha2"}, {"kind", "MeshConfig"},
                           {"metadata", {{"name", "osm-mesh-config"}, {"namespace", "osm-system"}}},
                           {"spec", {{"sidecar", {{"sidecarImage", kNewSidecar}}}}}});
    api.put(kNamespaces, {{"apiVersion", "v1"}, {"kind", "Namespace"},
                          {"metadata", {{"name", "mesh"}, {"labels", {{std::string(kMonitoredBy), "osm"}}}}}});
    for (const char* w : {"a", "b", "c"}) {
      api.put(kDeployments, workload(w));
      api.put(kPods, pod(w, kOldSidecar));
    }
    sync();
  }

  // What the informers would have after delivering every change so far.
  void sync() {
    auto fill = [&](kubert::Store& store, const kubert::Gvr& gvr, void (*transform)(json&), const char* label = nullptr) {
      for (const auto& key : store.keys()) {
        auto slash = key.find('/');
        store.remove(slash == std::string::npos ? "" : key.substr(0, slash), key.substr(slash == std::string::npos ? 0 : slash + 1));
      }
      const json list = api.list(gvr, "", {});
      for (json item : list["items"]) {
        if (label && !item["metadata"].value("labels", json::object()).contains(label)) continue;
        if (transform) transform(item);
        store.upsert(std::make_shared<const json>(std::move(item)));
      }
    };
    fill(mus, kMeshUpgrades, nullptr);
    fill(cp, kDeployments, nullptr, "app.kubernetes.io/name");
    fill(mcs, kMeshConfigs, nullptr);
    fill(nss, kNamespaces, keep_namespace_fields);
    fill(deps, kDeployments, keep_workload_fields);
    fill(pods, kPods, keep_pod_fields, "osm-proxy-uuid");
  }

  Caches caches() {
    Caches c;
    c.mesh_upgrades = &mus;
    c.control_plane = &cp;
    c.control_plane_pods = &cp_pods;
    c.pull_check_pods = &pull;
    c.mesh_configs = &mcs;
    c.namespaces = &nss;
    c.crds = &crds;
    c.deployments = &deps;
    c.statefulsets = &sts;
    c.daemonsets = &dss;
    c.meshed_pods = &pods;
    return c;
  }

  std::vector<std::string> restarts() const {
    std::vector<std::string> out;
    for (const auto& w : api.writes()) {
      if (w.verb == "patch" && w.ref.gvr == kDeployments && w.body.contains("spec")) out.push_back(w.ref.name);
    }
    return out;
  }
  std::size_t status_writes() const {
    std::size_t n = 0;
    for (const auto& w : api.writes()) n += w.verb.rfind("update_status", 0) == 0 || w.verb.rfind("patch_status", 0) == 0;
    return n;
  }
};

const kubert::ObjectKey kKey{"osm-system", "up"};

}  // namespace

TEST_CASE("workloads on another sidecar are restarted once, stamped with the attempt") {
  World w;
  Expectations expectations;
  MeshUpgradeReconciler r(Context{w.api, w.clock, w.catalog, w.caches(), expectations, w.events});
  r.reconcile(kKey);
  REQUIRE(w.restarts() == std::vector<std::string>{"a", "b", "c"});
  const auto stamped = w.api.peek({kDeployments, "mesh", "a"});
  REQUIRE(stamped);
  CHECK((*stamped)["metadata"]["annotations"][std::string(kRestartedBy)] == "u-1.1");
  CHECK((*stamped)["spec"]["template"]["metadata"]["annotations"].contains(std::string(kKubectlRestartedAt)));
}

TEST_CASE("a reconcile that runs before the watch shows our restarts does not restart again (issue 6)") {
  World w;
  Expectations expectations;
  MeshUpgradeReconciler r(Context{w.api, w.clock, w.catalog, w.caches(), expectations, w.events});
  r.reconcile(kKey);
  w.api.clear_writes();
  // Caches not synced: they still show the workloads unstamped (and our object at its old resourceVersion, so
  // its status write loses with 409 and the reconcile is retried: that is fine, a restart would not be).
  try {
    r.reconcile(kKey);
  } catch (const kubert::ApiError& e) {
    CHECK(e.is_conflict());
  }
  CHECK(w.restarts().empty());
}

TEST_CASE("a restarted operator does not restart a stamped workload again (issue 6)") {
  World w;
  {
    Expectations expectations;
    MeshUpgradeReconciler r(Context{w.api, w.clock, w.catalog, w.caches(), expectations, w.events});
    r.reconcile(kKey);
  }
  w.api.clear_writes();
  w.sync();  // a new process lists everything, stamps included
  Expectations fresh;
  MeshUpgradeReconciler r(Context{w.api, w.clock, w.catalog, w.caches(), fresh, w.events});
  r.reconcile(kKey);
  CHECK(w.restarts().empty());
}

TEST_CASE("status is written once per change and not at all when nothing changed") {
  World w;
  Expectations expectations;
  MeshUpgradeReconciler r(Context{w.api, w.clock, w.catalog, w.caches(), expectations, w.events}, std::chrono::milliseconds(0));
  r.reconcile(kKey);
  CHECK(w.status_writes() == 1);
  // Each write is one change; with the world still, the reconciles converge to writing nothing.
  int rounds = 0;
  do {
    w.sync();
    w.api.clear_writes();
    r.reconcile(kKey);
  } while (w.status_writes() > 0 && ++rounds < 5);
  CHECK(rounds < 5);
  w.sync();
  w.api.clear_writes();
  r.reconcile(kKey);  // same observation, same status
  CHECK(w.status_writes() == 0);
  CHECK(w.restarts().empty());
}

TEST_CASE("a progress-only change within the interval waits and asks to come back") {
  World w;
  Expectations expectations;
  MeshUpgradeReconciler r(Context{w.api, w.clock, w.catalog, w.caches(), expectations, w.events}, std::chrono::seconds(5));
  r.reconcile(kKey);
  w.sync();
  w.api.clear_writes();
  // One workload becomes ready on the new sidecar: only counts change.
  json p = pod("a", kNewSidecar);
  p["metadata"]["name"] = "a-def-1";
  w.api.remove({kPods, "mesh", "a-abc-1"});
  w.api.put(kPods, p);
  w.sync();
  const auto result = r.reconcile(kKey);
  CHECK(w.status_writes() == 0);
  REQUIRE(result.requeue_after);
  CHECK(*result.requeue_after <= std::chrono::seconds(5));
  w.clock.advance(std::chrono::seconds(6));
  r.reconcile(kKey);
  CHECK(w.status_writes() == 1);
}

TEST_CASE("a fresh MeshUpgrade gets the finalizer and nothing else in its first reconcile") {
  World w;
  json mu = rolling_upgrade();
  mu["metadata"].erase("finalizers");
  mu.erase("status");
  w.api.put(kMeshUpgrades, mu);
  w.sync();
  Expectations expectations;
  MeshUpgradeReconciler r(Context{w.api, w.clock, w.catalog, w.caches(), expectations, w.events});
  r.reconcile(kKey);
  const auto writes = w.api.writes();
  REQUIRE(writes.size() == 1);
  CHECK(writes[0].verb == "patch");
  CHECK(writes[0].body["metadata"]["finalizers"] == json::array({kFinalizer}));
}
