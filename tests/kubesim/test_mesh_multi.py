"""Several meshes in one cluster (`--mesh VERSION@NAMESPACE`, repeatable): each in its own namespace with its own
control plane, MeshConfig, Helm release and injector; the cluster-scoped CRDs shared, each bootstrap applying its
release's definitions over the others' as on a real cluster; bad --mesh values refused at start."""
import base64
import gzip
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import simtest  # noqa: E402
from sim.mesh import catalog  # noqa: E402

TRAFFICSPLITS = "trafficsplits.split.smi-spec.io"  # storage v1alpha2 up to 1.2, v1alpha4 from 1.3


def storage_version(crd):
    return next(v["name"] for v in crd["spec"]["versions"] if v["storage"])


class ThreeMeshes(simtest.SimCase):
    """v1.1.3 in mesh-a, v1.2.2-ubi8 in mesh-b, then v1.3.9 in osm-system (seeded last: its CRDs are the cluster's)."""
    SIM_ARGS = ["--mesh", "v1.1.3@mesh-a", "--mesh", "v1.2.2-ubi8@mesh-b", "--mesh", "v1.3.9",
                "--meshed-workloads", "2", "--ready-delay", "0.1"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.seeded_crds = {c["metadata"]["name"]: c for c in json.loads(
            cls.sim.kubectl("get", "crd", "-o", "json", check=True).stdout)["items"]}

    def test_each_mesh_has_its_own_control_plane_named_after_its_namespace(self):
        for ns, mesh, version in (("mesh-a", "mesh-a", "v1.1.3"), ("mesh-b", "mesh-b", "v1.2.2-ubi8"),
                                  ("osm-system", "osm", "v1.3.9")):
            deploys = {d["metadata"]["name"]: d for d in self.get("deploy", "-n", ns)["items"]}
            self.assertEqual({"osm-bootstrap", "osm-controller", "osm-injector"}, set(deploys), ns)
            for name, d in deploys.items():
                self.assertEqual(mesh, d["metadata"]["labels"]["meshName"], name)
                self.assertEqual(mesh, d["metadata"]["labels"]["app.kubernetes.io/instance"], name)
                self.assertEqual(mesh, d["spec"]["template"]["spec"]["serviceAccountName"], name)
                self.assertEqual(1, d["status"]["availableReplicas"], name)
            ctrl = deploys["osm-controller"]
            # several meshes are installed with osm.enforceSingleMesh=false, which renders no label
            self.assertNotIn("enforceSingleMesh", ctrl["metadata"]["labels"])
            c = next(c for c in ctrl["spec"]["template"]["spec"]["containers"] if c["name"] == "osm-controller")
            self.assertEqual(catalog.image(version, "controller"), c["image"])
            args = c["args"]
            for flag, value in (("--osm-namespace", ns), ("--mesh-name", mesh), ("--osm-service-account", mesh),
                                ("--validator-webhook-config", f"osm-validator-mesh-{mesh}")):
                self.assertEqual(value, args[args.index(flag) + 1], flag)
            inj = deploys["osm-injector"]["spec"]["template"]["spec"]["containers"][0]["args"]
            self.assertEqual(f"osm-webhook-{mesh}", inj[inj.index("--webhook-config-name") + 1])
            curl = deploys["osm-injector"]["spec"]["template"]["spec"]["initContainers"][0]["command"]
            self.assertIn(f"http://osm-bootstrap.{ns}.svc.cluster.local", curl[1])
            self.assertEqual(mesh, self.get("serviceaccount", mesh, "-n", ns)["metadata"]["name"])
            mc = self.get("meshconfig", "osm-mesh-config", "-n", ns)
            self.assertEqual(catalog.release(version)["sidecarImage"], mc["spec"]["sidecar"]["sidecarImage"])

    def test_each_mesh_has_its_own_helm_release(self):
        for ns, mesh, version in (("mesh-a", "mesh-a", "v1.1.3"), ("mesh-b", "mesh-b", "v1.2.2-ubi8"),
                                  ("osm-system", "osm", "v1.3.9")):
            secrets = self.get("secret", "-n", ns, "-l", f"owner=helm,name={mesh}")["items"]
            self.assertEqual([f"sh.helm.release.v1.{mesh}.v1"], [s["metadata"]["name"] for s in secrets])
            rel = json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secrets[0]["data"]["release"]))))
            self.assertEqual((mesh, ns, "deployed"), (rel["name"], rel["namespace"], rel["info"]["status"]))
            self.assertEqual(catalog.release(version)["chart"]["version"], rel["chart"]["metadata"]["version"])
            self.assertEqual({"osm": {"meshName": mesh, "enforceSingleMesh": False}}, rel["config"])
            self.assertIn(f"namespace: {ns}\n", rel["manifest"])

    def test_the_crds_are_shared_and_the_last_mesh_seeded_defined_them(self):
        crds = self.seeded_crds
        for version in ("v1.1.3", "v1.2.2-ubi8", "v1.3.9"):
            self.assertLessEqual(set(catalog.crd_names(version)), set(crds), version)
        self.assertEqual("v1alpha4", storage_version(crds[TRAFFICSPLITS]))  # v1.3.9's definition

    def test_workloads_join_the_first_mesh_and_each_injector_serves_its_own_namespaces(self):
        nss = self.get("ns", "-l", "openservicemesh.io/monitored-by=mesh-a")["items"]
        self.assertIn("mesh-ns-01", [n["metadata"]["name"] for n in nss])
        for pod in self.get("pods", "-n", "mesh-ns-01")["items"]:
            self.assertEqual(catalog.release("v1.1.3")["sidecarImage"],
                             next(c["image"] for c in pod["spec"]["containers"] if c["name"] == "sidecar"))
            self.assertIn("http://osm-controller.mesh-a:6060/repo",
                          next(c["args"] for c in pod["spec"]["containers"] if c["name"] == "sidecar"))
        # A namespace monitored by mesh-b: its pods get mesh-b's (ubi8) sidecar and init image, and a sidecar that
        # fetches its configuration from mesh-b's controller.
        self.k("create", "namespace", "apps-b", check=True)
        self.k("label", "namespace", "apps-b", "openservicemesh.io/monitored-by=mesh-b", check=True)
        self.k("create", "deployment", "web", "-n", "apps-b", "--image=nginx:1.25", check=True)
        self.assertEqual(0, self.k("rollout", "status", "deploy/web", "-n", "apps-b", "--timeout=60s").returncode)
        pod = self.get("pods", "-n", "apps-b", "-l", "app=web")["items"][0]
        sidecar = next(c for c in pod["spec"]["containers"] if c["name"] == "sidecar")
        self.assertEqual(catalog.release("v1.2.2-ubi8")["sidecarImage"], sidecar["image"])
        self.assertIn("http://osm-controller.mesh-b:6060/repo", sidecar["args"])
        self.assertEqual([catalog.image("v1.2.2-ubi8", "sidecarInit")],
                         [c["image"] for c in pod["spec"]["initContainers"]])

    def test_a_mesh_whose_injector_is_down_blocks_only_its_own_namespaces(self):
        self.k("create", "namespace", "apps-a", check=True)
        self.k("label", "namespace", "apps-a", "openservicemesh.io/monitored-by=mesh-a", check=True)
        self.k("create", "namespace", "apps-osm", check=True)
        self.k("label", "namespace", "apps-osm", "openservicemesh.io/monitored-by=osm", check=True)
        self.k("scale", "deploy/osm-injector", "-n", "mesh-a", "--replicas=0", check=True)
        try:
            simtest.wait_for(lambda: not self.get("pods", "-n", "mesh-a", "-l", "app=osm-injector")["items"], 30,
                             what="mesh-a's injector gone")
            cp = self.k("run", "blocked", "-n", "apps-a", "--image=nginx:1.25")
            self.assertNotEqual(0, cp.returncode)
            self.assertIn('failed calling webhook "osm-inject.k8s.io"', cp.stderr)
            self.assertIn("osm-injector.mesh-a.svc", cp.stderr)
            cp = self.k("run", "admitted", "-n", "apps-osm", "--image=nginx:1.25")
            self.assertEqual(0, cp.returncode, cp.stderr)
            pod = self.get("pod", "admitted", "-n", "apps-osm")
            self.assertEqual(catalog.release("v1.3.9")["sidecarImage"],
                             next(c["image"] for c in pod["spec"]["containers"] if c["name"] == "sidecar"))
        finally:
            self.k("scale", "deploy/osm-injector", "-n", "mesh-a", "--replicas=1", check=True)

    def test_a_bootstrap_that_starts_applies_its_release_crds_over_the_others_and_its_own_meshconfig(self):
        # mesh-a's osm-bootstrap (v1.1.3, CRDs by its osm-edge-crds:1.1.1 init container) restarts without its
        # MeshConfig: it brings the shared CRDs back to v1.1.1's definitions (the 1.3-only ones stay: apply never
        # deletes) and creates the MeshConfig in its own namespace; the other meshes' MeshConfigs are untouched.
        others = {ns: self.get("meshconfig", "osm-mesh-config", "-n", ns)["metadata"]["resourceVersion"]
                  for ns in ("mesh-b", "osm-system")}
        self.k("delete", "meshconfig", "osm-mesh-config", "-n", "mesh-a", check=True)
        self.k("rollout", "restart", "deploy/osm-bootstrap", "-n", "mesh-a", check=True)
        self.assertEqual(0, self.k("rollout", "status", "deploy/osm-bootstrap", "-n", "mesh-a",
                                   "--timeout=60s").returncode)
        crd = simtest.wait_for(lambda: (lambda c: c if storage_version(c) == "v1alpha2" else None)(
            self.get("crd", TRAFFICSPLITS)), 30, what="v1.1.1's trafficsplits definition")
        self.assertEqual(["v1alpha2", "v1alpha4"], sorted(crd["status"]["storedVersions"]))
        self.assertEqual(0, self.k("get", "crd", "plugins.plugin.flomesh.io").returncode)
        pod = self.get("pods", "-n", "mesh-a", "-l", "app=osm-bootstrap")["items"][-1]
        log = self.k("logs", pod["metadata"]["name"], "-n", "mesh-a", "-c", "osm-bootstrap", check=True).stdout
        self.assertIn("osm-edge CRDs brought to v1.1.1", log)
        mc = simtest.wait_for(lambda: self.k("get", "meshconfig", "osm-mesh-config", "-n", "mesh-a", "-o",
                                             "json").stdout, 30, what="mesh-a's MeshConfig")
        self.assertEqual("mesh-a", json.loads(mc)["metadata"]["namespace"])
        self.assertEqual(others, {ns: self.get("meshconfig", "osm-mesh-config", "-n", ns)["metadata"]["resourceVersion"]
                                  for ns in ("mesh-b", "osm-system")})
        self.assertEqual(3, len(self.get("meshconfig", "-A")["items"]))


class BadMeshFlags(unittest.TestCase):
    def test_a_bad_mesh_value_is_refused_with_usage(self):
        kc = os.path.join(tempfile.mkdtemp(prefix="kubesim-bad-"), "kc")
        for args, message in ((["--mesh", "v9.9.9"], "unknown osm-edge version 'v9.9.9'"),
                              (["--mesh", "v1.3.9@Not_A_Namespace"], "is not a namespace name"),
                              (["--mesh", "v1.3.9", "--mesh", "v1.2.3@osm-system"],
                               "a mesh already runs in namespace osm-system")):
            cp = subprocess.run([sys.executable, simtest.KUBESIM, "--kubeconfig", kc, *args], capture_output=True,
                                text=True, timeout=60)
            self.assertEqual(2, cp.returncode, cp.stderr)
            self.assertIn("usage: kubesim", cp.stderr)
            self.assertIn(message, cp.stderr)


if __name__ == "__main__":
    unittest.main()
