"""The simulated mesh's effects through kubectl: sidecar injection following MeshConfig, the
FatalInvalidCLIParameters crash of a control-plane image run with another release's args, and the
osm-bootstrap CRD update when osm-bootstrap moves from 1.1.3 to 1.2.3."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402
from sim.mesh import catalog  # noqa: E402

FATAL = ('{"level":"fatal","error":"Please specify the init container image using --init-container-image",'
         '"reason":"FatalInvalidCLIParameters"}')


class MeshEffects(simtest.SimCase):
    SIM_ARGS = ["--mesh", "v1.1.3", "--meshed-workloads", "2", "--ready-delay", "0"]

    def pods_of(self, ns, selector):
        return [p for p in self.get("pods", "-n", ns, "-l", selector)["items"]
                if not p["metadata"].get("deletionTimestamp")]

    def test_injected_sidecar_follows_a_meshconfig_patch_after_restart(self):
        before = self.pods_of("mesh-ns-01", "app=app-00001")[0]
        self.assertEqual("flomesh/pipy:0.50.0-25",
                         {c["name"]: c["image"] for c in before["spec"]["containers"]}["sidecar"])
        self.k("patch", "meshconfig", "osm-mesh-config", "-n", "osm-system", "--type=merge", "-p",
               json.dumps({"spec": {"sidecar": {"sidecarImage": "flomesh/pipy:0.90.3-38"}}}), check=True)
        # existing pods keep their sidecar: injection happens only at pod creation
        still = self.pods_of("mesh-ns-01", "app=app-00001")[0]
        self.assertEqual(before["metadata"]["name"], still["metadata"]["name"])
        self.k("rollout", "restart", "deploy/app-00001", "-n", "mesh-ns-01", check=True)
        cp = self.k("rollout", "status", "deploy/app-00001", "-n", "mesh-ns-01", "--timeout=60s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        after = self.pods_of("mesh-ns-01", "app=app-00001")
        self.assertEqual(1, len(after))
        images = {c["name"]: c["image"] for c in after[0]["spec"]["containers"]}
        self.assertEqual("flomesh/pipy:0.90.3-38", images["sidecar"])
        self.assertEqual("kubesim/demo-app:1.0", images["app"])
        self.assertEqual(["osm-init"], [c["name"] for c in after[0]["spec"]["initContainers"]])
        # a namespace opted out gets no sidecar
        self.k("create", "namespace", "plain", check=True)
        self.k("run", "solo", "-n", "plain", "--image=nginx:latest", check=True)
        self.assertEqual(["solo"], [c["name"] for c in self.get("pod", "solo", "-n", "plain")["spec"]["containers"]])
        self.k("create", "namespace", "optout", check=True)
        self.k("label", "ns", "optout", "openservicemesh.io/monitored-by=osm", check=True)
        self.k("run", "in", "-n", "optout", "--image=nginx:latest", check=True)
        self.assertEqual(["in", "sidecar"],
                         [c["name"] for c in self.get("pod", "in", "-n", "optout")["spec"]["containers"]])
        self.k("run", "podout", "-n", "optout", "--image=nginx:latest",
               "--annotations=openservicemesh.io/sidecar-injection=disabled", check=True)
        self.assertEqual(["podout"],
                         [c["name"] for c in self.get("pod", "podout", "-n", "optout")["spec"]["containers"]])
        self.k("annotate", "ns", "optout", "openservicemesh.io/sidecar-injection=disabled", check=True)
        self.k("run", "nsout", "-n", "optout", "--image=nginx:latest", check=True)
        self.assertEqual(["nsout"],
                         [c["name"] for c in self.get("pod", "nsout", "-n", "optout")["spec"]["containers"]])

    def test_newer_injector_image_with_old_args_crashloops_with_fatal_invalid_cli_parameters(self):
        self.k("set", "image", "deploy/osm-injector", "-n", "osm-system",
               "osm-injector=flomesh/osm-edge-injector:1.2.3", check=True)
        new_hash = simtest.wait_for(lambda: next((r["metadata"]["labels"]["pod-template-hash"] for r in self.get(
            "rs", "-n", "osm-system", "-l", "app=osm-injector")["items"]
            if r["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":1.2.3")), None), 30,
            what="new ReplicaSet")

        def crashing():
            for p in self.pods_of("osm-system", f"pod-template-hash={new_hash}"):
                for cs in p["status"].get("containerStatuses") or []:
                    if (cs.get("state") or {}).get("waiting", {}).get("reason") == "CrashLoopBackOff":
                        return p
            return None
        p = simtest.wait_for(crashing, 30, what="CrashLoopBackOff")
        name = p["metadata"]["name"]
        logs = self.k("logs", "-n", "osm-system", name, check=True).stdout
        self.assertEqual(FATAL, logs.strip())
        grep = self.k("get", "events", "-n", "osm-system", "--field-selector", f"involvedObject.name={name}",
                      check=True).stdout
        self.assertIn("FatalInvalidCLIParameters", grep)
        self.assertIn("Warning", grep)
        # the old pod keeps serving: maxUnavailable rounds down to 0 for one replica
        d = self.get("deploy", "osm-injector", "-n", "osm-system")
        self.assertEqual(1, d["status"]["availableReplicas"])
        # giving the 1.2.3 image its chart's args heals it
        patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/args",
                  "value": catalog.container_args("v1.2.3", "injector")}]
        self.k("patch", "deploy/osm-injector", "-n", "osm-system", "--type=json", "-p", json.dumps(patch),
               check=True)
        cp = self.k("rollout", "status", "deploy/osm-injector", "-n", "osm-system", "--timeout=60s")
        self.assertEqual(0, cp.returncode, cp.stderr)

    def test_injector_without_an_init_container_image_crashes(self):
        self.k("apply", "-f", "-", check=True, input=json.dumps({
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bare-injector", "namespace": "default"},
            "spec": {"containers": [{"name": "osm-injector", "image": "flomesh/osm-edge-injector:1.3.9",
                                     "args": catalog.container_args("v1.3.9", "injector")}]}}))
        simtest.wait_for(lambda: "FatalInvalidCLIParameters" in self.k("logs", "bare-injector").stdout, 30,
                         what="fatal log")
        self.assertEqual(FATAL, self.k("logs", "bare-injector", check=True).stdout.strip())

    def test_bootstrap_moving_from_1_1_3_to_1_2_3_updates_the_crds(self):
        crds = {c["metadata"]["name"] for c in self.get("crd")["items"]}
        self.assertNotIn("meshrootcertificates.config.openservicemesh.io", crds)
        self.k("apply", "-f", "-", check=True, input=json.dumps({
            "apiVersion": "policy.openservicemesh.io/v1alpha1", "kind": "Egress",
            "metadata": {"name": "keep-me", "namespace": "mesh-ns-01"},
            "spec": {"sources": [{"kind": "ServiceAccount", "name": "sa", "namespace": "mesh-ns-01"}],
                     "hosts": ["example.com"], "ports": [{"number": 443, "protocol": "https"}]}}))
        d = self.get("deploy", "osm-bootstrap", "-n", "osm-system")
        c = d["spec"]["template"]["spec"]["containers"][0]
        patch = [{"op": "remove", "path": "/spec/template/spec/initContainers"},
                 {"op": "replace", "path": "/spec/template/spec/containers/0/image",
                  "value": "flomesh/osm-edge-bootstrap:1.2.3"},
                 {"op": "replace", "path": "/spec/template/spec/containers/0/args",
                  "value": catalog.container_args("v1.2.3", "bootstrap")}]
        self.assertEqual("osm-bootstrap", c["name"])
        self.k("patch", "deploy/osm-bootstrap", "-n", "osm-system", "--type=json", "-p", json.dumps(patch),
               check=True)
        cp = self.k("rollout", "status", "deploy/osm-bootstrap", "-n", "osm-system", "--timeout=60s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        want = set(catalog.crd_names("v1.2.3"))
        got = simtest.wait_for(lambda: (lambda s: s if want <= s else None)(
            {c["metadata"]["name"] for c in self.get("crd")["items"]}), 30, what="1.2.3 CRDs")
        self.assertIn("meshrootcertificates.config.openservicemesh.io", got)
        self.assertIn("multiclusterservices.config.openservicemesh.io", got)  # apply never deletes
        cp = self.k("wait", "--for=condition=Established", "crd/meshrootcertificates.config.openservicemesh.io",
                    "--timeout=30s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        mc = self.get("crd", "meshconfigs.config.openservicemesh.io")
        self.assertEqual({"strategy": "None"}, mc["spec"].get("conversion"))
        eg = self.get("egress", "keep-me", "-n", "mesh-ns-01")
        self.assertEqual(["example.com"], eg["spec"]["hosts"])
        self.assertIn("mrc", self.k("api-resources", "--api-group=config.openservicemesh.io", check=True).stdout)

    def test_webhook_down_blocks_meshed_pods_until_the_injector_is_back(self):
        self.k("scale", "deploy/osm-injector", "-n", "osm-system", "--replicas=0", check=True)
        simtest.wait_for(lambda: not self.pods_of("osm-system", "app=osm-injector"), 30, what="injector gone")
        cp = self.k("run", "blocked", "-n", "mesh-ns-01", "--image=nginx:latest")
        self.assertNotEqual(0, cp.returncode)
        self.assertIn('failed calling webhook "osm-inject.k8s.io"', cp.stderr)
        self.k("rollout", "restart", "deploy/app-00002", "-n", "mesh-ns-01", check=True)
        simtest.wait_for(lambda: "FailedCreate" in self.k("get", "events", "-n", "mesh-ns-01", check=True).stdout,
                         30, what="FailedCreate")
        self.k("scale", "deploy/osm-injector", "-n", "osm-system", "--replicas=1", check=True)
        cp = self.k("rollout", "status", "deploy/app-00002", "-n", "mesh-ns-01", "--timeout=60s")
        self.assertEqual(0, cp.returncode, cp.stderr)
        pods = self.pods_of("mesh-ns-01", "app=app-00002")
        self.assertEqual(["app", "sidecar"], [c["name"] for c in pods[0]["spec"]["containers"]])


if __name__ == "__main__":
    unittest.main()
