"""The simulator's own osm-edge release data checked against the upstream fixtures (read in place):
image tags, default sidecar images, chart versions, the flags each control-plane template passes, the CRD set."""
import glob
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from sim.mesh import catalog, chart, cli_check  # noqa: E402

SHARED = os.environ.get("SHARED_DIR") or os.path.join(HERE, "..", "..", "..", "shared")
FIXTURES = os.path.join(SHARED, "fixtures", "osm-edge")

try:
    import yaml  # optional: only for the deep CRD comparison
except ImportError:  # pragma: no cover - CI may lack PyYAML
    yaml = None


def read(version, *path):
    with open(os.path.join(FIXTURES, version, *path)) as f:
        return f.read()


@unittest.skipUnless(os.path.isdir(FIXTURES), "osm-edge fixtures not found (set SHARED_DIR)")
class CatalogMatchesFixtures(unittest.TestCase):
    def test_chart_versions_tags_and_sidecar_images(self):
        for v in catalog.VERSIONS:
            r = catalog.release(v)
            chart_yaml = read(v, "chart", "Chart.yaml")
            values = read(v, "chart", "values.yaml")
            self.assertRegex(chart_yaml, rf"(?m)^version: {re.escape(r['chart_version'])}$", v)
            self.assertRegex(chart_yaml, rf"(?m)^appVersion: {re.escape(r['app_version'])}$", v)
            self.assertIn(f'kubeVersion: "{catalog.KUBE_VERSION}"', chart_yaml)
            self.assertRegex(values, rf'(?m)^    tag: "{re.escape(r["tag"])}"$', v)
            self.assertRegex(values, rf"(?m)^    registry: {catalog.REGISTRY}$", v)
            pipy = re.search(r"sidecarName: pipy\s*\n(?:\s*#.*\n)*\s*sidecarImage: (\S+)", values)
            self.assertEqual(r["sidecar_image"], pipy.group(1), v)
            self.assertIn(r["repo_image"], values, v)
            for name in ("controller", "injector", "sidecar-init", "bootstrap", "crds"):
                self.assertIn(f"osm-edge-{name}", values)
        self.assertEqual("flomesh/osm-edge-controller:1.1.1", catalog.image("v1.1.3", "controller"))

    def test_args_are_the_flags_each_template_passes_by_default(self):
        templates = {"bootstrap": "osm-bootstrap-deployment.yaml", "controller": "osm-deployment.yaml",
                     "injector": "osm-injector-deployment.yaml"}
        for v in catalog.VERSIONS:
            for comp, fname in templates.items():
                text = read(v, "chart", "templates", fname)
                block = text[text.index(f"command: ['/osm-{comp}']"):]
                block = block[block.index("args: ["):]
                block = block[:block.index("\n          ]")]
                # the --vault-* flags are passed only for certificateProvider.kind=vault
                want = [f for f in re.findall(r'"(--[a-z-]+)', block) if not f.startswith("--vault")]
                self.assertEqual(want, catalog.flag_names(catalog.container_args(v, comp)), f"{v} {comp}")

    def test_crd_sets_match(self):
        for v in catalog.VERSIONS:
            files = glob.glob(os.path.join(FIXTURES, v, "crds", "*.yaml"))
            names = set()
            for f in files:
                with open(f) as fh:
                    m = re.search(r"(?m)^  name: (\S+)$", fh.read())
                names.add(m.group(1))
            self.assertEqual(names, set(catalog.crd_names(v)), v)

    @unittest.skipIf(yaml is None, "PyYAML not available")
    def test_crd_names_versions_and_columns_match(self):
        for v in catalog.VERSIONS:
            mine = {o["metadata"]["name"]: o for o in catalog.crd_objects(v)}
            for f in glob.glob(os.path.join(FIXTURES, v, "crds", "*.yaml")):
                with open(f) as fh:
                    d = yaml.safe_load(fh)
                m = mine[d["metadata"]["name"]]
                self.assertEqual(d["spec"]["group"], m["spec"]["group"])
                self.assertEqual(d["spec"]["scope"], m["spec"]["scope"])
                self.assertEqual(d["spec"]["names"], m["spec"]["names"])
                self.assertEqual(d["metadata"].get("labels"), m["metadata"]["labels"])
                key = lambda x: (x["name"], x["served"], x["storage"], x.get("additionalPrinterColumns"),  # noqa
                                 bool(x.get("subresources")))
                self.assertEqual([key(x) for x in d["spec"]["versions"]], [key(x) for x in m["spec"]["versions"]],
                                 d["metadata"]["name"])


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

    def test_image_moves_between_1_2_and_1_3_need_no_new_args(self):
        self.assertIsNone(cli_check.fatal_error(self.container("v1.2.3", "controller", "v1.3.9")))
        self.assertIsNone(cli_check.fatal_error(self.container("v1.3.9", "injector", "v1.3.8")))

    def test_newer_image_with_1_1_args_is_fatal_with_the_guides_words(self):
        err = cli_check.fatal_error(self.container("v1.1.3", "controller", "v1.2.3"))
        self.assertEqual("Please specify the init container image using --init-container-image", err)
        self.assertEqual(catalog.FATAL_INIT_IMAGE_LINE, cli_check.fatal_log_line(err))

    def test_injector_without_init_image_is_fatal(self):
        err = cli_check.fatal_error(self.container("v1.3.9", "injector", env=False))
        self.assertIn("--init-container-image", err)
        ok = self.container("v1.3.9", "injector", env=False,
                            args=catalog.container_args("v1.3.9", "injector") +
                            ["--init-container-image", "flomesh/osm-edge-sidecar-init:1.3.9"])
        self.assertIsNone(cli_check.fatal_error(ok))

    def test_older_image_with_newer_args_is_fatal_too(self):
        c = self.container("v1.3.9", "bootstrap", "v1.1.3")
        self.assertEqual(catalog.FATAL_INIT_IMAGE_LINE, cli_check.fatal_log_line(cli_check.fatal_error(c)))
        self.assertEqual({"missing": [], "unknown": ["--enable-mesh-root-certificate", "--trust-domain"]},
                         cli_check.mismatch_details(c))

    def test_vault_flags_are_accepted_but_never_required(self):
        args = catalog.container_args("v1.2.3", "controller") + ["--vault-host", "vault", "--vault-port", "8200"]
        self.assertIsNone(cli_check.fatal_error(self.container("v1.2.3", "controller", args=args)))

    def test_non_osm_containers_are_never_checked(self):
        self.assertIsNone(cli_check.fatal_error({"name": "precheck", "image": catalog.image("v1.3.9", "controller")}))
        self.assertIsNone(cli_check.fatal_error({"name": "osm-controller", "image": "nginx:latest"}))


if __name__ == "__main__":
    unittest.main()
