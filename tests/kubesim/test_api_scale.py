"""Scale: 10,000 Deployments loaded through the store list with kubectl within a minute; 1,000 concurrent
watchers each receive every event."""
import http.client
import json
import os
import resource
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402

DEPLOYMENTS = ("apps", "v1", "deployments")


def deployment(name, ns="default"):
    labels = {"app": name}
    return {"metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]}}}}


class ScaleTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # 1,000 watchers need 2,000 descriptors here (client and server ends): lift the soft limit.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 8192 if hard == resource.RLIM_INFINITY else min(8192, hard)
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        cls.sim = simtest.start_in_process()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_ten_thousand_deployments_load_and_list_within_a_minute(self):
        start = time.monotonic()
        store = self.sim.store
        store.create(("", "v1", "namespaces"), {"metadata": {"name": "bulk"}})
        for i in range(10000):
            store.create_ref(DEPLOYMENTS, deployment(f"d{i:05d}", "bulk"))
        cp = self.sim.kubectl("get", "deployments", "-n", "bulk", "--no-headers", timeout=60)
        elapsed = time.monotonic() - start
        self.assertEqual(cp.returncode, 0, cp.stderr)
        lines = cp.stdout.splitlines()
        self.assertEqual(len(lines), 10000)
        self.assertTrue(lines[0].startswith("d00000 "), lines[0])
        self.assertTrue(lines[-1].startswith("d09999 "), lines[-1])
        self.assertLess(elapsed, 60.0)
        # a raw paginated list walks all of them exactly once
        seen, cont = 0, ""
        while True:
            status, body, _ = self.sim.request(
                "GET", f"/apis/apps/v1/namespaces/bulk/deployments?limit=2500&continue={cont}")
            self.assertEqual(status, 200)
            seen += len(body["items"])
            cont = body["metadata"].get("continue", "")
            if not cont:
                break
        self.assertEqual(seen, 10000)

    def test_requests_on_a_kept_alive_connection_are_cheap(self):
        # 500 round trips: ~0.3 s normally; 20 s if Nagle and delayed ACKs came back (40 ms each).
        conn = self.sim.connection()
        start = time.monotonic()
        for _ in range(500):
            conn.request("GET", "/api/v1/namespaces/default")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        conn.close()
        self.assertLess(time.monotonic() - start, 10.0)

    def test_thousand_watchers_get_every_event(self):
        # Served by the real executable, so that the watchers' client threads do not share its interpreter.
        sim = simtest.start()
        try:
            self._thousand_watchers(sim)
        finally:
            sim.stop()

    def _thousand_watchers(self, sim):
        status, _, _ = sim.request("POST", "/api/v1/namespaces", {"metadata": {"name": "watched"}})
        self.assertEqual(status, 201)
        status, body, _ = sim.request("GET", "/api/v1/namespaces/watched/configmaps")
        rv = body["metadata"]["resourceVersion"]
        n_watchers, n_events = 1000, 20
        ctx = sim.ssl_context()
        connected = threading.Semaphore(0)
        results = [None] * n_watchers
        errors = []

        def watch(i):
            try:
                conn = http.client.HTTPSConnection("127.0.0.1", sim.port, context=ctx, timeout=120)
                conn.request("GET", f"/api/v1/namespaces/watched/configmaps?watch=true&resourceVersion={rv}"
                                    "&timeoutSeconds=120")
                resp = conn.getresponse()
                connected.release()
                names = []
                while len(names) < n_events:
                    line = resp.readline()
                    if not line:
                        break
                    ev = json.loads(line)
                    if ev["type"] == "ADDED":
                        names.append(ev["object"]["metadata"]["name"])
                results[i] = names
                conn.close()
            except Exception as e:  # noqa: BLE001 - reported by the assertion below
                errors.append(repr(e))
                connected.release()

        threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(n_watchers)]
        for t in threads:
            t.start()
        for _ in range(n_watchers):
            self.assertTrue(connected.acquire(timeout=120), "watchers did not connect in time")
        # Events are created after every watcher is connected, and also replayed from `rv` for any that were late.
        for i in range(n_events):
            status, _, _ = sim.request("POST", "/api/v1/namespaces/watched/configmaps",
                                       {"metadata": {"name": f"cm{i:02d}"}, "data": {"i": str(i)}})
            self.assertEqual(status, 201)
        deadline = time.monotonic() + 120
        for t in threads:
            t.join(max(0.1, deadline - time.monotonic()))
        self.assertEqual(errors, [])
        want = [f"cm{i:02d}" for i in range(n_events)]
        got_all = sum(1 for r in results if r == want)
        self.assertEqual(got_all, n_watchers)


if __name__ == "__main__":
    unittest.main(verbosity=2)
