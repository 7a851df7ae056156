"""Upgrade paths: 1.1 → 1.2 (CRDs by init container, then by bootstrap itself; new control-plane args via
Manifests), a CLI/image mismatch that rolls back, a new target after success (history), deletion mid-flight."""
import json
import os
import sys
import unittest

import optest

sys.path.insert(0, os.path.join(optest.ROOT, "tests", "kubesim"))
from sim.mesh import chart  # noqa: E402  (the simulator's rendering of a release's chart: our stand-in for `helm template`)


class OneOneToOneTwo(unittest.TestCase):
    def test_images_is_refused_where_the_control_plane_args_change(self):
        # Before issue 12 this path started, crash-looped into FatalInvalidCLIParameters and rolled back; the
        # catalog now knows 1.2's control plane takes flags 1.1's args lack, and the precheck says so first.
        with optest.Env(["--mesh", "v1.1.3", "--meshed-workloads", "2", "--ready-delay", "0.2"]) as env:
            before = {d["metadata"]["name"]: d["metadata"]["resourceVersion"] for d in env.deployments("osm-system")}
            env.apply(optest.meshupgrade("up", "v1.2.3", timeouts={"controlPlane": "60s"}))
            stalled = env.wait_condition("up", "Stalled", timeout=240)
            status = env.mu("up")["status"]
            self.assertEqual(status["phase"], "Failed", json.dumps(status, indent=1))
            self.assertEqual(stalled["reason"], "ManifestsRequired", stalled["message"])
            self.assertIn("--trust-domain", stalled["message"])
            self.assertIn("spec.controlPlane.source: Manifests", stalled["message"])
            after = {d["metadata"]["name"]: d["metadata"]["resourceVersion"] for d in env.deployments("osm-system")}
            self.assertEqual(before, after, "nothing in the mesh changed")

    def test_manifests_bring_the_new_args_and_bootstrap_the_new_crds(self):
        with optest.Env(["--mesh", "v1.1.3", "--meshed-workloads", "2", "--ready-delay", "0.2"]) as env:
            self.assertNotEqual(env.kubectl("get", "crd", "meshrootcertificates.config.openservicemesh.io").returncode, 0)
            docs = "\n---\n".join(json.dumps(d) for d in chart.control_plane("v1.2.3"))
            cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "osm-v1.2.3", "namespace": "osm-system"},
                  "data": {"manifests.yaml": docs}}
            env.apply(json.dumps(cm))
            env.apply(optest.meshupgrade("up", "v1.2.3", controlPlane={"source": "Manifests",
                                                                        "manifestsRef": {"name": "osm-v1.2.3"}}))
            status = env.wait_ready("up", timeout=240)
            self.assertEqual(status["fromVersion"], "v1.1.3")
            self.assertEqual(status["upgradePath"], "Minor")
            # 1.2's bootstrap brought 1.2's CRDs itself.
            crd = env.get("crd", "meshrootcertificates.config.openservicemesh.io")
            self.assertIn("Established", [c["type"] for c in crd["status"]["conditions"] if c["status"] == "True"])
            ctrl = env.get("deployment", "osm-controller", "-n", "osm-system")
            args = [c for c in ctrl["spec"]["template"]["spec"]["containers"] if c["name"] == "osm-controller"][0]["args"]
            self.assertIn("--trust-domain", args)


class History(unittest.TestCase):
    def test_a_new_target_after_success_starts_a_new_upgrade_and_keeps_history(self):
        with optest.Env(["--mesh", "v1.2.3", "--meshed-workloads", "3", "--ready-delay", "0.2"]) as env:
            env.apply(optest.meshupgrade("up", "v1.3.8"))
            env.wait_ready("up", timeout=240)
            env.kubectl("patch", "mu/up", "-n", "osm-system", "--type=merge", "-p", '{"spec":{"targetVersion":"v1.3.9"}}',
                        check=True)
            def second_done():
                st = env.mu("up").get("status", {})
                return st if st.get("toVersion") == "v1.3.9" and st.get("phase") == "Succeeded" else None
            status = optest.wait_for(second_done, timeout=240, what="the second upgrade")
            self.assertEqual(status["fromVersion"], "v1.3.8")
            self.assertEqual(status["history"][-1]["targetVersion"], "v1.3.8")
            self.assertEqual(status["history"][-1]["phase"], "Succeeded")
            self.assertEqual(status["observedGeneration"], 2)


class Deletion(unittest.TestCase):
    def test_deleting_mid_flight_stops_and_leaves_the_mesh_working(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "12", "--namespaces", "2", "--ready-delay", "1"]) as env:
            env.apply(optest.meshupgrade("up", "v1.3.9", sidecar={"maxConcurrent": 2}))
            optest.wait_for(lambda: env.mu("up").get("status", {}).get("workloads", {}).get("restarted", 0) >= 2,
                            timeout=180, what="the rollout under way")
            cp = env.kubectl("delete", "mu/up", "-n", "osm-system", "--timeout=60s")
            self.assertEqual(cp.returncode, 0, cp.stderr)
            self.assertNotEqual(env.kubectl("get", "mu/up", "-n", "osm-system").returncode, 0, "gone")
            def stamped():
                return sum(1 for ns in ("mesh-ns-01", "mesh-ns-02") for d in env.deployments(ns)
                           if "upgrade.flomesh.io/restarted-by" in d["metadata"].get("annotations", {}))
            held = stamped()
            self.assertLess(held, 12)
            # The mesh keeps working: every workload rolls out to Available.
            for ns in ("mesh-ns-01", "mesh-ns-02"):
                cp = env.kubectl("wait", "--for=condition=Available", "deployment", "--all", "-n", ns, "--timeout=120s")
                self.assertEqual(cp.returncode, 0, cp.stderr)
            self.assertEqual(stamped(), held, "no restart after deletion")
            events = env.kubectl("get", "events", "-n", "osm-system", check=True).stdout
            self.assertIn("Deleted", events)


if __name__ == "__main__":
    unittest.main()
