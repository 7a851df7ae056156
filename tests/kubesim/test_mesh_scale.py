"""10,000 meshed workloads seed within a minute: kubectl lists them all, each pod carries the sidecar, and a
restart still rolls at that size."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402


class TenThousandWorkloads(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        start = time.monotonic()
        cls.sim = simtest.start(["--mesh", "v1.3.9", "--meshed-workloads", "10000", "--namespaces", "10",
                                 "--ready-delay", "0"], timeout=120)
        cls.startup = time.monotonic() - start

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_seeded_within_a_minute_and_listed(self):
        self.assertLess(self.startup, 60.0)
        out = self.sim.kubectl("get", "deploy", "-A", "--no-headers", check=True, timeout=120).stdout
        lines = out.splitlines()
        self.assertEqual(10003, len(lines))
        self.assertEqual(1000, sum(1 for line in lines if line.startswith("mesh-ns-07 ")))

    def test_every_pod_of_a_namespace_runs_the_sidecar(self):
        out = self.sim.kubectl("get", "pods", "-n", "mesh-ns-03", "-o",
                               "jsonpath={range .items[*]}{.spec.containers[1].image}{\"\\n\"}{end}",
                               check=True, timeout=120).stdout.split()
        self.assertEqual(1000, len(out))
        self.assertEqual({"flomesh/pipy:0.90.3-38"}, set(out))

    def test_a_restart_rolls_at_this_size(self):
        self.sim.kubectl("rollout", "restart", "deploy/app-09999", "-n", "mesh-ns-09", check=True)
        cp = self.sim.kubectl("rollout", "status", "deploy/app-09999", "-n", "mesh-ns-09", "--timeout=60s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        rs = json.loads(self.sim.kubectl("get", "rs", "-n", "mesh-ns-09", "-l", "app=app-09999", "-o", "json",
                                         check=True).stdout)["items"]
        self.assertEqual([0, 1], sorted(r["spec"]["replicas"] for r in rs))


if __name__ == "__main__":
    unittest.main()
