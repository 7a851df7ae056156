"""Rolling-update invariants watched on every committed change (in-process store, real kubectl to drive):
a Deployment never runs more than replicas+maxSurge pods nor fewer than replicas-maxUnavailable Ready ones,
for integer and percent settings; Recreate never overlaps old and new pods."""
import json
import os
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402

PODS = ("", "v1", "pods")


def manifest(name, replicas, strategy):
    labels = {"app": name}
    return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment",
                       "metadata": {"name": name, "namespace": "default"},
                       "spec": {"replicas": replicas, "strategy": strategy, "selector": {"matchLabels": labels},
                                "template": {"metadata": {"labels": labels},
                                             "spec": {"containers": [{"name": "app", "image": "nginx:latest"}]}}}})


class Watcher:
    """Counts the app's live pods and Ready pods after every pod event, on the store's dispatcher."""

    def __init__(self, store, app):
        self.app = app
        self.live = {}
        self.lock = threading.Lock()
        self.max_live = 0
        self.min_ready = None
        self.hashes_together = 0
        store.subscribe(self.on_event)

    def on_event(self, type_, gvr, obj, old):
        if gvr[2] != "pods" or (obj["metadata"].get("labels") or {}).get("app") != self.app:
            return
        with self.lock:
            uid = obj["metadata"]["uid"]
            if type_ == "DELETED" or obj["metadata"].get("deletionTimestamp"):
                self.live.pop(uid, None)
            else:
                self.live[uid] = obj
            ready = sum(1 for p in self.live.values() if any(
                c.get("type") == "Ready" and c.get("status") == "True" for c in p["status"].get("conditions") or []))
            self.max_live = max(self.max_live, len(self.live))
            if self.armed:
                self.min_ready = ready if self.min_ready is None else min(self.min_ready, ready)
            hashes = {p["metadata"]["labels"].get("pod-template-hash") for p in self.live.values()}
            if len(hashes) > 1:
                self.hashes_together += 1

    armed = False


class Invariants(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.start_in_process(["--ready-delay", "0.05"], with_controllers=True)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def roll(self, name, replicas, strategy):
        w = Watcher(self.sim.store, name)
        self.sim.kubectl("apply", "-f", "-", input=manifest(name, replicas, strategy), check=True)
        cp = self.sim.kubectl("rollout", "status", f"deploy/{name}", "--timeout=90s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        with w.lock:
            w.max_live = 0
            w.hashes_together = 0
            w.armed = True
        self.sim.kubectl("set", "image", f"deploy/{name}", "app=busybox:latest", check=True)
        cp = self.sim.kubectl("rollout", "status", f"deploy/{name}", "--timeout=90s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        d = json.loads(self.sim.kubectl("get", "deploy", name, "-o", "json", check=True).stdout)
        self.assertEqual(replicas, d["status"]["updatedReplicas"])
        return w

    def test_integer_surge_and_unavailable(self):
        w = self.roll("ints", 6, {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 1}})
        self.assertLessEqual(w.max_live, 8)
        self.assertGreaterEqual(w.min_ready, 5)
        self.assertGreater(w.hashes_together, 0)  # old and new ran side by side

    def test_percent_settings_round_surge_up_and_unavailable_down(self):
        # 10 replicas: 25% surge -> 3 (rounded up), 25% unavailable -> 2 (rounded down)
        w = self.roll("pct", 10, {"type": "RollingUpdate",
                                   "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
        self.assertLessEqual(w.max_live, 13)
        self.assertGreaterEqual(w.min_ready, 8)

    def test_recreate_never_overlaps(self):
        w = self.roll("recreate", 3, {"type": "Recreate"})
        self.assertEqual(0, w.hashes_together)
        self.assertEqual(0, w.min_ready)  # everything went down before the new pods came up


if __name__ == "__main__":
    unittest.main()
