"""Deployments, StatefulSets and DaemonSets driven by kubectl: rollout restart/status/undo, set image, scale,
wait, the progress deadline, and the status fields kubectl reads."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402


def manifest(kind, name, image="nginx:latest", replicas=2, extra_spec=None):
    labels = {"app": name}
    spec = {"selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels},
                         "spec": {"containers": [{"name": "app", "image": image}]}}}
    if kind != "DaemonSet":
        spec["replicas"] = replicas
    if kind == "StatefulSet":
        spec["serviceName"] = name
    spec.update(extra_spec or {})
    return json.dumps({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "default"},
                       "spec": spec})


class Rollouts(simtest.SimCase):
    SIM_ARGS = ["--ready-delay", "0.3", "--unpullable-image", "example.invalid/*"]

    def rollout_ok(self, what, timeout="60s"):
        cp = self.k("rollout", "status", what, f"--timeout={timeout}")
        self.assertEqual(0, cp.returncode, cp.stderr + cp.stdout)
        return cp.stdout

    def test_deployment_rollout_restart_set_image_scale_undo_wait(self):
        self.k("apply", "-f", "-", input=manifest("Deployment", "web", replicas=3), check=True)
        self.assertIn('deployment "web" successfully rolled out', self.rollout_ok("deploy/web"))
        d = self.get("deploy", "web")
        self.assertEqual(3, d["status"]["availableReplicas"])
        self.assertEqual(d["metadata"]["generation"], d["status"]["observedGeneration"])
        conds = {c["type"]: c for c in d["status"]["conditions"]}
        self.assertEqual("NewReplicaSetAvailable", conds["Progressing"]["reason"])
        self.assertEqual("True", conds["Available"]["status"])

        self.k("rollout", "restart", "deploy/web", check=True)
        self.rollout_ok("deploy/web")
        rss = self.get("rs", "-l", "app=web")["items"]
        self.assertEqual(2, len(rss))
        revs = sorted(int(r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]) for r in rss)
        self.assertEqual([1, 2], revs)
        pods = self.get("pods", "-l", "app=web")["items"]
        self.assertEqual(3, len(pods))
        hashes = {p["metadata"]["labels"]["pod-template-hash"] for p in pods}
        self.assertEqual(1, len(hashes))
        self.assertTrue(all(p["metadata"]["annotations"].get("kubectl.kubernetes.io/restartedAt") for p in pods))

        self.k("set", "image", "deploy/web", "app=busybox:latest", check=True)
        self.rollout_ok("deploy/web")
        images = {p["spec"]["containers"][0]["image"] for p in self.get("pods", "-l", "app=web")["items"]}
        self.assertEqual({"busybox:latest"}, images)

        self.k("scale", "deploy/web", "--replicas=5", check=True)
        self.rollout_ok("deploy/web")
        self.assertEqual(5, self.get("deploy", "web")["status"]["readyReplicas"])

        self.k("rollout", "undo", "deploy/web", check=True)
        self.rollout_ok("deploy/web")
        d = self.get("deploy", "web")
        self.assertEqual("nginx:latest", d["spec"]["template"]["spec"]["containers"][0]["image"])
        self.assertEqual("4", d["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
        images = {p["spec"]["containers"][0]["image"] for p in self.get("pods", "-l", "app=web")["items"]}
        self.assertEqual({"nginx:latest"}, images)
        cp = self.k("wait", "--for=condition=Available", "deploy/web", "--timeout=30s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        self.assertIn("condition met", cp.stdout)
        events = self.k("get", "events", "--field-selector", "involvedObject.name=web", check=True).stdout
        self.assertIn("ScalingReplicaSet", events)

    def test_rolling_update_honours_max_unavailable_zero(self):
        spec = {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}}
        self.k("apply", "-f", "-", input=manifest("Deployment", "careful", replicas=4, extra_spec=spec), check=True)
        self.rollout_ok("deploy/careful")
        watch = self.sim.kubectl_popen("get", "deploy", "careful", "-w", "-o",
                                       "jsonpath={.status.availableReplicas}/{.status.replicas}{\"\\n\"}")
        try:
            self.k("set", "image", "deploy/careful", "app=busybox:latest", check=True)
            self.rollout_ok("deploy/careful")
        finally:
            watch.terminate()
            out, _ = watch.communicate(timeout=10)
        seen = [line.split("/") for line in out.split() if "/" in line]
        self.assertTrue(seen)
        for avail, total in seen:
            if avail and total:
                self.assertGreaterEqual(int(avail), 4)  # never below replicas - maxUnavailable
                self.assertLessEqual(int(total), 5)     # never above replicas + maxSurge

    def test_progress_deadline_exceeded_fails_rollout_status(self):
        self.k("apply", "-f", "-", input=manifest("Deployment", "stuck", replicas=1,
                                                  extra_spec={"progressDeadlineSeconds": 2}), check=True)
        self.rollout_ok("deploy/stuck")
        self.k("set", "image", "deploy/stuck", "app=example.invalid/nope:1", check=True)
        cp = self.k("rollout", "status", "deploy/stuck", "--timeout=60s")
        self.assertNotEqual(0, cp.returncode)
        self.assertIn("exceeded its progress deadline", cp.stderr + cp.stdout)
        conds = {c["type"]: c for c in self.get("deploy", "stuck")["status"]["conditions"]}
        self.assertEqual("ProgressDeadlineExceeded", conds["Progressing"]["reason"])
        self.assertEqual("False", conds["Progressing"]["status"])
        # undo to the previous ReplicaSet: progressing again, then complete
        self.k("rollout", "undo", "deploy/stuck", check=True)
        self.rollout_ok("deploy/stuck")
        conds = {c["type"]: c for c in self.get("deploy", "stuck")["status"]["conditions"]}
        self.assertEqual("NewReplicaSetAvailable", conds["Progressing"]["reason"])

    def test_statefulset_rolling_update_and_status(self):
        self.k("apply", "-f", "-", input=manifest("StatefulSet", "db", replicas=3), check=True)
        self.rollout_ok("sts/db")
        names = sorted(p["metadata"]["name"] for p in self.get("pods", "-l", "app=db")["items"])
        self.assertEqual(["db-0", "db-1", "db-2"], names)
        self.k("set", "image", "sts/db", "app=busybox:latest", check=True)
        out = self.rollout_ok("sts/db", "90s")
        # the API server defaults partition to 0, so kubectl reports a partitioned roll out
        self.assertIn("roll out complete: 3 new pods have been updated", out)
        st = self.get("sts", "db")["status"]
        self.assertEqual(st["currentRevision"], st["updateRevision"])
        self.assertEqual(3, st["updatedReplicas"])
        images = {p["spec"]["containers"][0]["image"] for p in self.get("pods", "-l", "app=db")["items"]}
        self.assertEqual({"busybox:latest"}, images)
        history = self.k("rollout", "history", "sts/db", check=True).stdout
        self.assertIn("2 ", history)
        self.k("rollout", "undo", "sts/db", check=True)
        self.rollout_ok("sts/db", "90s")
        sts = self.get("sts", "db")
        self.assertEqual("nginx:latest", sts["spec"]["template"]["spec"]["containers"][0]["image"])
        images = {p["spec"]["containers"][0]["image"] for p in self.get("pods", "-l", "app=db")["items"]}
        self.assertEqual({"nginx:latest"}, images)

    def test_statefulset_on_delete_waits_for_deletion(self):
        spec = {"updateStrategy": {"type": "OnDelete"}}
        self.k("apply", "-f", "-", input=manifest("StatefulSet", "od", replicas=2, extra_spec=spec), check=True)
        simtest.wait_for(lambda: self.get("sts", "od")["status"].get("readyReplicas") == 2, 60, what="od ready")
        self.k("set", "image", "sts/od", "app=busybox:latest", check=True)
        st = simtest.wait_for(lambda: (lambda s: s if s.get("updateRevision") != s.get("currentRevision") else None)(
            self.get("sts", "od")["status"]), 30, what="new revision")
        self.assertEqual(0, st.get("updatedReplicas", 0))
        self.k("delete", "pod", "od-1", check=True)
        simtest.wait_for(lambda: self.get("sts", "od")["status"].get("updatedReplicas") == 1, 60, what="od-1 updated")

    def test_daemonset_rollout(self):
        self.k("apply", "-f", "-", input=manifest("DaemonSet", "agent"), check=True)
        self.rollout_ok("ds/agent")
        st = self.get("ds", "agent")["status"]
        self.assertEqual((1, 1, 1), (st["desiredNumberScheduled"], st["numberAvailable"], st["updatedNumberScheduled"]))
        self.k("rollout", "restart", "ds/agent", check=True)
        self.assertIn("successfully rolled out", self.rollout_ok("ds/agent"))
        pods = self.get("pods", "-l", "app=agent")["items"]
        self.assertEqual(1, len(pods))
        self.assertEqual("kubesim-node", pods[0]["spec"]["nodeName"])


if __name__ == "__main__":
    unittest.main()
