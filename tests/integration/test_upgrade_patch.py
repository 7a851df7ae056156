"""End to end: one kubectl apply upgrades a seeded v1.3.8 mesh to v1.3.9, control plane and sidecars."""
import json
import os
import unittest

import optest

TARGET_SIDECAR = "flomesh/pipy:0.90.3-38"
with open(os.path.join(optest.ROOT, "controllers", "mesh_upgrade", "releases.json")) as _f:
    # --osm-version as v1.3.9's published chart renders it (its appVersion, "1.3.9")
    TARGET_APP_VERSION = next(r for r in json.load(_f)["releases"] if r["version"] == "v1.3.9")["chart"]["appVersion"]


class PatchUpgrade(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.env = optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "50", "--namespaces", "5",
                              "--ready-delay", "0.2"])

    @classmethod
    def tearDownClass(cls):
        cls.env.close()

    def test_upgrade(self):
        env = self.env
        env.apply(optest.meshupgrade("osm-upgrade", "v1.3.9", sidecar={"maxConcurrent": 10}))
        cp = env.kubectl("wait", "--for=condition=Ready", "mu/osm-upgrade", "-n", "osm-system", "--timeout=300s")
        status = env.mu("osm-upgrade")["status"]
        self.assertEqual(cp.returncode, 0, f"{cp.stderr}\n{json.dumps(status, indent=1)}\n{env.log_tail()}")

        self.assertEqual(status["phase"], "Succeeded")
        self.assertEqual(status["fromVersion"], "v1.3.8")
        self.assertEqual(status["toVersion"], "v1.3.9")
        self.assertEqual(status["upgradePath"], "Patch")
        self.assertEqual(status["observedGeneration"], 1)
        conditions = {c["type"]: c for c in status["conditions"]}
        for ctype in ("PrecheckPassed", "CRDsUpdated", "ControlPlaneUpgraded", "SidecarsUpgraded", "Verified", "Ready"):
            self.assertEqual(conditions[ctype]["status"], "True", ctype)
        self.assertNotIn("Stalled", conditions)
        self.assertNotIn("Reconciling", conditions)
        self.assertEqual(status["workloads"]["total"], 50)
        self.assertEqual(status["progress"], "50/50")
        self.assertTrue(status["plan"], "the precheck writes its plan")

        # The control plane runs the target images, with the target version argument.
        for d in env.deployments("osm-system"):
            for c in d["spec"]["template"]["spec"]["containers"]:
                if "osm-edge-" in c["image"]:
                    self.assertTrue(c["image"].endswith(":1.3.9"), c["image"])
                    if "--osm-version" in c.get("args", []):
                        self.assertEqual(c["args"][c["args"].index("--osm-version") + 1], TARGET_APP_VERSION)
        mc = env.get("meshconfig", "osm-mesh-config", "-n", "osm-system")
        self.assertEqual(mc["spec"]["sidecar"]["sidecarImage"], TARGET_SIDECAR)

        # Every meshed pod runs the target sidecar and is ready; each workload was restarted exactly once.
        pods = env.get("pods", "-A", "-l", "osm-proxy-uuid")["items"]
        self.assertGreaterEqual(len(pods), 50)
        for p in pods:
            sidecar = [c for c in p["spec"]["containers"] if c["name"] == "sidecar"][0]
            self.assertEqual(sidecar["image"], TARGET_SIDECAR, p["metadata"]["name"])
        for i in range(1, 6):
            for d in env.deployments(f"mesh-ns-{i:02d}"):
                rev = d["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                self.assertEqual(rev, "2", f"{d['metadata']['name']} restarted {int(rev) - 1} times")
                self.assertIn("upgrade.flomesh.io/restarted-by", d["metadata"]["annotations"])

        # The printer columns.
        out = env.kubectl("get", "mu", "-n", "osm-system", check=True).stdout
        header = out.splitlines()[0].split()
        self.assertEqual(header, ["NAME", "MESH", "FROM", "TO", "PHASE", "PROGRESS", "READY", "AGE"])
        row = out.splitlines()[1].split()
        self.assertEqual(row[1:7], ["osm", "v1.3.8", "v1.3.9", "Succeeded", "50/50", "True"])

        # Left as it is: a reconcile of the finished object writes nothing (the annotation triggers one;
        # the reconcile counter says when it has run).
        op = env.operators[0]
        done_before = optest.reconcile_count(op)
        env.sim.reset_stats()
        env.kubectl("annotate", "mu/osm-upgrade", "-n", "osm-system", "touch=1", check=True)
        optest.wait_for(lambda: optest.reconcile_count(op) > done_before, timeout=30, what="a reconcile")
        writes = {k: v for k, v in env.sim.stats()["requests"].items()
                  if k.split()[0] in ("create", "update", "patch", "delete") and "events" not in k}
        self.assertEqual(writes, {"patch meshupgrades": 1}, "only kubectl's annotate writes")

if __name__ == "__main__":
    unittest.main()
