"""Pod lifecycle through kubectl: images that do not pull (ErrImagePull, ImagePullBackOff: unpublished osm-edge tags
and --unpullable-image patterns; every other image pulls, as from a real registry), Insufficient cpu, crash loops,
never-ready containers, the ready delay and the kubelet's events."""
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402


def pod(name, image, cpu=None, ns="default"):
    c = {"name": "main", "image": image}
    if cpu:
        c["resources"] = {"requests": {"cpu": cpu}}
    return json.dumps({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns},
                       "spec": {"containers": [c]}})


class PodLifecycle(simtest.SimCase):
    # --extra-image is accepted and ignored (every image pulls); example.invalid/* is made to fail
    SIM_ARGS = ["--node-cpu", "2", "--ready-delay", "1", "--extra-image", "registry.local/mine:7",
                "--unpullable-image", "example.invalid/*"]

    def get(self, *args):  # None where the object is not there
        cp = self.k("get", *args, "-o", "json")
        return json.loads(cp.stdout) if cp.returncode == 0 else None

    def waiting_reason(self, name):
        p = self.get("pod", name)
        for cs in (p or {}).get("status", {}).get("containerStatuses") or []:
            return (cs.get("state") or {}).get("waiting", {}).get("reason")
        return None

    def events(self, name):
        return self.k("get", "events", "--field-selector", f"involvedObject.name={name}", "-o", "json", check=True)

    def assert_pull_fails_then_backs_off(self, name, image):
        self.k("apply", "-f", "-", input=pod(name, image), check=True)
        simtest.wait_for(lambda: self.waiting_reason(name) == "ImagePullBackOff", 30, what="ImagePullBackOff")
        out = self.k("get", "pod", name, check=True).stdout
        self.assertIn("ImagePullBackOff", out)
        self.assertIn("0/1", out)
        reasons = [e["reason"] for e in json.loads(self.events(name).stdout)["items"]]
        for r in ("Scheduled", "Pulling", "Failed", "BackOff"):
            self.assertIn(r, reasons)
        msgs = " ".join(e["message"] for e in json.loads(self.events(name).stdout)["items"])
        self.assertIn("Error: ErrImagePull", msgs)
        self.assertIn("Error: ImagePullBackOff", msgs)
        self.assertIn(f"{image}: not found", msgs)
        p = self.get("pod", name)
        self.assertEqual("Pending", p["status"]["phase"])
        time.sleep(1.5)  # past the ready delay: still not Ready
        ready = [c["status"] for c in self.get("pod", name)["status"]["conditions"] if c["type"] == "Ready"]
        self.assertEqual(["False"], ready)

    def test_unpublished_osm_edge_tag_fails_to_pull_then_backs_off(self):
        self.assert_pull_fails_then_backs_off("badpull", "flomesh/osm-edge-controller:9.9.9")

    def test_unpullable_image_pattern_fails_to_pull(self):
        self.assert_pull_fails_then_backs_off("patterned", "example.invalid/nothing:1.0")

    def test_any_other_image_pulls_as_from_a_real_registry(self):
        self.k("create", "deployment", "web", "--image=nginx:1.25", check=True)
        cp = self.k("rollout", "status", "deployment/web", "--timeout=30s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        self.assertIn("successfully rolled out", cp.stdout)
        self.k("delete", "deployment", "web", check=True)

    def test_images_run_and_become_ready_after_the_delay(self):
        start = time.monotonic()
        self.k("apply", "-f", "-", input=pod("good", "registry.local/mine:7"), check=True)
        cp = self.k("wait", "--for=condition=Ready", "pod/good", "--timeout=30s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        self.assertGreaterEqual(time.monotonic() - start, 0.9)
        p = self.get("pod", "good")
        cs = p["status"]["containerStatuses"][0]
        self.assertEqual("registry.local/mine:7", cs["image"])
        self.assertTrue(cs["imageID"])
        self.assertIn("running", cs["state"])
        self.assertEqual(0, cs["restartCount"])
        reasons = [e["reason"] for e in json.loads(self.events("good").stdout)["items"]]
        for r in ("Scheduled", "Pulled", "Created", "Started"):
            self.assertIn(r, reasons)

    def test_pods_that_do_not_fit_stay_pending_with_insufficient_cpu(self):
        self.k("apply", "-f", "-", input=pod("big", "nginx:latest", cpu="1500m"), check=True)
        self.k("apply", "-f", "-", input=pod("toobig", "nginx:latest", cpu="1"), check=True)
        simtest.wait_for(lambda: any(c.get("reason") == "Unschedulable"
                                     for c in (self.get("pod", "toobig") or {}).get("status", {}).get(
                                         "conditions") or []), 30, what="Unschedulable")
        p = self.get("pod", "toobig")
        self.assertEqual("Pending", p["status"]["phase"])
        self.assertNotIn("nodeName", p["spec"])
        cond = [c for c in p["status"]["conditions"] if c["type"] == "PodScheduled"][0]
        self.assertEqual("False", cond["status"])
        desc = self.k("describe", "pod", "toobig", check=True).stdout
        self.assertIn("FailedScheduling", desc)
        self.assertIn("0/1 nodes are available: 1 Insufficient cpu.", desc)
        # freeing the cpu schedules it
        self.k("delete", "pod", "big", "--wait=false", check=True)
        cp = self.k("wait", "--for=condition=Ready", "pod/toobig", "--timeout=30s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        self.k("delete", "pod", "toobig", "--wait=false", check=True)

    def test_crashloop_and_notready_tags(self):
        self.k("apply", "-f", "-", input=pod("crash", "nginx:1.0-crashloop"), check=True)
        self.k("apply", "-f", "-", input=pod("lazy", "nginx:1.0-notready"), check=True)
        simtest.wait_for(lambda: self.waiting_reason("crash") == "CrashLoopBackOff", 30, what="CrashLoopBackOff")
        restarts = lambda: self.get("pod", "crash")["status"]["containerStatuses"][0]["restartCount"]  # noqa: E731
        first = restarts()
        simtest.wait_for(lambda: restarts() > first, 30, what="restartCount climbing")
        self.assertIn("CrashLoopBackOff", self.k("get", "pod", "crash", check=True).stdout)
        time.sleep(1.5)
        lazy = self.get("pod", "lazy")
        self.assertEqual("Running", lazy["status"]["phase"])
        self.assertFalse(lazy["status"]["containerStatuses"][0]["ready"])
        cp = self.k("wait", "--for=condition=Ready", "pod/lazy", "--timeout=2s")
        self.assertNotEqual(0, cp.returncode)

    def test_run_to_completion_pods_succeed_or_fail(self):
        for name, image in (("probe-ok", "flomesh/osm-edge-controller:1.3.9"), ("probe-crash", "nginx:1-crashloop")):
            self.k("apply", "-f", "-", check=True, input=json.dumps({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "probe", "image": image,
                                                                    "command": ["true"]}]}}))
        simtest.wait_for(lambda: (self.get("pod", "probe-ok") or {}).get("status", {}).get("phase") == "Succeeded",
                         30, what="Succeeded")
        simtest.wait_for(lambda: (self.get("pod", "probe-crash") or {}).get("status", {}).get("phase") == "Failed",
                         30, what="Failed")
        term = self.get("pod", "probe-ok")["status"]["containerStatuses"][0]["state"]["terminated"]
        self.assertEqual((0, "Completed"), (term["exitCode"], term["reason"]))
        self.assertIn("Completed", self.k("get", "pod", "probe-ok", check=True).stdout)

    def test_monitored_namespace_without_a_mesh_admits_pods_unchanged(self):
        self.k("create", "namespace", "nomesh", check=True)
        self.k("label", "ns", "nomesh", "openservicemesh.io/monitored-by=osm", check=True)
        self.k("apply", "-f", "-", input=pod("plain", "nginx:latest", ns="nomesh"), check=True)
        self.assertEqual(["main"], [c["name"] for c in self.get("pod", "plain", "-n", "nomesh")["spec"]["containers"]])


if __name__ == "__main__":
    unittest.main()
