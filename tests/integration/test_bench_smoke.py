"""bench/run works: one small scenario (N=20, D=0, C=10) of both procedures, JSON and Markdown checked."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OPERATOR_BIN = os.environ.get("OPERATOR_BIN") or os.path.join(ROOT, "build", "test", "meshupgrade-operator")

KEYS = ("n", "ready_delay_s", "concurrency", "operator_s", "kubectl_s", "bound_s", "operator_writes_per_workload",
        "operator_requests_per_workload", "kubectl_requests_per_workload", "operator_peak_rss_mib", "status_writes",
        "operator_requests_by_verb", "kubectl_requests_by_verb", "operator_cpu_s", "operator_idle_rss_mib",
        "first_restart_s", "sim_cpu_s_operator", "sim_cpu_s_kubectl")


class BenchSmoke(unittest.TestCase):
    def test_one_small_scenario(self):
        with tempfile.TemporaryDirectory(prefix="bench-smoke-") as tmp:
            out = os.path.join(tmp, "r.json")
            cp = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "run"), "--n", "20", "--ready-delay", "0",
                                 "--concurrency", "10", "--no-memory-rows", "--no-plot", "--out", out,
                                 "--operator-bin", OPERATOR_BIN],
                                capture_output=True, text=True, timeout=300)
            self.assertEqual(cp.returncode, 0, cp.stderr[-3000:])
            with open(out) as f:
                rows = json.load(f)
            self.assertEqual(len(rows), 1, rows)
            r = rows[0]
            for k in KEYS:
                self.assertIn(k, r)
            self.assertIsNone(r["operator_error"], r["operator_error"])
            self.assertIsNone(r["kubectl_error"], r["kubectl_error"])
            self.assertEqual((r["n"], r["ready_delay_s"], r["concurrency"], r["bound_s"]), (20, 0, 10, 0))
            self.assertGreater(r["operator_s"], 0)
            self.assertGreater(r["kubectl_s"], 0)
            self.assertEqual(r["kubectl_workloads"], 20)
            # Every workload restarted once by each procedure: at least one patch per workload.
            self.assertGreaterEqual(r["operator_requests_by_verb"].get("patch", 0), 20)
            self.assertGreaterEqual(r["kubectl_requests_by_verb"].get("patch", 0), 20)
            self.assertGreaterEqual(r["operator_writes_per_workload"], 1.0)
            self.assertLess(r["operator_writes_per_workload"], 5.0)
            self.assertGreater(r["kubectl_requests_per_workload"], r["kubectl_writes_per_workload"])
            self.assertGreater(r["status_writes"], 0)
            self.assertGreater(r["operator_peak_rss_mib"], 1)
            self.assertGreaterEqual(r["operator_peak_rss_mib"], r["operator_idle_rss_mib"])
            self.assertIsNotNone(r["first_restart_s"])
            self.assertLessEqual(r["first_restart_s"], r["operator_s"])
            with open(os.path.join(tmp, "r.md")) as f:
                md = f.read()
            self.assertIn("| 20 | 0 | 10 |", md)
            self.assertIn("Targets (DESIGN §5)", md)


if __name__ == "__main__":
    unittest.main()
