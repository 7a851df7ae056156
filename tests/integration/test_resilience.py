"""The upgrade completes through API faults and a leader change, restarting each workload exactly once."""
import unittest

import optest

NAMESPACES = ["mesh-ns-01", "mesh-ns-02"]


def revisions(env):
    return {f"{ns}/{d['metadata']['name']}": int(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
            for ns in NAMESPACES for d in env.deployments(ns)}


class Faults(unittest.TestCase):
    def test_upgrade_completes_through_api_faults(self):
        faults = ["error=503:0.05", "error=429:0.05:retry-after=1", "error=500:0.05:verb=get",
                  "watch-close=3s", "gone-on-resume=0.5", "conflict=0.1", "seed=7"]
        args = ["--mesh", "v1.3.8", "--meshed-workloads", "20", "--namespaces", "2", "--ready-delay", "0.3"]
        for f in faults:
            args += ["--fault", f]
        with optest.Env(args) as env:
            env.apply(optest.meshupgrade("up", "v1.3.9", sidecar={"maxConcurrent": 5}))
            status = env.wait_ready("up", timeout=420)
            self.assertEqual(status["phase"], "Succeeded")
            revs = revisions(env)
            self.assertEqual(len(revs), 20)
            self.assertEqual({k: v for k, v in revs.items() if v != 2}, {}, "each workload restarted exactly once")
            stats = env.sim.stats()["by_verb_resource_code"]
            self.assertTrue(any(k.endswith(" 503") or k.endswith(" 429") for k in stats), "faults were injected")


class LeaderElection(unittest.TestCase):
    def test_the_other_replica_finishes_when_the_leader_is_killed(self):
        args = ["--mesh", "v1.3.8", "--meshed-workloads", "20", "--namespaces", "2", "--ready-delay", "0.5"]
        with optest.Env(args, start_operator=False) as env:
            env.kubectl("create", "namespace", "meshupgrade-system", check=True)
            le = ["--leader-elect", "--leader-election-namespace=meshupgrade-system"]
            a = env.start_operator(*le)
            optest.wait_for(lambda: "holderIdentity" in env.kubectl(
                "get", "lease", "-n", "meshupgrade-system", "-o", "yaml").stdout, timeout=60, what="a leader")
            b = env.start_operator(*le)
            env.apply(optest.meshupgrade("up", "v1.3.9", sidecar={"maxConcurrent": 2}))
            optest.wait_for(lambda: env.mu("up").get("status", {}).get("workloads", {}).get("restarted", 0) >= 4,
                            timeout=180, what="restarts under the first leader")
            lease = env.get("lease", "-n", "meshupgrade-system")["items"][0]
            holder = lease["spec"]["holderIdentity"]
            leader, other = (a, b) if optest.is_leader(a) else (b, a)
            self.assertTrue(optest.is_leader(leader) and not optest.is_leader(other), "exactly one leader")
            leader.kill()
            cp = env.kubectl("wait", "--for=condition=Ready", "mu/up", "-n", "osm-system", "--timeout=300s")
            self.assertEqual(cp.returncode, 0, env.log_tail())
            new_holder = env.get("lease", "-n", "meshupgrade-system")["items"][0]["spec"]["holderIdentity"]
            self.assertNotEqual(new_holder, holder)
            self.assertIsNone(other.proc.poll(), "the new leader keeps running")
            revs = revisions(env)
            self.assertEqual({k: v for k, v in revs.items() if v != 2}, {}, "each workload restarted exactly once")


if __name__ == "__main__":
    unittest.main()
