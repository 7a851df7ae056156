"""Sidecar rollout: failure threshold and rollback, suspend and resume, bare pods, restart counting."""
import json
import unittest

import optest

OLD_SIDECAR = "flomesh/pipy:0.90.2-14"


def revisions(env, namespaces):
    out = {}
    for ns in namespaces:
        for d in env.deployments(ns):
            out[f"{ns}/{d['metadata']['name']}"] = int(d["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
    return out


class Rollback(unittest.TestCase):
    def test_a_sidecar_that_never_becomes_ready_rolls_back(self):
        # an image that pulls (tags ending -notready do, on kubesim) and never becomes ready
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "8", "--namespaces", "2",
                         "--ready-delay", "0.2"]) as env:
            env.apply(optest.meshupgrade("up", "v1.3.9", sidecar={"image": "flomesh/pipy:9.9.9-notready",
                                                                   "maxConcurrent": 2, "failureThreshold": 1},
                                         timeouts={"perWorkload": "5s"}))
            stalled = env.wait_condition("up", "Stalled", timeout=240)
            status = env.mu("up")["status"]
            self.assertEqual(status["phase"], "RolledBack", json.dumps(status, indent=1))
            self.assertEqual(stalled["reason"], "SidecarRolloutFailed")
            self.assertEqual([c["status"] for c in status["conditions"] if c["type"] == "Ready"], ["False"])
            # The threshold stopped the rollout: at most maxConcurrent workloads were ever restarted.
            self.assertLessEqual(status["workloads"]["restarted"], 2)
            # Old images everywhere.
            for d in env.deployments("osm-system"):
                for c in d["spec"]["template"]["spec"]["containers"]:
                    self.assertNotIn(":1.3.9", c["image"], d["metadata"]["name"])
            mc = env.get("meshconfig", "osm-mesh-config", "-n", "osm-system")
            self.assertEqual(mc["spec"]["sidecar"]["sidecarImage"], OLD_SIDECAR)
            def all_old():
                pods = env.get("pods", "-A", "-l", "osm-proxy-uuid")["items"]
                images = {c["image"] for p in pods for c in p["spec"]["containers"] if c["name"] == "sidecar"}
                return images == {OLD_SIDECAR}
            optest.wait_for(all_old, timeout=120, what="every pod back on the old sidecar")


class Suspend(unittest.TestCase):
    def test_suspend_holds_and_resume_finishes(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "12", "--namespaces", "2",
                         "--ready-delay", "0.5"]) as env:
            env.apply(optest.meshupgrade("up", "v1.3.9", sidecar={"maxConcurrent": 2}))
            optest.wait_for(lambda: env.mu("up").get("status", {}).get("phase") == "RollingSidecars", timeout=120,
                            what="the sidecar rollout")
            env.kubectl("patch", "mu/up", "-n", "osm-system", "--type=merge", "-p", '{"spec":{"suspend":true}}', check=True)
            rec = env.wait_condition("up", "Reconciling", status="False", timeout=60)
            self.assertEqual(rec["reason"], "Suspended")
            self.assertEqual(env.mu("up")["status"]["phase"], "Suspended")
            def restarted():
                return sum(1 for r in revisions(env, ["mesh-ns-01", "mesh-ns-02"]).values() if r > 1)
            held = restarted()
            self.assertLess(held, 12, "suspended before the end")
            # Reconciles go on (pods become ready, an annotation changes) but start no restart.
            op = env.operators[0]
            for i in range(2):
                seen = optest.reconcile_count(op)
                env.kubectl("annotate", "mu/up", "-n", "osm-system", f"poke={i}", "--overwrite", check=True)
                optest.wait_for(lambda: optest.reconcile_count(op) > seen, timeout=30, what="a reconcile")
            self.assertEqual(restarted(), held, "no restart while suspended")
            self.assertEqual(env.mu("up")["status"]["phase"], "Suspended")
            env.kubectl("patch", "mu/up", "-n", "osm-system", "--type=merge", "-p", '{"spec":{"suspend":false}}', check=True)
            cp = env.kubectl("wait", "--for=condition=Ready", "mu/up", "-n", "osm-system", "--timeout=240s")
            self.assertEqual(cp.returncode, 0, env.log_tail())
            self.assertEqual(set(revisions(env, ["mesh-ns-01", "mesh-ns-02"]).values()), {2}, "each restarted once")


class CrashSafe(unittest.TestCase):
    def test_operator_killed_mid_rollout_never_restarts_twice(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "30", "--namespaces", "3", "--ready-delay", "0.5"]) as env:
            env.apply(optest.meshupgrade("up", "v1.3.9", sidecar={"maxConcurrent": 3}))
            for kill in range(3):
                target = 3 * (kill + 1)
                optest.wait_for(lambda: env.mu("up").get("status", {}).get("workloads", {}).get("restarted", 0) >= target,
                                timeout=180, what=f"{target} restarts")
                env.operators[-1].kill()
                env.start_operator()
            cp = env.kubectl("wait", "--for=condition=Ready", "mu/up", "-n", "osm-system", "--timeout=300s")
            self.assertEqual(cp.returncode, 0, env.log_tail())
            revs = revisions(env, ["mesh-ns-01", "mesh-ns-02", "mesh-ns-03"])
            self.assertEqual(len(revs), 30)
            self.assertEqual({k: v for k, v in revs.items() if v != 2}, {}, "every workload restarted exactly once")


class Workloads(unittest.TestCase):
    def test_only_workloads_on_another_sidecar_restart_and_bare_pods_are_listed(self):
        with optest.Env(["--mesh", "v1.3.8", "--meshed-workloads", "4", "--namespaces", "1", "--ready-delay", "0.2"],
                        start_operator=False) as env:
            # One workload already on the target sidecar (created after MeshConfig moved), one bare pod.
            env.kubectl("patch", "meshconfig", "osm-mesh-config", "-n", "osm-system", "--type=merge",
                        "-p", '{"spec":{"sidecar":{"sidecarImage":"flomesh/pipy:0.90.3-38"}}}', check=True)
            env.kubectl("create", "deployment", "fresh", "-n", "mesh-ns-01", "--image=nginx", check=True)
            env.kubectl("run", "lonely", "-n", "mesh-ns-01", "--image=nginx", check=True)
            optest.wait_for(lambda: env.get("deployment", "fresh", "-n", "mesh-ns-01").get("status", {}).get("readyReplicas") == 1,
                            timeout=60, what="fresh ready")
            env.kubectl("patch", "meshconfig", "osm-mesh-config", "-n", "osm-system", "--type=merge",
                        "-p", '{"spec":{"sidecar":{"sidecarImage":"flomesh/pipy:0.90.2-14"}}}', check=True)
            env.start_operator()
            env.apply(optest.meshupgrade("up", "v1.3.9"))
            cp = env.kubectl("wait", "--for=condition=Ready", "mu/up", "-n", "osm-system", "--timeout=240s")
            self.assertEqual(cp.returncode, 0, env.log_tail())
            revs = revisions(env, ["mesh-ns-01"])
            self.assertEqual(revs.pop("mesh-ns-01/fresh"), 1, "already on the target: not restarted")
            self.assertEqual(set(revs.values()), {2})
            status = env.mu("up")["status"]
            self.assertEqual(status["workloads"]["manualRestart"], ["mesh-ns-01/lonely"])
            self.assertEqual(env.get("pod", "lonely", "-n", "mesh-ns-01")["metadata"]["name"], "lonely", "not deleted")


if __name__ == "__main__":
    unittest.main()
