"""The simulator's use of the release catalog: the CRD objects it builds match the upstream CRDs (read in place),
the FatalInvalidCLIParameters rule for every release, and which images pull (osm-edge's own repositories only
publish what its releases ran)."""
import glob
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import sim.mesh as mesh  # noqa: E402
from sim.mesh import catalog, chart, cli_check  # noqa: E402
from gencatalog import yaml_subset  # noqa: E402

SHARED = os.environ.get("SHARED_DIR") or os.path.join(HERE, "..", "..", "..", "shared")
FIXTURES = os.path.join(SHARED, "fixtures", "osm-edge")
LINE_1_2 = [v for v in catalog.VERSIONS if catalog.at_least(v, "v1.2.0")]
LINE_1_1 = [v for v in catalog.VERSIONS if not catalog.at_least(v, "v1.2.0")]


@unittest.skipUnless(os.path.isdir(FIXTURES), "osm-edge fixtures not found (set SHARED_DIR)")
class CrdObjectsMatchFixtures(unittest.TestCase):
    def test_names_versions_columns_and_conversion(self):
        for v in catalog.VERSIONS:
            mine = {o["metadata"]["name"]: o for o in catalog.crd_objects(v)}
            files = glob.glob(os.path.join(FIXTURES, v.split("-")[0], "crds", "*.yaml"))
            theirs = {}
            for f in files:
                with open(f) as fh:
                    for d in yaml_subset.load_all(fh.read(), f):
                        if d:
                            theirs[d["metadata"]["name"]] = d
            self.assertEqual(set(theirs), set(mine), v)
            for name, d in theirs.items():
                m = mine[name]
                for key in ("group", "scope", "names", "conversion"):
                    self.assertEqual(d["spec"].get(key), m["spec"].get(key), f"{v} {name} {key}")
                self.assertEqual(d["metadata"].get("labels"), m["metadata"]["labels"])
                key = lambda x: (x["name"], x["served"], x["storage"], x.get("additionalPrinterColumns"),  # noqa
                                 sorted(x.get("subresources") or {}))
                self.assertEqual([key(x) for x in d["spec"]["versions"]], [key(x) for x in m["spec"]["versions"]],
                                 f"{v} {name}")
        self.assertEqual("v1alpha2", catalog.meshconfig_storage_version("v1.3.9"))


class CliRule(unittest.TestCase):
    def container(self, version, comp, image_version=None, args=None, env=True):
        d = {"bootstrap": chart.bootstrap, "controller": chart.controller, "injector": chart.injector}[comp](version)
        c = next(c for c in d["spec"]["template"]["spec"]["containers"] if c["name"] == f"osm-{comp}")
        if image_version:
            c["image"] = catalog.image(image_version, comp)
        if args is not None:
            c["args"] = args
        if not env:
            c["env"] = [e for e in c["env"] if e["name"] != "OSM_DEFAULT_INIT_CONTAINER_IMAGE"]
        return c

    def test_each_release_runs_with_its_own_chart(self):
        for v in catalog.VERSIONS:
            for comp in ("bootstrap", "controller", "injector"):
                self.assertIsNone(cli_check.fatal_error(self.container(v, comp)), f"{v} {comp}")

    def test_image_moves_within_a_flag_set_need_no_new_args(self):
        for line in (LINE_1_1, LINE_1_2):
            for a in line:
                for b in line:
                    for comp in ("bootstrap", "controller", "injector"):
                        if catalog.image_component(catalog.image(b, comp)) == comp:
                            self.assertIsNone(cli_check.fatal_error(self.container(a, comp, b)), f"{a} {b} {comp}")

    def test_crossing_1_1_and_1_2_is_fatal_with_the_guides_words_either_way(self):
        for a, b in (("v1.1.3", "v1.2.0"), ("v1.1.0", "v1.3.9"), ("v1.3.9", "v1.1.3"), ("v1.2.1-ubi8", "v1.1.2")):
            for comp in ("bootstrap", "controller", "injector"):
                err = cli_check.fatal_error(self.container(a, comp, b))
                self.assertEqual("Please specify the init container image using --init-container-image", err)
                self.assertEqual(catalog.FATAL_INIT_IMAGE_LINE, cli_check.fatal_log_line(err))

    def test_older_image_with_newer_args_names_the_newer_flags(self):
        c = self.container("v1.3.9", "bootstrap", "v1.1.3")
        self.assertEqual({"missing": [], "unknown": ["--enable-mesh-root-certificate", "--trust-domain"]},
                         cli_check.mismatch_details(c))
        c = self.container("v1.1.3", "controller", "v1.3.9")
        self.assertEqual({"missing": ["--enable-mesh-root-certificate", "--trust-domain"], "unknown": []},
                         cli_check.mismatch_details(c))

    def test_injector_without_init_image_is_fatal(self):
        err = cli_check.fatal_error(self.container("v1.3.9", "injector", env=False))
        self.assertIn("--init-container-image", err)
        ok = self.container("v1.3.9", "injector", env=False,
                            args=catalog.container_args("v1.3.9", "injector") +
                            ["--init-container-image", "flomesh/osm-edge-sidecar-init:1.3.9"])
        self.assertIsNone(cli_check.fatal_error(ok))

    def test_vault_flags_are_accepted_as_each_template_passes_them(self):
        args = catalog.container_args("v1.2.3", "controller") + ["--vault-host", "vault", "--vault-port", "8200"]
        self.assertIsNone(cli_check.fatal_error(self.container("v1.2.3", "controller", args=args)))
        # 1.1's templates never pass --vault-port
        args = catalog.container_args("v1.1.3", "controller") + ["--vault-host", "vault", "--vault-port", "8200"]
        self.assertEqual({"missing": [], "unknown": ["--vault-port"]},
                         cli_check.mismatch_details(self.container("v1.1.3", "controller", args=args)))

    def test_non_osm_containers_are_never_checked(self):
        self.assertIsNone(cli_check.fatal_error({"name": "precheck", "image": catalog.image("v1.3.9", "controller")}))
        self.assertIsNone(cli_check.fatal_error({"name": "osm-controller", "image": "nginx:latest"}))
        self.assertIsNone(cli_check.fatal_error({"name": "osm-controller", "image": "flomesh/osm-edge-controller:9.9.9",
                                                 "args": ["--nonsense"]}))


class ImagePulls(unittest.TestCase):
    def test_osm_edge_repositories_only_publish_what_releases_ran(self):
        pulls = ["flomesh/osm-edge-controller:1.3.9", "docker.io/flomesh/osm-edge-controller:1.3.9",
                 "flomesh/osm-edge-controller:1.1.1", "flomesh/pipy:0.90.3-38", "flomesh/pipy-repo:0.70.0-46",
                 "flomesh/pipy:0.50.0-25", "quay.io/flomesh/osm-edge-controller-ubi8:1.2.1",
                 "quay.io/flomesh/pipy-ubi8:0.70.0-46", "quay.io/flomesh/curl-ubi8:7.84.0",
                 "flomesh/osm-edge-interceptor:1.3.2", "flomesh/osm-edge-preinstall:1.2.0",
                 "flomesh/osm-edge-controller@sha256:" + "0" * 64,  # a digest: not a tag we can judge
                 "nginx:1.25", "nginx", "registry.example.com/fork/osm-edge-controller:1.4.0", "busybox:1",
                 "flomesh/pipy:9.9.9-notready", "flomesh/osm-edge-controller:9.9.9-crashloop"]
        fails = ["flomesh/osm-edge-controller:9.9.9", "docker.io/flomesh/osm-edge-controller:9.9.9",
                 "flomesh/osm-edge-controller:1.1.3",  # v1.1.3 ran images tagged 1.1.1
                 "flomesh/osm-edge-controller", "flomesh/pipy:0.0.1", "docker.io/flomesh/pipy-repo:1.0.0",
                 "quay.io/flomesh/osm-edge-controller-ubi8:1.3.9", "quay.io/flomesh/pipy-ubi8:0.90.3-38",
                 "flomesh/osm-edge-newcomponent:1.3.9", "flomesh/osm-edge-interceptor:1.3.1"]  # 1.3.2 named it first
        for img in pulls:
            self.assertTrue(mesh.image_known(img), img)
        for img in fails:
            self.assertFalse(mesh.image_known(img), img)

    def test_unpullable_patterns(self):
        saved = list(mesh.unpullable_images)
        mesh.unpullable_images[:] = ["example.invalid/*", "*:broken", "flomesh/pipy:*"]
        try:
            self.assertFalse(mesh.image_known("example.invalid/app:1"))
            self.assertFalse(mesh.image_known("nginx:broken"))
            self.assertFalse(mesh.image_known("flomesh/pipy:0.90.3-38"))  # a pattern wins over the catalog
            self.assertFalse(mesh.image_known("flomesh/pipy:1.0-notready"))  # and over the test tag conventions
            self.assertTrue(mesh.image_known("nginx:1.25"))
            self.assertTrue(mesh.image_known("flomesh/pipy-repo:0.90.3-38"))
        finally:
            mesh.unpullable_images[:] = saved

    def test_version_of_an_image(self):
        self.assertEqual("v1.1.1", catalog.version_of_image("flomesh/osm-edge-crds:1.1.1"))
        self.assertEqual("v1.2.1-ubi8", catalog.version_of_image("quay.io/flomesh/osm-edge-bootstrap-ubi8:1.2.1"))
        self.assertEqual("v1.3.9", catalog.version_of_image("docker.io/flomesh/osm-edge-injector:1.3.9"))
        self.assertIsNone(catalog.version_of_image("flomesh/osm-edge-controller:9.9.9"))
        self.assertIsNone(catalog.version_of_image("nginx:1.25"))
        self.assertEqual("sidecarInit", catalog.image_component("quay.io/flomesh/osm-edge-sidecar-init-ubi8:1.2.3"))


if __name__ == "__main__":
    unittest.main()
