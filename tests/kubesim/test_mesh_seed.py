"""The seeded osm-edge mesh as kubectl sees it: control-plane Deployments (images, labels, args, init
containers), MeshConfig, CRDs, the Helm release Secret and meshed workloads with their injected sidecar."""
import base64
import gzip
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402


def kjson(sim, *args):
    return json.loads(sim.kubectl(*args, "-o", "json", check=True).stdout)


def containers(deploy, init=False):
    spec = deploy["spec"]["template"]["spec"]
    return {c["name"]: c for c in spec.get("initContainers" if init else "containers") or []}


class SeededV113(unittest.TestCase):
    """v1.1.3: image tag 1.1.1 as its chart says; CRDs applied by the init-osm-bootstrap init container."""

    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.start(["--mesh", "v1.1.3", "--meshed-workloads", "4", "--namespaces", "2",
                                 "--replicas", "2", "--ready-delay", "0"])

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_control_plane_deployments_carry_the_chart_images_labels_and_args(self):
        deploys = {d["metadata"]["name"]: d for d in kjson(self.sim, "get", "deploy", "-n", "osm-system")["items"]}
        self.assertEqual({"osm-bootstrap", "osm-controller", "osm-injector"}, set(deploys))
        for name, d in deploys.items():
            labels = d["metadata"]["labels"]
            self.assertEqual(name, labels["app"])
            self.assertEqual("osm", labels["meshName"])
            self.assertEqual("openservicemesh.io", labels["app.kubernetes.io/name"])
            self.assertEqual("osm", labels["app.kubernetes.io/instance"])
            self.assertEqual("v1.1.1", labels["app.kubernetes.io/version"])
            self.assertEqual(1, d["status"]["availableReplicas"])
        self.assertEqual("flomesh/osm-edge-controller:1.1.1",
                         containers(deploys["osm-controller"])["osm-controller"]["image"])
        self.assertEqual("flomesh/pipy:0.50.0-25", containers(deploys["osm-controller"])["osm-pipy-repo"]["image"])
        self.assertEqual("flomesh/osm-edge-crds:1.1.1",
                         containers(deploys["osm-bootstrap"], init=True)["init-osm-bootstrap"]["image"])
        inj = containers(deploys["osm-injector"])["osm-injector"]
        env = {e["name"]: e.get("value") for e in inj["env"]}
        self.assertEqual("flomesh/osm-edge-sidecar-init:1.1.1", env["OSM_DEFAULT_INIT_CONTAINER_IMAGE"])
        self.assertNotIn("--trust-domain", inj["args"])  # 1.2 added it
        self.assertIn("--osm-version", inj["args"])
        self.assertEqual("0.3", inj["resources"]["requests"]["cpu"])

    def test_meshconfig_holds_the_release_default_sidecar_image(self):
        out = self.sim.kubectl("get", "meshconfig", "-n", "osm-system", check=True).stdout
        self.assertIn("osm-mesh-config", out)
        mc = kjson(self.sim, "get", "meshconfigs.v1alpha2.config.openservicemesh.io", "osm-mesh-config",
                   "-n", "osm-system")
        self.assertEqual("flomesh/pipy:0.50.0-25", mc["spec"]["sidecar"]["sidecarImage"])

    def test_crds_of_the_release_are_established(self):
        crds = {c["metadata"]["name"]: c for c in kjson(self.sim, "get", "crd")["items"]}
        self.assertIn("multiclusterservices.config.openservicemesh.io", crds)
        self.assertNotIn("meshrootcertificates.config.openservicemesh.io", crds)
        ts = crds["trafficsplits.split.smi-spec.io"]["spec"]["versions"]
        self.assertEqual(["v1alpha2"], [v["name"] for v in ts if v["storage"]])
        conds = {c["type"]: c["status"] for c in crds["meshconfigs.config.openservicemesh.io"]["status"]["conditions"]}
        self.assertEqual("True", conds.get("Established"))

    def test_helm_release_secret_decodes_to_the_release(self):
        sec = kjson(self.sim, "get", "secret", "sh.helm.release.v1.osm.v1", "-n", "osm-system")
        self.assertEqual("helm.sh/release.v1", sec["type"])
        self.assertEqual({"owner": "helm", "name": "osm", "status": "deployed", "version": "1"},
                         {k: sec["metadata"]["labels"][k] for k in ("owner", "name", "status", "version")})
        release = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(sec["data"]["release"]))))
        self.assertEqual("osm", release["name"])
        self.assertEqual("osm-system", release["namespace"])
        self.assertEqual(1, release["version"])
        self.assertEqual("deployed", release["info"]["status"])
        self.assertEqual({"name": "osm", "version": "1.1.1", "appVersion": "v1.1.1"},
                         {k: release["chart"]["metadata"][k] for k in ("name", "version", "appVersion")})
        self.assertEqual({}, release["config"])

    def test_meshed_workloads_run_the_injected_sidecar(self):
        nss = kjson(self.sim, "get", "ns", "-l", "openservicemesh.io/monitored-by=osm")["items"]
        self.assertEqual(["mesh-ns-01", "mesh-ns-02"], sorted(n["metadata"]["name"] for n in nss))
        deploys = kjson(self.sim, "get", "deploy", "-A", "-l", "app")["items"]
        apps = [d for d in deploys if d["metadata"]["namespace"].startswith("mesh-ns-")]
        self.assertEqual(4, len(apps))
        pods = kjson(self.sim, "get", "pods", "-n", "mesh-ns-01")["items"]
        self.assertEqual(4, len(pods))  # 2 workloads x 2 replicas
        for p in pods:
            cs = {c["name"]: c["image"] for c in p["spec"]["containers"]}
            self.assertEqual("flomesh/pipy:0.50.0-25", cs["sidecar"])
            self.assertEqual({"osm-init": "flomesh/osm-edge-sidecar-init:1.1.1"},
                             {c["name"]: c["image"] for c in p["spec"]["initContainers"]})
            self.assertEqual("Running", p["status"]["phase"])
            self.assertTrue(all(s["ready"] for s in p["status"]["containerStatuses"]))


class SeededV139(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.start(["--mesh", "v1.3.9", "--ready-delay", "0"])

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def test_images_args_and_crds_of_1_3_9(self):
        deploys = {d["metadata"]["name"]: d for d in kjson(self.sim, "get", "deploy", "-n", "osm-system")["items"]}
        boot = deploys["osm-bootstrap"]
        self.assertEqual([], list(containers(boot, init=True)))  # 1.2+: the container updates CRDs itself
        self.assertEqual("flomesh/osm-edge-bootstrap:1.3.9", containers(boot)["osm-bootstrap"]["image"])
        args = containers(deploys["osm-controller"])["osm-controller"]["args"]
        self.assertIn("--trust-domain", args)
        self.assertEqual("v1.3.9", args[args.index("--osm-version") + 1])
        self.assertEqual("flomesh/pipy-repo:0.90.3-38",
                         containers(deploys["osm-controller"])["osm-pipy-repo"]["image"])
        self.assertEqual("v1.3.9", deploys["osm-injector"]["metadata"]["labels"]["app.kubernetes.io/version"])
        crds = {c["metadata"]["name"] for c in kjson(self.sim, "get", "crd")["items"]}
        self.assertIn("plugins.plugin.flomesh.io", crds)
        self.assertIn("serviceimports.flomesh.io", crds)
        self.assertEqual(19, len([c for c in crds if "smi-spec.io" in c or "openservicemesh.io" in c
                                  or "flomesh.io" in c]))
        out = self.sim.kubectl("get", "meshconfig", "osm-mesh-config", "-n", "osm-system", "-o",
                               "jsonpath={.spec.sidecar.sidecarImage}", check=True).stdout
        self.assertEqual("flomesh/pipy:0.90.3-38", out)


if __name__ == "__main__":
    unittest.main()
