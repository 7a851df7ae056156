"""The seeded osm-edge mesh as kubectl sees it: control-plane Deployments (images, labels, args, init
containers), MeshConfig, CRDs, the Helm release Secret and meshed workloads with their injected sidecar; a mesh of
any release of the catalog (controllers/mesh_upgrade/releases.json)."""
import base64
import gzip
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import simtest  # noqa: E402

with open(os.path.join(HERE, "..", "..", "controllers", "mesh_upgrade", "releases.json")) as _f:
    CATALOG = {r["version"]: r for r in json.load(_f)["releases"]}


def helm_release(sim, name="sh.helm.release.v1.osm.v1"):
    """The release JSON as Helm reads it: the API's base64, Helm's base64, gunzip."""
    sec = kjson(sim, "get", "secret", name, "-n", "osm-system")
    return sec, json.loads(gzip.decompress(base64.b64decode(base64.b64decode(sec["data"]["release"]))))


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
            self.assertEqual("1.1.3", labels["app.kubernetes.io/version"])  # the published chart's appVersion
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
        sec, release = helm_release(self.sim)
        self.assertEqual("helm.sh/release.v1", sec["type"])
        self.assertEqual({"owner": "helm", "name": "osm", "status": "deployed", "version": "1"},
                         {k: sec["metadata"]["labels"][k] for k in ("owner", "name", "status", "version")})
        self.assertEqual("osm", release["name"])
        self.assertEqual("osm-system", release["namespace"])
        self.assertEqual(1, release["version"])
        self.assertEqual({"status": "deployed", "description": "Install complete", "deleted": ""},
                         {k: release["info"][k] for k in ("status", "description", "deleted")})
        self.assertEqual(release["info"]["first_deployed"], release["info"]["last_deployed"])
        # v1.1.3's published chart is 1.1.3 (the osm CLI of that tag embedded a chart saying 1.1.1)
        self.assertEqual({"name": "osm-edge", "version": "1.1.3", "appVersion": "1.1.3",
                          "kubeVersion": ">= 1.19.0-0", "apiVersion": "v2"},
                         {k: release["chart"]["metadata"][k] for k in ("name", "version", "appVersion", "kubeVersion",
                                                                       "apiVersion")})
        self.assertEqual({"osm": {"meshName": "osm"}}, release["config"])
        self.assertEqual([], release["hooks"])
        self.assertIn("# Source: osm-edge/templates/osm-deployment.yaml", release["manifest"])
        self.assertIn("image: flomesh/osm-edge-controller:1.1.1\n", release["manifest"])

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
        self.assertEqual("1.3.9", args[args.index("--osm-version") + 1])
        self.assertEqual("flomesh/pipy-repo:0.90.3-38",
                         containers(deploys["osm-controller"])["osm-pipy-repo"]["image"])
        self.assertEqual("1.3.9", deploys["osm-injector"]["metadata"]["labels"]["app.kubernetes.io/version"])
        crds = {c["metadata"]["name"] for c in kjson(self.sim, "get", "crd")["items"]}
        self.assertIn("plugins.plugin.flomesh.io", crds)
        self.assertIn("serviceimports.flomesh.io", crds)
        self.assertEqual(19, len([c for c in crds if "smi-spec.io" in c or "openservicemesh.io" in c
                                  or "flomesh.io" in c]))
        out = self.sim.kubectl("get", "meshconfig", "osm-mesh-config", "-n", "osm-system", "-o",
                               "jsonpath={.spec.sidecar.sidecarImage}", check=True).stdout
        self.assertEqual("flomesh/pipy:0.90.3-38", out)


class SeededAnyRelease(unittest.TestCase):
    """One simulator per release: each seeds its release's images, args, env, CRDs, MeshConfig and Helm record, and
    its control plane runs (the CLI check passes every container its own release's args)."""

    def check_release(self, version, workloads=1):
        r = CATALOG["v" + version.lstrip("v")]
        sim = simtest.start(["--mesh", version, "--meshed-workloads", str(workloads), "--ready-delay", "0"])
        try:
            deploys = {d["metadata"]["name"]: d for d in kjson(sim, "get", "deploy", "-n", "osm-system")["items"]}
            want_image = {"repoServer": r["repoServerImage"], "curl": r["curlImage"]}
            want_image.update({k: f"{r['registry']}/{n}:{r['imageTag']}" for k, n in r["imageNames"].items()})
            for d in r["controlPlane"]:
                dep = deploys[d["deployment"]]
                self.assertEqual(r["chart"]["appVersion"], dep["metadata"]["labels"]["app.kubernetes.io/version"])
                got = {**containers(dep, init=True), **containers(dep)}
                self.assertEqual({c["name"] for c in d["containers"]}, set(got), d["deployment"])
                for c in d["containers"]:
                    mine = got[c["name"]]
                    self.assertEqual(want_image.get(c["image"], c["image"]), mine["image"], c["name"])
                    self.assertEqual(c["args"], mine.get("args", []), c["name"])
                    env = {e["name"]: e.get("value") for e in mine.get("env") or []}
                    for e in c.get("env") or []:
                        self.assertEqual(want_image[e["image"]], env[e["name"]], e["name"])
            simtest.wait_for(lambda: all(
                d["status"].get("availableReplicas") == 1 and d["status"].get("updatedReplicas") == 1
                for d in kjson(sim, "get", "deploy", "-n", "osm-system")["items"]), 30, what="control plane available")
            pods = kjson(sim, "get", "pods", "-n", "osm-system")["items"]
            self.assertTrue(all(c.get("ready") for p in pods for c in p["status"]["containerStatuses"]), version)

            crds = {c["metadata"]["name"]: c for c in kjson(sim, "get", "crd")["items"]}
            self.assertEqual({c["name"] for c in r["crds"]}, set(crds))
            for c in r["crds"]:
                spec = crds[c["name"]]["spec"]
                self.assertEqual((c["scope"], c["shortNames"]), (spec["scope"], spec["names"].get("shortNames", [])))
                self.assertEqual([(v["name"], v["served"], v["storage"], v["printerColumns"], v["subresources"])
                                  for v in c["versions"]],
                                 [(v["name"], v["served"], v["storage"], v.get("additionalPrinterColumns", []),
                                   sorted(v.get("subresources") or {})) for v in spec["versions"]], c["name"])
                # the API server defaults an absent strategy to None, as a real one does
                self.assertEqual(c["conversion"] or "None", spec["conversion"]["strategy"], c["name"])

            mc = kjson(sim, "get", "meshconfig", "osm-mesh-config", "-n", "osm-system")
            self.assertEqual(r["sidecarImage"], mc["spec"]["sidecar"]["sidecarImage"])
            for key in ("traffic", "featureFlags", "certificate", "observability"):
                self.assertEqual(r["meshConfigDefaults"][key], mc["spec"][key], key)

            _, release = helm_release(sim)
            meta = release["chart"]["metadata"]
            self.assertEqual(r["chart"], {k: meta[k] for k in ("name", "version", "appVersion", "kubeVersion")})
            self.assertEqual("deployed", release["info"]["status"])
            for d in r["controlPlane"]:
                self.assertIn(f"name: {d['deployment']}\n", release["manifest"])
            self.assertEqual(3, release["manifest"].count("kind: Deployment"))

            pods = kjson(sim, "get", "pods", "-n", "mesh-ns-01")["items"]
            self.assertEqual(workloads, len(pods))
            for p in pods:
                self.assertEqual(r["sidecarImage"], {c["name"]: c["image"] for c in p["spec"]["containers"]}["sidecar"])
                self.assertEqual(want_image["sidecarInit"], p["spec"]["initContainers"][0]["image"])
            return deploys
        finally:
            sim.stop()

    def test_v1_1_0(self):
        deploys = self.check_release("v1.1.0")
        boot = deploys["osm-bootstrap"]
        self.assertEqual("flomesh/osm-edge-crds:1.1.0", containers(boot, init=True)["init-osm-bootstrap"]["image"])
        self.assertNotIn("--trust-domain", containers(deploys["osm-controller"])["osm-controller"]["args"])

    def test_v1_2_1(self):
        deploys = self.check_release("v1.2.1")
        self.assertEqual([], list(containers(deploys["osm-bootstrap"], init=True)))
        self.assertEqual("flomesh/pipy-repo:0.70.0-46", containers(deploys["osm-controller"])["osm-pipy-repo"]["image"])

    def test_v1_2_2_ubi8(self):
        deploys = self.check_release("1.2.2-ubi8")
        ctrl = containers(deploys["osm-controller"])
        self.assertEqual("quay.io/flomesh/osm-edge-controller-ubi8:1.2.2", ctrl["osm-controller"]["image"])
        self.assertEqual("quay.io/flomesh/pipy-ubi8:0.70.0-46", ctrl["osm-pipy-repo"]["image"])
        self.assertEqual("quay.io/flomesh/curl-ubi8:7.84.0",
                         containers(deploys["osm-controller"], init=True)["init-osm-controller"]["image"])

    def test_v1_3_4(self):
        deploys = self.check_release("v1.3.4", workloads=2)
        injector = containers(deploys["osm-injector"])["osm-injector"]
        self.assertEqual("flomesh/osm-edge-injector:1.3.4", injector["image"])


if __name__ == "__main__":
    unittest.main()
