"""Precheck refusals: each gives its reason, and a refused upgrade changes nothing in the mesh."""
import json
import unittest

import optest

MESH_KINDS = "deployments,replicasets,services,configmaps,secrets,serviceaccounts,namespaces,customresourcedefinitions"


def mesh_versions(env):
    """Every object of the mesh and the cluster with its resourceVersion (events and MeshUpgrades aside).
    Pods change by themselves (a kubelet's restarts): for them, identity and spec count."""
    items = env.get(MESH_KINDS, "-A")["items"]
    if env.kubectl("get", "crd", "meshconfigs.config.openservicemesh.io").returncode == 0:
        items += env.get("meshconfigs", "-A")["items"]
    out = {f"{o['kind']} {o['metadata'].get('namespace', '')}/{o['metadata']['name']}": o["metadata"]["resourceVersion"]
           for o in items}
    for p in env.get("pods", "-A")["items"]:
        out[f"Pod {p['metadata']['namespace']}/{p['metadata']['name']}"] = (
            p["metadata"]["uid"], json.dumps(p["spec"]["containers"], sort_keys=True))
    return out


class Precheck(unittest.TestCase):
    def refused(self, sim_args, reason, prepare=None, after=None, **spec):
        with optest.Env(sim_args) as env:
            if prepare:
                prepare(env)
            before = mesh_versions(env)
            env.apply(optest.meshupgrade("up", spec.pop("target", "v1.3.9"), **spec))
            stalled = env.wait_condition("up", "Stalled", timeout=120)
            self.assertEqual(stalled["reason"], reason, stalled["message"])
            self.assertTrue(stalled["message"])
            status = env.mu("up")["status"]
            self.assertEqual(status["observedGeneration"], 1)
            ready = [c for c in status["conditions"] if c["type"] == "Ready"][0]
            self.assertEqual(ready["status"], "False")
            self.assertNotIn("Reconciling", [c["type"] for c in status["conditions"]])
            now = mesh_versions(env)
            self.assertEqual({k: v for k, v in now.items() if before.get(k) != v}, {},
                             "a refused upgrade changes nothing in the mesh")
            if after:
                after(env)
            return stalled

    def test_downgrade_is_refused(self):
        stalled = self.refused(["--mesh", "v1.3.9"], "UnsupportedUpgradePath", target="v1.3.8")
        self.assertIn("allowDowngrade", stalled["message"])

    def test_missing_mesh(self):
        def namespace(env):
            env.kubectl("create", "namespace", "osm-system", check=True)
        stalled = self.refused([], "MeshNotFound", prepare=namespace)
        self.assertIn("osm-controller", stalled["message"])

    def test_unknown_version(self):
        stalled = self.refused(["--mesh", "v1.3.8"], "UnknownVersion", target="v1.9.0")
        self.assertIn("v1.3.9", stalled["message"], "the message lists the known releases")

    def test_unpullable_tag(self):
        def no_pull_check_pod(env):
            pods = env.get("pods", "-n", "osm-system", "-l", "upgrade.flomesh.io/pull-check")["items"]
            self.assertEqual(pods, [], "the pull-check pod is removed")
        stalled = self.refused(["--mesh", "v1.3.8"], "ImagesNotPullable", after=no_pull_check_pod,
                               containerRegistry="flomesh", imageTag="9.9.9")
        self.assertIn("osm-edge-controller:9.9.9", stalled["message"])

    def test_insufficient_cpu(self):
        def scale(env):
            env.kubectl("scale", "deployment/osm-controller", "-n", "osm-system", "--replicas=2", check=True)
            optest.wait_for(lambda: "Insufficient cpu" in env.kubectl(
                "get", "events", "-n", "osm-system").stdout, timeout=60, what="FailedScheduling")
        stalled = self.refused(["--mesh", "v1.3.8", "--node-cpu", "1.2"], "InsufficientCPU", prepare=scale)
        self.assertIn("Insufficient cpu", stalled["message"])

    def test_fatal_invalid_cli_parameters(self):
        def break_injector(env):
            env.kubectl("set", "env", "deployment/osm-injector", "-n", "osm-system", "OSM_DEFAULT_INIT_CONTAINER_IMAGE-",
                        check=True)
            optest.wait_for(lambda: "FatalInvalidCLIParameters" in env.kubectl(
                "get", "events", "-n", "osm-system").stdout, timeout=60, what="the crash")
        stalled = self.refused(["--mesh", "v1.3.8"], "FatalInvalidCLIParameters", prepare=break_injector)
        self.assertIn("--init-container-image", stalled["message"])
        self.assertIn("spec.imageTag", stalled["message"])


class InvalidSpec(unittest.TestCase):
    def test_the_api_server_refuses_an_invalid_spec(self):
        with optest.Env(["--mesh", "v1.3.8"], start_operator=False) as env:
            cases = [({"targetVersion": "latest"}, "spec.targetVersion"),
                     ({"targetVersion": "v1.3.9", "imageTag": "1.3.9"}, "containerRegistry and imageTag"),
                     ({"targetVersion": "v1.3.9", "crds": {"source": "Helm"}}, "spec.crds.source"),
                     ({"targetVersion": "v1.3.9", "sidecar": {"failureThreshold": 0}}, "spec.sidecar.failureThreshold")]
            for spec, field in cases:
                body = json.dumps({"apiVersion": "upgrade.flomesh.io/v1alpha1", "kind": "MeshUpgrade",
                                   "metadata": {"name": "bad", "namespace": "osm-system"}, "spec": spec})
                cp = env.apply(body, check=False)
                self.assertNotEqual(cp.returncode, 0, spec)
                self.assertIn(field, cp.stderr, cp.stderr)

    def test_mesh_name_is_immutable(self):
        with optest.Env(["--mesh", "v1.3.8"], start_operator=False) as env:
            env.apply(optest.meshupgrade("up", "v1.3.9", dryRun=True))
            cp = env.kubectl("patch", "mu/up", "-n", "osm-system", "--type=merge", "-p", '{"spec":{"meshName":"other"}}')
            self.assertNotEqual(cp.returncode, 0)
            self.assertIn("immutable", cp.stderr)


class DryRun(unittest.TestCase):
    def test_dry_run_writes_only_its_plan(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "4", "--namespaces", "2"]) as env:
            before = mesh_versions(env)
            env.apply(optest.meshupgrade("up", "v1.3.9", dryRun=True))
            ready = env.wait_condition("up", "Ready", timeout=120)
            self.assertEqual(ready["reason"], "DryRun")
            status = env.mu("up")["status"]
            fields = {(p["object"], p["field"]) for p in status["plan"]}
            self.assertIn(("Deployment osm-system/osm-controller",
                           "spec.template.spec.containers[osm-controller].image"), fields)
            self.assertIn(("MeshConfig osm-system/osm-mesh-config", "spec.sidecar.sidecarImage"), fields)
            changed = {k for k, v in mesh_versions(env).items() if before.get(k) != v}
            self.assertEqual(changed, set(), "dry run changes nothing")


class TwoUpgrades(unittest.TestCase):
    def test_the_second_upgrade_of_a_mesh_waits(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "4", "--ready-delay", "3"]) as env:
            env.apply(optest.meshupgrade("first", "v1.3.9", suspend=False))
            env.wait_condition("first", "PrecheckPassed", timeout=120)
            env.apply(optest.meshupgrade("second", "v1.3.9"))
            waiting = env.wait_condition("second", "Reconciling", timeout=60)
            self.assertEqual(waiting["reason"], "WaitingForUpgrade", waiting["message"])
            self.assertIn("first", waiting["message"])
            self.assertEqual(env.mu("second")["status"]["phase"], "Pending")


if __name__ == "__main__":
    unittest.main()
