"""--fault SPEC: one test per fault kind (latency, error with Retry-After, watch-close, gone-on-resume,
conflict), targeting, and that /kubesim/* is never hit."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402


class FaultTest(unittest.TestCase):
    def start(self, *faults):
        args = []
        for f in faults:
            args += ["--fault", f]
        sim = simtest.start(args)
        self.addCleanup(sim.stop)
        return sim

    def test_latency_delays_matching_requests_only(self):
        sim = self.start("latency=400ms:configmaps")
        t = time.monotonic()
        status, _, _ = sim.request("GET", "/api/v1/namespaces/default/configmaps")
        slow = time.monotonic() - t
        self.assertEqual(status, 200)
        self.assertGreaterEqual(slow, 0.4)
        t = time.monotonic()
        sim.request("GET", "/api/v1/namespaces/default/secrets")
        sim.request("GET", "/kubesim/stats")
        self.assertLess(time.monotonic() - t, 0.4 * 2)

    def test_error_503_for_a_resource_with_retry_after(self):
        sim = self.start("error=503:1.0:configmaps")
        status, body, headers = sim.request("GET", "/api/v1/namespaces/default/configmaps")
        self.assertEqual(status, 503)
        self.assertEqual(body["reason"], "ServiceUnavailable")
        self.assertEqual(headers.get("Retry-After"), "1")
        status, _, _ = sim.request("GET", "/api/v1/namespaces/default/secrets")
        self.assertEqual(status, 200)
        cp = sim.kubectl("get", "configmaps", "--request-timeout=20s", timeout=120)
        self.assertNotEqual(cp.returncode, 0)
        self.assertGreaterEqual(sim.stats()["by_verb_resource_code"].get("list configmaps 503", 0), 1)

    def test_error_429_ratio_and_verb_target(self):
        sim = self.start("error=429:0.5:configmaps:verb=create:retry-after=2", "seed=7")
        codes = []
        for i in range(40):
            status, _, headers = sim.request("POST", "/api/v1/namespaces/default/configmaps",
                                             {"metadata": {"name": f"c{i}"}})
            codes.append(status)
            if status == 429:
                self.assertEqual(headers.get("Retry-After"), "2")
        self.assertTrue(5 <= codes.count(429) <= 35, codes)
        self.assertEqual(set(codes), {201, 429})
        status, _, _ = sim.request("GET", "/api/v1/namespaces/default/configmaps")   # other verbs untouched
        self.assertEqual(status, 200)
        # kubectl retries 429 with Retry-After, so it eventually succeeds
        cp = sim.kubectl("create", "configmap", "through-kubectl", timeout=120)
        self.assertEqual(cp.returncode, 0, cp.stderr)

    def test_watch_close_ends_watches(self):
        sim = self.start("watch-close=1s")
        t = time.monotonic()
        conn, resp = sim.stream("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=60")
        try:
            resp.read()
            self.assertLess(time.monotonic() - t, 10)
        finally:
            conn.close()

    def test_gone_on_resume(self):
        sim = self.start("gone-on-resume:configmaps")
        rv = sim.request("GET", "/api/v1/namespaces/default/configmaps")[1]["metadata"]["resourceVersion"]
        conn, resp = sim.stream(f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}"
                                "&timeoutSeconds=1")
        try:
            first = resp.readline()
            self.assertEqual(first, b"")   # nothing changed since rv: the watch is served normally
        finally:
            conn.close()
        sim.request("POST", "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "changed"}})
        conn, resp = sim.stream(f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}")
        try:
            import json
            ev = json.loads(resp.readline())
            self.assertEqual((ev["type"], ev["object"]["code"]), ("ERROR", 410))
        finally:
            conn.close()

    def test_conflict_on_updates(self):
        sim = self.start("conflict=1.0:configmaps")
        self.assertEqual(sim.kubectl("create", "configmap", "c").returncode, 0)   # creates are not hit
        cp = sim.kubectl("label", "configmap", "c", "a=b")
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn("the object has been modified", cp.stderr)
        self.assertGreaterEqual(sim.stats()["by_verb_resource_code"].get("patch configmaps 409", 0), 1)

    def test_kubesim_endpoints_are_never_faulted(self):
        sim = self.start("error=500:1.0", "latency=300ms")
        t = time.monotonic()
        stats = sim.stats()
        self.assertLess(time.monotonic() - t, 0.3)
        self.assertIn("total", stats)
        status, _, _ = sim.request("GET", "/api/v1/namespaces")
        self.assertEqual(status, 500)
        status, _, _ = sim.request("POST", "/kubesim/stats/reset")
        self.assertEqual(status, 200)
        self.assertEqual(sim.stats()["total"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
