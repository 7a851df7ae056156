#!/usr/bin/env python3
"""Conformance: all we ship is accepted under strict validation; each MeshUpgrade rule refuses with its message.

Every manifest and kustomization in crds/, deploy/ and examples/ is applied to kubesim; every
x-kubernetes-validations rule and main spec constraint of the MeshUpgrade CRD lets one object through (rules) and
refuses another with the line kubectl prints. kubectl 1.32's `apply` has no --field-validation flag:
`--validate=strict` is how it asks for fieldValidation=Strict, with server-side and client-side apply alike.
"""
import json
import os
import sys
import unittest
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, os.path.dirname(os.environ.get("KUBESIM") or str(REPO / "tests" / "kubesim" / "kubesim")))
import simtest  # noqa: E402
from test_deploy_manifests import load_yaml_file  # noqa: E402 (kubectl parses the YAML: no PyYAML here)

SHIPPED_DIRS = ("crds", "deploy", "examples")
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
CRD_FILE = REPO / "crds" / "meshupgrade.yaml"

# Files that are no Kubernetes object, each with the reason; everything else must be applied.
SKIPPED = {
    "deploy/README.md": "documentation",
    "examples/argocd/health.lua": "Lua that Argo CD runs, not an object: argocd-cm-patch.yaml carries it verbatim "
                                  "and is applied below; test_argocd_health.py runs it",
    "deploy/monitoring/dashboards/meshupgrade-operator.json": "a Grafana dashboard, not an object: "
                                                              "deploy/monitoring's kustomization makes it a ConfigMap, "
                                                              "applied below; test_monitoring.py checks it",
}

# Kinds of other projects our examples use. kubesim does not serve them, so the test installs a CRD for each that
# a shipped file needs: its schema keeps spec and status whole but declares the top level, so an object still goes
# through the API server's checks of apiVersion, kind and metadata, and a misspelt top-level field is refused.
FOREIGN_KINDS = {
    ("argoproj.io/v1alpha1", "Application"): "applications",
    ("argoproj.io/v1alpha1", "AppProject"): "appprojects",
    ("source.toolkit.fluxcd.io/v1", "GitRepository"): "gitrepositories",
    ("source.toolkit.fluxcd.io/v1", "HelmRepository"): "helmrepositories",
    ("source.toolkit.fluxcd.io/v1beta2", "OCIRepository"): "ocirepositories",
    ("kustomize.toolkit.fluxcd.io/v1", "Kustomization"): "kustomizations",
    ("helm.toolkit.fluxcd.io/v2", "HelmRelease"): "helmreleases",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitors",
    ("monitoring.coreos.com/v1", "PodMonitor"): "podmonitors",
    ("monitoring.coreos.com/v1", "PrometheusRule"): "prometheusrules",
    ("notification.toolkit.fluxcd.io/v1beta3", "Provider"): "providers",
    ("notification.toolkit.fluxcd.io/v1beta3", "Alert"): "alerts",
}

SSA = ("apply", "--server-side", "--validate=strict")
CLIENT_DRY_RUN = ("apply", "--validate=strict", "--dry-run=server")
NAMESPACE = "conformance"  # the rule and schema cases live here
SIM = None


def setUpModule():
    global SIM
    SIM = simtest.start([])


def tearDownModule():
    if SIM is not None:
        SIM.stop()


def kubectl(*args, input=None):
    return SIM.kubectl(*args, input=input)


def said(cp):
    return f"(exit {cp.returncode})\nstderr: {cp.stderr}\nstdout: {cp.stdout}"


def foreign_crd(api_version, kind, plural):
    group, version = api_version.split("/")
    keep = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": "Namespaced",
                 "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": kind + "List"},
                 "versions": [{"name": version, "served": True, "storage": True, "subresources": {"status": {}},
                               "schema": {"openAPIV3Schema": {
                                   "type": "object",
                                   "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                                                  "metadata": {"type": "object"}, "spec": keep,
                                                  "status": keep}}}}]},
    }


def shipped_files():
    """Every file under crds/, deploy/ and examples/, relative to the repository, sorted."""
    out = []
    for top in SHIPPED_DIRS:
        for path in sorted((REPO / top).rglob("*")):
            if path.is_file():
                out.append(path.relative_to(REPO).as_posix())
    return out


def classify():
    """(manifests {file: objects}, kustomization directories, files neither, with why)."""
    manifests, kustomizations, unclassified = {}, [], {}
    for rel in shipped_files():
        name = rel.rsplit("/", 1)[-1]
        if name in KUSTOMIZATION_NAMES:
            kustomizations.append(rel.rsplit("/", 1)[0])
        elif rel in SKIPPED:
            continue
        elif name.endswith((".yaml", ".yml")):
            try:
                objects = load_yaml_file(REPO / rel)
            except AssertionError as e:
                unclassified[rel] = f"not Kubernetes objects: {e}"
                continue
            bad = [o for o in objects if not (o.get("apiVersion") and o.get("kind") and
                                              o.get("metadata", {}).get("name"))]
            if not objects or bad:
                unclassified[rel] = "a document without apiVersion, kind or metadata.name"
            else:
                manifests[rel] = objects
        else:
            unclassified[rel] = "neither a manifest, a kustomization nor listed in SKIPPED"
    return manifests, kustomizations, unclassified


class ShippedManifestsTest(unittest.TestCase):
    """Applied as a user would: the kustomizations to a cluster without our objects, then every file on its own."""

    @classmethod
    def setUpClass(cls):
        cls.manifests, cls.kustomizations, cls.unclassified = classify()
        objects = [o for objs in cls.manifests.values() for o in objs]
        # The namespaces the examples assume exist (argocd, flux-system, osm-system): created here as the
        # cluster's owner would; namespaces we ship ourselves come from our own files.
        ours = {o["metadata"]["name"] for o in objects if o["kind"] == "Namespace"}
        assumed = sorted({o["metadata"]["namespace"] for o in objects if o["metadata"].get("namespace")} - ours)
        foreign = sorted({(o["apiVersion"], o["kind"]) for o in objects if (o["apiVersion"], o["kind"]) in
                          FOREIGN_KINDS})
        setup = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}} for n in assumed]
        setup += [foreign_crd(v, k, FOREIGN_KINDS[(v, k)]) for v, k in foreign]
        cls.foreign = foreign
        if setup:
            cp = kubectl(*SSA, "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": setup}))
            if cp.returncode != 0:
                raise AssertionError("installing the assumed namespaces and foreign CRDs: " + said(cp))

    def test_every_shipped_file_is_applied_or_skipped_with_a_reason(self):
        self.assertEqual(self.unclassified, {}, "apply these in this test, or list them in SKIPPED with why")
        files = set(shipped_files())
        self.assertEqual(sorted(set(SKIPPED) - files), [], "SKIPPED names files that are gone")
        self.assertIn("crds/meshupgrade.yaml", self.manifests, "the walk found the CRD")
        self.assertIn("deploy", self.kustomizations)

    def test_every_kustomization_and_manifest_is_accepted_under_strict_validation(self):
        # The kustomizations first, to a cluster without our objects (`kubectl apply -k deploy/` is the documented
        # install); their client-side dry run only after, since a dry-run Namespace is not there for what goes in it.
        for directory in sorted(self.kustomizations):
            with self.subTest(kustomization=directory):
                cp = kubectl(*SSA, "-k", str(REPO / directory))
                self.assertEqual(cp.returncode, 0, f"apply --server-side -k {directory}: " + said(cp))
                cp = kubectl(*CLIENT_DRY_RUN, "-k", str(REPO / directory))
                self.assertEqual(cp.returncode, 0, f"apply --dry-run=server -k {directory}: " + said(cp))
                cp = kubectl("get", "-k", str(REPO / directory), "-o", "name")
                self.assertEqual(cp.returncode, 0, f"get -k {directory}: " + said(cp))

        # Then each file alone, CRDs and namespaces first; the client-side dry run goes first so that objects
        # no kustomization created (the examples) take the create path there too.
        def order(rel):
            kinds = {o["kind"] for o in self.manifests[rel]}
            return (0 if "CustomResourceDefinition" in kinds else 1 if "Namespace" in kinds else 2, rel)

        for rel in sorted(self.manifests, key=order):
            with self.subTest(file=rel):
                path = str(REPO / rel)
                cp = kubectl(*CLIENT_DRY_RUN, "-f", path)
                self.assertEqual(cp.returncode, 0, f"apply --validate=strict --dry-run=server -f {rel}: " + said(cp))
                cp = kubectl(*SSA, "-f", path)
                self.assertEqual(cp.returncode, 0, f"apply --server-side --validate=strict -f {rel}: " + said(cp))
                cp = kubectl("get", "-f", path, "-o", "name")
                self.assertEqual(cp.returncode, 0, f"get -f {rel}: " + said(cp))
                self.assertEqual(len(cp.stdout.split()), len(self.manifests[rel]), cp.stdout)

    def test_a_foreign_object_is_still_checked(self):
        # The CRDs above are permissive inside spec, not a blank cheque: the top level and metadata are checked.
        self.assertTrue(self.foreign, "the examples use Argo CD and Flux kinds")
        api_version, kind = self.foreign[0]
        base = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "checked", "namespace": NAMESPACE}}
        kubectl("create", "namespace", NAMESPACE)
        cp = kubectl(*CLIENT_DRY_RUN, "-f", "-", input=json.dumps(dict(base, sepc={})))
        self.assertNotEqual(cp.returncode, 0, f"{kind} with a misspelt spec accepted: " + said(cp))
        self.assertIn('strict decoding error: unknown field "sepc"', cp.stderr)
        bad_name = dict(base, metadata={"name": "Not_A_Name", "namespace": NAMESPACE}, spec={})
        cp = kubectl(*SSA, "-f", "-", input=json.dumps(bad_name))
        self.assertNotEqual(cp.returncode, 0, f"{kind} with an invalid name accepted: " + said(cp))
        self.assertIn(f'The {kind} "Not_A_Name" is invalid: metadata.name: Invalid value: "Not_A_Name": '
                      "a lowercase RFC 1123 subdomain must consist of", cp.stderr)

    def misspelt_deployment(self):
        """deploy/deployment.yaml with one field misspelt, in the test's namespace."""
        [deployment] = load_yaml_file(REPO / "deploy" / "deployment.yaml")
        deployment["metadata"]["namespace"] = NAMESPACE
        deployment["spec"]["revisionHistoryLimt"] = deployment["spec"].pop("revisionHistoryLimit")
        kubectl("create", "namespace", NAMESPACE)
        return json.dumps(deployment)

    def test_a_misspelt_field_in_a_built_in_kind_is_refused_by_client_side_apply(self):
        cp = kubectl(*CLIENT_DRY_RUN, "-f", "-", input=self.misspelt_deployment())
        self.assertNotEqual(cp.returncode, 0, "a Deployment with a misspelt field accepted: " + said(cp))
        self.assertIn('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
                      'unknown field "spec.revisionHistoryLimt"', cp.stderr)

    def test_a_misspelt_field_in_a_built_in_kind_is_refused_by_server_side_apply(self):
        cp = kubectl(*SSA, "--dry-run=server", "-f", "-", input=self.misspelt_deployment())
        self.assertNotEqual(cp.returncode, 0, "a Deployment with a misspelt field accepted: " + said(cp))
        self.assertIn(".spec.revisionHistoryLimt: field not declared in schema", cp.stderr)


# ---------------------------------------------------------------------------------------------- the MeshUpgrade

def mesh_upgrade(name, spec):
    obj = {"apiVersion": "upgrade.flomesh.io/v1alpha1", "kind": "MeshUpgrade",
           "metadata": {"name": name, "namespace": NAMESPACE}}
    if spec is not None:
        obj["spec"] = spec
    return json.dumps(obj)


def crd_schema():
    [crd] = load_yaml_file(CRD_FILE)
    [version] = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


def walk(schema, path=""):
    """(path, node) for every schema node; array items are `[*]`. status is left out: only the operator writes it,
    through /status, and its constraints are what the operator's own tests pin."""
    yield path, schema
    for name, sub in (schema.get("properties") or {}).items():
        if path == "" and name in ("status", "metadata"):
            continue
        yield from walk(sub, f"{path}.{name}".lstrip("."))
    if isinstance(schema.get("items"), dict):
        yield from walk(schema["items"], f"{path}[*]")


def validation_rules(schema):
    """{(path, rule): (message, the node's type)} for every x-kubernetes-validations rule."""
    return {(path, r["rule"]): (r["message"], node.get("type"))
            for path, node in walk(schema) for r in node.get("x-kubernetes-validations") or []}


def constraints(schema):
    """{(path, keyword): node}: every required field, enum, pattern and minimum of the spec."""
    out = {}
    for path, node in walk(schema):
        for name in node.get("required") or []:
            out[(f"{path}.{name}".lstrip("."), "required")] = node
        for keyword in ("enum", "pattern", "minimum"):
            if keyword in node:
                out[(path, keyword)] = node
    return out


def lookup(obj, path):
    for part in path.replace("[0]", ".0").split("."):
        obj = obj[int(part)] if isinstance(obj, list) else obj[part]
    return obj


def invalid(name, detail):
    """The line kubectl prints for a refusal with one cause."""
    return f'The MeshUpgrade "{name}" is invalid: {detail}'


@dataclass
class RuleCase:
    accepted: dict                # a spec the rule lets through
    refused: dict                 # a spec it refuses
    created: dict | None = None   # for oldSelf rules: created first; accepted and refused are updates of it


TV = "v1.3.9"
# Every rule of crds/meshupgrade.yaml, keyed by where it sits and its text: a new rule needs a row here.
RULE_CASES = {
    ("spec", "has(self.containerRegistry) == has(self.imageTag)"): RuleCase(
        accepted={"targetVersion": TV, "containerRegistry": "ghcr.io/acme/osm", "imageTag": "1.3.9"},
        refused={"targetVersion": TV, "imageTag": "1.3.9"}),
    ("spec", "has(oldSelf.osmNamespace) == has(self.osmNamespace)"): RuleCase(
        created={"targetVersion": TV},
        accepted={"targetVersion": "v1.3.10"},
        refused={"targetVersion": TV, "osmNamespace": "osm-system"}),   # added after creation
    ("spec.meshName", "self == oldSelf"): RuleCase(
        created={"targetVersion": TV, "meshName": "osm"},
        accepted={"targetVersion": "v1.3.10", "meshName": "osm"},
        refused={"targetVersion": TV, "meshName": "other"}),
    ("spec.osmNamespace", "self == oldSelf"): RuleCase(
        created={"targetVersion": TV, "osmNamespace": "osm-system"},
        accepted={"targetVersion": "v1.3.10", "osmNamespace": "osm-system"},
        refused={"targetVersion": TV, "osmNamespace": "elsewhere"}),
    ("spec.crds", "!has(self.source) || self.source != 'ConfigMap' || has(self.configMapRef)"): RuleCase(
        accepted={"targetVersion": TV, "crds": {"source": "ConfigMap", "configMapRef": {"name": "osm-crds"}}},
        refused={"targetVersion": TV, "crds": {"source": "ConfigMap"}}),
    ("spec.timeouts.controlPlane", "!self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$') || (duration(self) > duration('0s') && "
     "duration(self) <= duration('720h'))"): RuleCase(
        accepted={"targetVersion": TV, "timeouts": {"controlPlane": "1.5m"}},
        refused={"targetVersion": TV, "timeouts": {"controlPlane": "3000000h"}}),
    ("spec.timeouts.perWorkload", "!self.matches('^([0-9]+([.][0-9]+)?(ns|us|ms|s|m|h))+$') || (duration(self) > duration('0s') && "
     "duration(self) <= duration('720h'))"): RuleCase(
        accepted={"targetVersion": TV, "timeouts": {"perWorkload": "90000ms"}},
        refused={"targetVersion": TV, "timeouts": {"perWorkload": "0s"}}),
    ("spec.controlPlane", "!has(self.source) || self.source != 'Manifests' || has(self.manifestsRef)"): RuleCase(
        accepted={"targetVersion": TV, "controlPlane": {"source": "Manifests", "manifestsRef": {"name": "osm"}}},
        refused={"targetVersion": TV, "controlPlane": {"source": "Manifests"}}),
}

# One refused spec per required field, enum, pattern and minimum of the spec (array items: the first one).
CONSTRAINT_CASES = {
    ("spec", "required"): None,
    ("spec.targetVersion", "required"): {"meshName": "osm"},
    ("spec.targetVersion", "pattern"): {"targetVersion": "1.3"},
    ("spec.meshName", "pattern"): {"targetVersion": TV, "meshName": "Osm_Mesh"},
    ("spec.osmNamespace", "pattern"): {"targetVersion": TV, "osmNamespace": "osm.system"},
    ("spec.containerRegistry", "pattern"): {"targetVersion": TV, "containerRegistry": "ghcr.io/Acme",
                                            "imageTag": "1.3.9"},
    ("spec.imageTag", "pattern"): {"targetVersion": TV, "containerRegistry": "flomesh", "imageTag": "1.3.9+x"},
    ("spec.crds.source", "enum"): {"targetVersion": TV, "crds": {"source": "Git"}},
    ("spec.crds.configMapRef.name", "required"): {"targetVersion": TV,
                                                  "crds": {"source": "ConfigMap", "configMapRef": {}}},
    ("spec.controlPlane.source", "enum"): {"targetVersion": TV, "controlPlane": {"source": "Helm"}},
    ("spec.controlPlane.manifestsRef.name", "required"): {
        "targetVersion": TV, "controlPlane": {"source": "Manifests", "manifestsRef": {}}},
    ("spec.sidecar.maxConcurrent", "pattern"): {"targetVersion": TV, "sidecar": {"maxConcurrent": "ten"}},
    ("spec.sidecar.maxConcurrent", "minimum"): {"targetVersion": TV, "sidecar": {"maxConcurrent": 0}},
    ("spec.sidecar.failureThreshold", "minimum"): {"targetVersion": TV, "sidecar": {"failureThreshold": 0}},
    ("spec.sidecar.namespaceSelector.matchExpressions[*].key", "required"): {
        "targetVersion": TV, "sidecar": {"namespaceSelector": {"matchExpressions": [{"operator": "Exists"}]}}},
    ("spec.sidecar.namespaceSelector.matchExpressions[*].operator", "required"): {
        "targetVersion": TV, "sidecar": {"namespaceSelector": {"matchExpressions": [{"key": "team"}]}}},
    ("spec.sidecar.namespaceSelector.matchExpressions[*].operator", "enum"): {
        "targetVersion": TV, "sidecar": {"namespaceSelector": {"matchExpressions": [{"key": "team",
                                                                                   "operator": "Has"}]}}},
    ("spec.timeouts.controlPlane", "pattern"): {"targetVersion": TV, "timeouts": {"controlPlane": "10 minutes"}},
    ("spec.timeouts.perWorkload", "pattern"): {"targetVersion": TV, "timeouts": {"perWorkload": "5"}},
}


def expected_detail(path, keyword, node, obj):
    """What the API server says about one broken constraint (apiextensions-apiserver's wording)."""
    where = path.replace("[*]", "[0]")
    if keyword == "required":
        return f"{where}: Required value"
    value = lookup(obj, where)
    if keyword == "enum":
        return (f"{where}: Unsupported value: {json.dumps(value)}: supported values: " +
                ", ".join(json.dumps(e) for e in node["enum"]))
    if keyword == "pattern":
        return f"{where}: Invalid value: {json.dumps(value)}: {where} in body should match '{node['pattern']}'"
    if keyword == "minimum":
        return (f"{where}: Invalid value: {value}: {where} in body should be greater than or equal to "
                f"{node['minimum']}")
    raise AssertionError(f"no wording for {keyword}")


class MeshUpgradeValidationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.schema = crd_schema()
        cp = kubectl(*SSA, "-f", str(CRD_FILE))
        if cp.returncode != 0:
            raise AssertionError("the CRD: " + said(cp))
        kubectl("create", "namespace", NAMESPACE)

    def apply(self, name, spec, server_side=True):
        args = SSA if server_side else CLIENT_DRY_RUN
        return kubectl(*args, "-f", "-", input=mesh_upgrade(name, spec))

    def live_spec(self, name):
        cp = kubectl("get", "meshupgrade", name, "-n", NAMESPACE, "-o", "json")
        return json.loads(cp.stdout)["spec"] if cp.returncode == 0 else None

    def assert_accepted(self, name, spec, server_side=True):
        cp = self.apply(name, spec, server_side)
        self.assertEqual(cp.returncode, 0, f"{name} refused: " + said(cp))

    def assert_refused(self, name, spec, line, server_side=True):
        cp = self.apply(name, spec, server_side)
        self.assertNotEqual(cp.returncode, 0, f"{name} accepted: {json.dumps(spec)}")
        self.assertIn(line, cp.stderr.splitlines(), said(cp))

    def test_every_rule_has_a_case(self):
        rules = set(validation_rules(self.schema))
        self.assertEqual(sorted(rules - set(RULE_CASES)), [], "rules of the CRD without a case in RULE_CASES")
        self.assertEqual(sorted(set(RULE_CASES) - rules), [], "cases for rules the CRD no longer has")

    def test_each_rule_lets_one_object_through_and_refuses_another_with_its_message(self):
        for i, ((path, rule), (message, kind)) in enumerate(sorted(validation_rules(self.schema).items())):
            case = RULE_CASES.get((path, rule))
            if case is None:
                continue  # test_every_rule_has_a_case reports it
            ok, bad = f"rule{i}-accepted", f"rule{i}-refused"
            line = invalid(bad, f'{path}: Invalid value: "{kind}": {message}')
            with self.subTest(path=path, rule=rule):
                if case.created is None:
                    for server_side in (False, True):  # the create path of both kinds of apply
                        self.assert_accepted(ok, case.accepted, server_side)
                        self.assert_refused(bad, case.refused, line, server_side)
                    self.assertIsNone(self.live_spec(bad), f"{bad} was stored")
                    continue
                # An oldSelf rule runs on updates only: create both, then update.
                for name in (ok, bad):
                    self.assert_accepted(name, case.created)
                before = self.live_spec(bad)
                self.assert_accepted(ok, case.accepted)
                self.assert_refused(bad, case.refused, line)
                self.assertEqual(self.live_spec(bad), before, f"{bad} changed although refused")

    def test_every_spec_constraint_has_a_case(self):
        found = set(constraints(self.schema))
        self.assertEqual(sorted(found - set(CONSTRAINT_CASES)), [], "constraints without a case in CONSTRAINT_CASES")
        self.assertEqual(sorted(set(CONSTRAINT_CASES) - found), [], "cases for constraints the CRD no longer has")

    def test_each_spec_constraint_refuses_with_the_message_kubectl_prints(self):
        found = constraints(self.schema)
        for i, ((path, keyword), spec) in enumerate(sorted(CONSTRAINT_CASES.items(), key=lambda kv: kv[0])):
            if (path, keyword) not in found:
                continue  # test_every_spec_constraint_has_a_case reports it
            name = f"schema{i}"
            obj = {"spec": spec} if spec is not None else {}
            line = invalid(name, expected_detail(path, keyword, found[(path, keyword)], obj))
            with self.subTest(path=path, keyword=keyword):
                for server_side in (False, True):
                    self.assert_refused(name, spec, line, server_side)
                self.assertIsNone(self.live_spec(name), f"{name} was stored")

    def test_a_wrong_type_is_refused(self):
        path = "spec.sidecar.failureThreshold"
        self.assert_refused("wrong-type", {"targetVersion": TV, "sidecar": {"failureThreshold": "ten"}},
                            invalid("wrong-type", f'{path}: Invalid value: "ten": {path} in body must be of type '
                                                  'integer: "string"'))

    def test_a_misspelt_field_is_refused_by_client_side_apply(self):
        cp = self.apply("misspelt", {"targetVersion": TV, "sidecar": {"maxConcurent": 5}}, server_side=False)
        self.assertNotEqual(cp.returncode, 0, said(cp))
        self.assertIn('MeshUpgrade in version "v1alpha1" cannot be handled as a MeshUpgrade: strict decoding error: '
                      'unknown field "spec.sidecar.maxConcurent"', cp.stderr)

    def test_a_misspelt_field_is_refused_by_server_side_apply(self):
        cp = kubectl(*SSA, "--dry-run=server", "-f", "-",
                     input=mesh_upgrade("misspelt-ssa", {"targetVersion": TV, "sidecar": {"maxConcurent": 5}}))
        self.assertNotEqual(cp.returncode, 0, said(cp))
        self.assertIn(f"failed to create typed patch object ({NAMESPACE}/misspelt-ssa; "
                      "upgrade.flomesh.io/v1alpha1, Kind=MeshUpgrade): .spec.sidecar.maxConcurent: "
                      "field not declared in schema", cp.stderr)


def load_tests(loader, tests, pattern):
    # The shipped files first, while the cluster is empty; then the MeshUpgrade cases.
    suite = unittest.TestSuite()
    for cls in (ShippedManifestsTest, MeshUpgradeValidationTest):
        suite.addTests(loader.loadTestsFromTestCase(cls))
    return suite


if __name__ == "__main__":
    unittest.main(verbosity=2)
