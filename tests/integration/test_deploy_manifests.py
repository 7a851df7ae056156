#!/usr/bin/env python3
"""deploy/ renders with kubectl kustomize into least-privilege, hardened manifests; the CRD and examples agree."""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAMESPACE = "meshupgrade-system"
SERVICE_ACCOUNT = "meshupgrade-operator"
IMAGE = "ghcr.io/flomesh-io/meshupgrade-operator"

# The ClusterRole the operator needs, rule by rule: (apiGroup, resource) -> verbs. Exactly this, no more.
EXPECTED_CLUSTER_RULES = {
    # Exactly what the operator calls (test_rbac.py removes each grant and sees the operator fail clearly):
    # reads go through informers (list, watch); the only get is a ConfigMap of manifests; Helm's record is written
    # as Helm writes it (create the next revision, update the previous, delete beyond the history limit).
    ("upgrade.flomesh.io", "meshupgrades"): {"list", "watch", "patch"},
    ("upgrade.flomesh.io", "meshupgrades/status"): {"update"},
    ("apps", "deployments"): {"list", "watch", "patch"},
    ("apps", "statefulsets"): {"list", "watch", "patch"},
    ("apps", "daemonsets"): {"list", "watch", "patch"},
    ("", "pods"): {"list", "watch", "create", "delete"},
    ("", "namespaces"): {"list", "watch"},
    ("", "secrets"): {"list", "create", "update", "delete"},
    ("", "configmaps"): {"get", "list", "watch"},
    ("", "events"): {"create", "list"},
    ("config.openservicemesh.io", "meshconfigs"): {"list", "watch", "patch"},
    ("apiextensions.k8s.io", "customresourcedefinitions"): {"list", "watch", "create", "patch"},
}
EXPECTED_LEASE_RULES = {("coordination.k8s.io", "leases"): {"get", "create", "update"}}


def kubectl():
    path = shutil.which("kubectl")
    if not path:
        raise AssertionError("kubectl is not on PATH: scripts/deps checks for it; install kubectl to run this test")
    return path


def offline_env():
    # No cluster is consulted: an empty kubeconfig keeps kubectl from reaching for one.
    env = dict(os.environ)
    env["KUBECONFIG"] = os.devnull
    return env


def yaml_to_objects(text):
    """Turns a multi-document YAML stream into dicts with kubectl itself (the standard library has no YAML).

    `kubectl label --local` parses every document and prints it as JSON without a server; removing a label
    nobody has changes nothing but leaves `metadata.labels: {}` behind, which is dropped again here.
    """
    out = subprocess.run([kubectl(), "label", "--local", "-f", "-", "meshupgrade.test/none-", "-o", "json"],
                         input=text, capture_output=True, text=True, env=offline_env(), timeout=120)
    if out.returncode != 0:
        raise AssertionError("kubectl could not parse the YAML: " + out.stderr)
    decoder, objects, pos, body = json.JSONDecoder(), [], 0, out.stdout
    while True:
        while pos < len(body) and body[pos].isspace():
            pos += 1
        if pos >= len(body):
            break
        obj, pos = decoder.raw_decode(body, pos)
        items = obj["items"] if obj.get("kind") == "List" else [obj]
        for item in items:
            if item.get("metadata", {}).get("labels") == {}:
                del item["metadata"]["labels"]
            objects.append(item)
    return objects


def load_yaml_file(path):
    return yaml_to_objects(Path(path).read_text())


def render_deploy():
    out = subprocess.run([kubectl(), "kustomize", str(REPO / "deploy")], capture_output=True, text=True,
                         env=offline_env(), timeout=120)
    if out.returncode != 0:
        raise AssertionError("kubectl kustomize deploy/ failed: " + out.stderr)
    return out.stdout


class SchemaError(Exception):
    pass


def validate(schema, value, path="", root=True):
    """A small structural-schema validator: types, enums, patterns, minimums, required, unknown fields.

    It is no API server (no CEL, no formats) but catches the mistakes an example file can make: a misspelt field
    (the server would prune it silently), a wrong type, an enum value that does not exist.
    """
    if schema.get("x-kubernetes-int-or-string"):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise SchemaError(f"{path}: want an integer or a string, got {value!r}")
    else:
        kind = schema.get("type")
        want = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int,
                "number": (int, float)}.get(kind)
        if want and (not isinstance(value, want) or (kind in ("integer", "number") and isinstance(value, bool))):
            raise SchemaError(f"{path}: want {kind}, got {value!r}")
    if "enum" in schema and value not in schema["enum"]:
        raise SchemaError(f"{path}: {value!r} is not one of {schema['enum']}")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        raise SchemaError(f"{path}: {value!r} does not match {schema['pattern']}")
    if isinstance(value, int) and not isinstance(value, bool) and "minimum" in schema and value < schema["minimum"]:
        raise SchemaError(f"{path}: {value} is below the minimum {schema['minimum']}")
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                raise SchemaError(f"{path}.{name}: required")
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, sub in value.items():
            if root and key in ("apiVersion", "kind", "metadata"):
                continue
            if props is not None and key in props:
                validate(props[key], sub, f"{path}.{key}", False)
            elif isinstance(extra, dict):
                validate(extra, sub, f"{path}.{key}", False)
            elif not schema.get("x-kubernetes-preserve-unknown-fields") and (props is not None or extra is not None):
                raise SchemaError(f"{path}.{key}: unknown field (the API server would drop it)")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(schema["items"], item, f"{path}[{i}]", False)


def schema_paths(schema, path=""):
    """Every leaf path of a schema's properties (objects without properties count as leaves)."""
    props = schema.get("properties")
    if not props:
        return {path}
    paths = set()
    for key, sub in props.items():
        paths |= schema_paths(sub, f"{path}.{key}")
    return paths


def value_paths(value, path=""):
    if isinstance(value, dict) and value:
        paths = {path}
        for key, sub in value.items():
            paths |= value_paths(sub, f"{path}.{key}")
        return paths
    if isinstance(value, list) and value and isinstance(value[0], dict):
        paths = {path}
        for item in value:
            paths |= value_paths(item, path)
        return paths
    return {path}


class DeployManifestsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objects = yaml_to_objects(render_deploy())
        cls.by_kind = {}
        for obj in cls.objects:
            cls.by_kind.setdefault(obj["kind"], []).append(obj)

    def one(self, kind):
        found = self.by_kind.get(kind, [])
        self.assertEqual(len(found), 1, f"want exactly one {kind} in deploy/, got {len(found)}")
        return found[0]

    def test_renders_every_piece_once(self):
        kinds = sorted(obj["kind"] for obj in self.objects)
        self.assertEqual(kinds, sorted(["CustomResourceDefinition", "Namespace", "ServiceAccount", "ClusterRole",
                                        "ClusterRoleBinding", "Role", "RoleBinding", "Deployment", "Service"]))
        self.assertEqual(self.one("Namespace")["metadata"]["name"], NAMESPACE)
        for obj in self.objects:
            if obj["kind"] not in ("CustomResourceDefinition", "Namespace", "ClusterRole", "ClusterRoleBinding"):
                self.assertEqual(obj["metadata"].get("namespace"), NAMESPACE, obj["kind"])

    def test_cluster_role_is_exactly_the_operators_calls_and_has_no_wildcard(self):
        role = self.one("ClusterRole")
        self.assertNotIn("*", json.dumps(role), "a wildcard in the ClusterRole")
        got = {}
        for rule in role["rules"]:
            self.assertNotIn("nonResourceURLs", rule)
            self.assertNotIn("resourceNames", rule)
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    got.setdefault((group, resource), set()).update(rule["verbs"])
        self.assertEqual(got, EXPECTED_CLUSTER_RULES)

    def test_cluster_role_covers_every_resource_the_controllers_name(self):
        # A resource the reconciler starts to use without a rule here would fail with Forbidden in a cluster.
        named = set()
        for source in list((REPO / "controllers").rglob("*.h")) + list((REPO / "controllers").rglob("*.cpp")):
            for group, resource in re.findall(r'Gvr\s+\w+\s*\{\s*"([^"]*)"\s*,\s*"[^"]*"\s*,\s*"([^"]+)"',
                                              source.read_text(errors="replace")):
                named.add((group, resource))
        self.assertIn(("apps", "deployments"), named, "the scan found the controllers' resource names")
        granted = {(group, resource) for rule in self.one("ClusterRole")["rules"]
                   for group in rule["apiGroups"] for resource in rule["resources"]}
        self.assertEqual(sorted(named - granted), [], "resources the controllers use but deploy/ does not grant")

    def test_lease_role_is_namespaced_and_narrow(self):
        role = self.one("Role")
        self.assertNotIn("*", json.dumps(role))
        got = {}
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    got.setdefault((group, resource), set()).update(rule["verbs"])
        self.assertEqual(got, EXPECTED_LEASE_RULES)

    def test_bindings_grant_the_roles_to_the_service_account(self):
        account = self.one("ServiceAccount")
        self.assertEqual(account["metadata"]["name"], SERVICE_ACCOUNT)
        for kind, role_kind in (("ClusterRoleBinding", "ClusterRole"), ("RoleBinding", "Role")):
            binding = self.one(kind)
            self.assertEqual(binding["roleRef"], {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                                                  "name": self.one(role_kind)["metadata"]["name"]})
            self.assertEqual(binding["subjects"], [{"kind": "ServiceAccount", "name": SERVICE_ACCOUNT,
                                                    "namespace": NAMESPACE}])

    def test_deployment_is_hardened_probed_and_leader_elected(self):
        deploy = self.one("Deployment")
        self.assertEqual(deploy["spec"]["replicas"], 2)
        pod = deploy["spec"]["template"]["spec"]
        self.assertEqual(pod["serviceAccountName"], SERVICE_ACCOUNT)
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertEqual(pod["securityContext"]["runAsUser"], 65532)
        self.assertEqual(pod["securityContext"]["seccompProfile"], {"type": "RuntimeDefault"})
        [container] = pod["containers"]
        self.assertIn("--leader-elect", container["args"])
        # The flags name the ports the probes, the Service and the Dockerfile's EXPOSE use.
        self.assertIn("--metrics-bind-address=:8080", container["args"])
        self.assertIn("--health-probe-bind-address=:8081", container["args"])
        self.assertIn("--leader-election-namespace=$(POD_NAMESPACE)", container["args"])
        self.assertIn("POD_NAMESPACE", [e["name"] for e in container["env"]])
        ctx = container["securityContext"]
        self.assertTrue(ctx["runAsNonRoot"])
        self.assertEqual(ctx["runAsUser"], 65532)
        self.assertTrue(ctx["readOnlyRootFilesystem"])
        self.assertFalse(ctx["allowPrivilegeEscalation"])
        self.assertEqual(ctx["capabilities"], {"drop": ["ALL"]})
        self.assertEqual(ctx["seccompProfile"], {"type": "RuntimeDefault"})
        self.assertEqual(container["resources"], {"requests": {"cpu": "50m", "memory": "32Mi"},
                                                  "limits": {"cpu": "500m", "memory": "128Mi"}})
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        self.assertEqual(ports, {"metrics": 8080, "health": 8081})
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = container[probe]["httpGet"]
            self.assertEqual(get["path"], path)
            self.assertIn(get["port"], (8081, "health"))
        labels = deploy["spec"]["template"]["metadata"]["labels"]
        for key, want in deploy["spec"]["selector"]["matchLabels"].items():
            self.assertEqual(labels.get(key), want)

    def test_image_tag_is_the_version_file(self):
        version = (REPO / "VERSION").read_text().strip()
        [container] = self.one("Deployment")["spec"]["template"]["spec"]["containers"]
        self.assertEqual(container["image"], f"{IMAGE}:{version}")

    def test_metrics_service_selects_the_operator_pods(self):
        service = self.one("Service")
        labels = self.one("Deployment")["spec"]["template"]["metadata"]["labels"]
        for key, want in service["spec"]["selector"].items():
            self.assertEqual(labels.get(key), want)
        [port] = service["spec"]["ports"]
        self.assertEqual((port["port"], port["targetPort"]), (8080, "metrics"))

    def test_kustomization_includes_the_crd_file_itself(self):
        rendered = self.one("CustomResourceDefinition")
        [on_disk] = load_yaml_file(REPO / "crds" / "meshupgrade.yaml")
        self.assertEqual(rendered, on_disk)


class CrdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        [cls.crd] = load_yaml_file(REPO / "crds" / "meshupgrade.yaml")
        [cls.version] = cls.crd["spec"]["versions"]
        cls.schema = cls.version["schema"]["openAPIV3Schema"]
        cls.spec = cls.schema["properties"]["spec"]
        cls.status = cls.schema["properties"]["status"]

    def test_names_scope_and_version(self):
        spec = self.crd["spec"]
        self.assertEqual(self.crd["metadata"]["name"], "meshupgrades.upgrade.flomesh.io")
        self.assertEqual(spec["group"], "upgrade.flomesh.io")
        self.assertEqual(spec["scope"], "Namespaced")
        self.assertEqual(spec["names"], {"kind": "MeshUpgrade", "listKind": "MeshUpgradeList",
                                         "plural": "meshupgrades", "singular": "meshupgrade",
                                         "shortNames": ["mu"], "categories": ["osm"]})
        self.assertEqual((self.version["name"], self.version["served"], self.version["storage"]),
                         ("v1alpha1", True, True))
        self.assertEqual(self.version["subresources"], {"status": {}})

    def test_printer_columns(self):
        columns = [(c["name"].upper(), c["jsonPath"]) for c in self.version["additionalPrinterColumns"]
                   if not c.get("priority")]
        self.assertEqual(columns, [
            ("MESH", ".spec.meshName"), ("FROM", ".status.fromVersion"), ("TO", ".spec.targetVersion"),
            ("PHASE", ".status.phase"), ("PROGRESS", ".status.progress"),
            ("READY", '.status.conditions[?(@.type=="Ready")].status'), ("AGE", ".metadata.creationTimestamp")])

    def test_schema_is_structural(self):
        def walk(node, path):
            exempt = node.get("x-kubernetes-int-or-string") or node.get("x-kubernetes-preserve-unknown-fields")
            self.assertTrue("type" in node or exempt, f"{path} has no type")
            for key, sub in node.get("properties", {}).items():
                walk(sub, f"{path}.{key}")
            if "items" in node:
                walk(node["items"], path + "[]")
            if isinstance(node.get("additionalProperties"), dict):
                walk(node["additionalProperties"], path + "{}")
        walk(self.schema, "")

    def test_spec_defaults_reach_nested_fields(self):
        props = self.spec["properties"]
        self.assertEqual(self.spec["required"], ["targetVersion"])
        self.assertEqual(props["meshName"]["default"], "osm")
        self.assertNotIn("default", props["osmNamespace"])
        for obj in ("crds", "controlPlane", "sidecar", "policy", "precheck", "timeouts"):
            self.assertEqual(props[obj].get("default"), {}, f"spec.{obj} must default to {{}}")
        sidecar = props["sidecar"]["properties"]
        self.assertEqual(sidecar["maxConcurrent"]["default"], 10)
        self.assertTrue(sidecar["maxConcurrent"]["x-kubernetes-int-or-string"])
        self.assertEqual((sidecar["failureThreshold"]["default"], sidecar["failureThreshold"]["minimum"]), (1, 1))
        self.assertIs(sidecar["restartWorkloads"]["default"], True)
        self.assertEqual(props["crds"]["properties"]["source"]["enum"], ["Bootstrap", "ConfigMap", "Skip"])
        self.assertEqual(props["controlPlane"]["properties"]["source"]["enum"], ["Images", "Manifests"])
        self.assertIs(props["rollbackOnFailure"]["default"], True)
        for flag in ("suspend", "dryRun"):
            self.assertIs(props[flag]["default"], False)
        self.assertEqual(props["timeouts"]["properties"]["controlPlane"]["default"], "10m")
        self.assertEqual(props["timeouts"]["properties"]["perWorkload"]["default"], "5m")
        self.assertTrue(props["meshConfigPatch"]["x-kubernetes-preserve-unknown-fields"])

    def test_cel_rules_carry_the_messages_users_see(self):
        props = self.spec["properties"]
        messages = {r["message"]: r["rule"] for r in self.spec["x-kubernetes-validations"]}
        self.assertEqual(messages["containerRegistry and imageTag must be set together"],
                         "has(self.containerRegistry) == has(self.imageTag)")
        for field in ("meshName", "osmNamespace"):
            [rule] = props[field]["x-kubernetes-validations"]
            self.assertEqual((rule["rule"], rule["message"]), ("self == oldSelf", f"{field} is immutable"))

    def test_patterns_accept_and_refuse_what_docs_api_md_says(self):
        props = self.spec["properties"]
        cases = {
            props["targetVersion"]["pattern"]: (["v1.3.9", "1.3.9", "v0.10.0", "v1.4.0-rc.1"],
                                                ["1.3", "v01.3.9", "latest", "v1.3.9+build", ""]),
            props["meshName"]["pattern"]: (["osm", "mesh-1"], ["OSM", "-osm", "osm_mesh", ""]),
            props["imageTag"]["pattern"]: (["1.3.9", "v1.3.9", "1.3.9-alpine_1"], ["-x", "a:b", "", "x" * 129]),
            props["containerRegistry"]["pattern"]: (["flomesh", "ghcr.io/flomesh-io", "localhost:5000/osm"],
                                                    ["ghcr.io/Flomesh", "a b", "flomesh/"]),
            props["timeouts"]["properties"]["controlPlane"]["pattern"]: (["90s", "10m", "1h30m", "1.5h"],
                                                                         ["10", "ten minutes", "-5m", ""]),
            props["sidecar"]["properties"]["maxConcurrent"]["pattern"]: (["1%", "25%", "100%"], ["25", "x%", "0%", "101%", "99999999999%"]),
        }
        for pattern, (good, bad) in cases.items():
            for value in good:
                self.assertRegex(value, pattern)
            for value in bad:
                self.assertNotRegex(value, pattern)

    def test_status_is_kstatus_ready(self):
        props = self.status["properties"]
        self.assertEqual(self.status["default"], {"observedGeneration": -1})
        self.assertEqual(props["observedGeneration"]["default"], -1)
        self.assertNotIn("required", self.status)
        self.assertEqual(props["phase"]["enum"], [
            "Pending", "Prechecking", "UpdatingCRDs", "UpgradingControlPlane", "RollingSidecars", "Verifying",
            "Succeeded", "Failed", "RollingBack", "RolledBack", "Suspended"])
        self.assertEqual(props["upgradePath"]["enum"], ["Patch", "Minor", "Major", "Downgrade", "None"])
        conditions = props["conditions"]
        self.assertEqual((conditions["x-kubernetes-list-type"], conditions["x-kubernetes-list-map-keys"]),
                         ("map", ["type"]))
        self.assertEqual(conditions["items"]["properties"]["status"]["enum"], ["True", "False", "Unknown"])
        for name in ("plan", "steps", "previousImages", "workloads", "history", "progress", "message",
                     "startedAt", "completedAt", "fromVersion", "toVersion"):
            self.assertIn(name, props)
        self.assertEqual(set(props["workloads"]["properties"]),
                         {"total", "restarted", "ready", "failed", "pending", "failing", "manualRestart"})

    def test_docs_api_md_covers_every_field_phase_condition_and_reason(self):
        docs = (REPO / "docs" / "api.md").read_text()
        def documented(word):
            return f"`{word}`" in docs
        for path in schema_paths(self.spec):
            field = path.lstrip(".")
            if field.startswith(("sidecar.namespaceSelector.", "meshConfigPatch.")):
                field = field.rsplit(".", 1)[0]
            self.assertTrue(documented(field), f"docs/api.md does not document spec.{field}")
        for phase in self.status["properties"]["phase"]["enum"]:
            self.assertTrue(documented(phase), f"docs/api.md does not document phase {phase}")
        for condition in ("Ready", "Reconciling", "Stalled", "PrecheckPassed", "CRDsUpdated", "ControlPlaneUpgraded",
                          "SidecarsUpgraded", "Verified"):
            self.assertTrue(documented(condition), f"docs/api.md does not document condition {condition}")
        for reason in ("MeshNotFound", "UnsupportedUpgradePath", "DowngradeNotAllowed", "UpgradeInProgress",
                       "KubernetesTooOld", "InsufficientCPU", "FatalInvalidCLIParameters", "ImagesNotPullable",
                       "UnknownVersion", "InvalidSpec", "Forbidden", "CRDsNotEstablished", "ControlPlaneRolloutFailed",
                       "ProgressDeadlineExceeded", "SidecarRolloutFailed", "RolledBack", "Suspended", "DryRun",
                       "Progressing", "Succeeded", "WaitingForUpgrade", "Deleted"):
            self.assertIn(f"| `{reason}` |", docs, f"docs/api.md has no row for reason {reason}")


class ExamplesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        [crd] = load_yaml_file(REPO / "crds" / "meshupgrade.yaml")
        cls.schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]

    def test_validator_refuses_a_misspelt_field(self):
        # The check below is only worth something if it can fail.
        with self.assertRaises(SchemaError):
            validate(self.schema, {"spec": {"targetVersion": "v1.3.9", "sidecar": {"maxConcurent": 5}}})
        with self.assertRaises(SchemaError):
            validate(self.schema, {"spec": {"targetVersion": "1.3"}})

    def test_minimal_example_is_the_demo_upgrade(self):
        [mu] = load_yaml_file(REPO / "examples" / "meshupgrade.yaml")
        validate(self.schema, mu)
        self.assertEqual((mu["apiVersion"], mu["kind"]), ("upgrade.flomesh.io/v1alpha1", "MeshUpgrade"))
        self.assertEqual((mu["metadata"]["name"], mu["metadata"]["namespace"]), ("osm-upgrade", "osm-system"))
        self.assertEqual(mu["spec"]["targetVersion"], "v1.3.9")
        self.assertEqual(mu["spec"]["sidecar"]["maxConcurrent"], 10)

    def test_full_example_sets_every_spec_field(self):
        [mu] = load_yaml_file(REPO / "examples" / "meshupgrade-full.yaml")
        validate(self.schema, mu)
        wanted = {p for p in schema_paths(self.schema["properties"]["spec"])}
        got = value_paths(mu["spec"])
        missing = sorted(p for p in wanted if p not in got)
        self.assertEqual(missing, [], "examples/meshupgrade-full.yaml leaves these spec fields out")

    def test_gitops_examples_watch_the_example_upgrade(self):
        [mu] = load_yaml_file(REPO / "examples" / "meshupgrade.yaml")
        ref = {"apiVersion": mu["apiVersion"], "kind": mu["kind"], "name": mu["metadata"]["name"],
               "namespace": mu["metadata"]["namespace"]}
        flux = {o["metadata"]["name"]: o for f in sorted((REPO / "examples" / "flux").glob("*.yaml"))
                for o in load_yaml_file(f)}
        upgrade, operator = flux["osm-upgrade"], flux["meshupgrade-operator"]
        self.assertEqual(upgrade["kind"], "Kustomization")
        self.assertEqual(upgrade["spec"]["healthChecks"], [ref])
        # Flux ignores healthChecks when wait is true: the MeshUpgrade's health gates this one only if wait is off.
        self.assertIs(upgrade["spec"]["wait"], False)
        self.assertIn("timeout", upgrade["spec"])
        self.assertEqual(upgrade["spec"]["dependsOn"], [{"name": "meshupgrade-operator"}])
        self.assertIs(operator["spec"]["wait"], True)
        self.assertIn("timeout", operator["spec"])
        for kustomization in (upgrade, operator):
            self.assertEqual(kustomization["spec"]["sourceRef"]["name"], flux["platform-config"]["metadata"]["name"])
        [app] = load_yaml_file(REPO / "examples" / "argocd" / "application.yaml")
        self.assertEqual((app["kind"], app["spec"]["destination"]["namespace"]), ("Application", ref["namespace"]))
        self.assertIs(app["spec"]["syncPolicy"]["automated"]["prune"], False)


def simulator():
    """tests/kubesim's helper (KUBESIM names the simulator; the helper lives beside it)."""
    here = os.path.dirname(os.environ.get("KUBESIM") or str(REPO / "tests" / "kubesim" / "kubesim"))
    if here not in sys.path:
        sys.path.insert(0, here)
    import simtest  # noqa: E402 (found through KUBESIM at run time)
    return simtest


INVALID = """apiVersion: upgrade.flomesh.io/v1alpha1
kind: MeshUpgrade
metadata: {name: invalid, namespace: osm-system}
spec:
  targetVersion: "1.3"
  imageTag: "1.3.9"
  crds: {source: ConfigMap}
  controlPlane: {source: Helm}
  sidecar: {maxConcurrent: ten, failureThreshold: 0}
  timeouts: {controlPlane: "10"}
"""


class OnTheSimulatorTest(unittest.TestCase):
    """What only an API server shows: kubectl apply -k, defaults, printer columns, refusals with messages."""

    @classmethod
    def setUpClass(cls):
        cls.sim = simulator().start([])
        cls.addClassCleanup(cls.sim.stop)
        cls.sim.kubectl("create", "namespace", "osm-system", check=True)
        cls.sim.kubectl("apply", "-k", str(REPO / "deploy"), check=True)
        cls.sim.kubectl("apply", "-f", str(REPO / "examples" / "meshupgrade.yaml"), check=True)

    def get_mu(self, *args):
        out = self.sim.kubectl("get", "mu", "osm-upgrade", "-n", "osm-system", *args, check=True)
        return out.stdout

    def test_kubectl_get_shows_the_columns(self):
        header = self.get_mu().splitlines()[0].split()
        self.assertEqual(header, ["NAME", "MESH", "FROM", "TO", "PHASE", "PROGRESS", "READY", "AGE"])
        row = self.get_mu().splitlines()[1].split()
        self.assertEqual(row[:3], ["osm-upgrade", "osm", "v1.3.9"])  # FROM is empty before the operator runs
        categories = self.sim.kubectl("get", "osm", "-n", "osm-system", check=True).stdout
        self.assertIn("osm-upgrade", categories)

    def test_a_new_object_gets_its_defaults_and_is_not_finished(self):
        mu = json.loads(self.get_mu("-o", "json"))
        spec = mu["spec"]
        self.assertEqual(spec["meshName"], "osm")
        self.assertNotIn("osmNamespace", spec)
        self.assertEqual(spec["crds"], {"source": "Bootstrap"})
        self.assertEqual(spec["controlPlane"], {"source": "Images"})
        self.assertEqual(spec["sidecar"], {"restartWorkloads": True, "maxConcurrent": 10, "failureThreshold": 1})
        self.assertEqual(spec["timeouts"], {"controlPlane": "10m", "perWorkload": "5m"})
        self.assertEqual((spec["rollbackOnFailure"], spec["suspend"], spec["dryRun"]), (True, False, False))
        self.assertEqual(mu.get("status", {}).get("observedGeneration"), -1)

    def test_the_full_example_is_accepted(self):
        out = self.sim.kubectl("apply", "--dry-run=server", "-f", str(REPO / "examples" / "meshupgrade-full.yaml"))
        self.assertEqual(out.returncode, 0, out.stderr)

    def test_an_invalid_spec_is_refused_naming_each_field(self):
        out = self.sim.kubectl("apply", "-f", "-", input=INVALID)
        self.assertNotEqual(out.returncode, 0)
        for fragment in ("spec.targetVersion", "containerRegistry and imageTag must be set together",
                         "crds.configMapRef is required when crds.source is ConfigMap", "spec.controlPlane.source",
                         "spec.sidecar.maxConcurrent", "spec.sidecar.failureThreshold", "spec.timeouts.controlPlane"):
            self.assertIn(fragment, out.stderr)
        gone = self.sim.kubectl("get", "mu", "invalid", "-n", "osm-system")
        self.assertNotEqual(gone.returncode, 0, "the refused object must not exist")

    def test_mesh_identity_is_immutable(self):
        for patch, message in (({"meshName": "other"}, "meshName is immutable"),
                               ({"osmNamespace": "elsewhere"}, "osmNamespace is immutable")):
            out = self.sim.kubectl("patch", "mu", "osm-upgrade", "-n", "osm-system", "--type=merge",
                                   "-p", json.dumps({"spec": patch}))
            self.assertNotEqual(out.returncode, 0, f"{patch} was accepted")
            self.assertIn(message, out.stderr)
        self.assertEqual(json.loads(self.get_mu("-o", "json"))["spec"]["meshName"], "osm")

    def test_the_status_the_operator_writes_survives_pruning(self):
        # Every status field the reconciler writes, as it writes them: a field the schema lacks would be dropped
        # by the API server, and the operator would lose its place (and rewrite status on every reconcile).
        name = "status-roundtrip"
        self.sim.kubectl("apply", "-f", "-", check=True, input=json.dumps({
            "apiVersion": "upgrade.flomesh.io/v1alpha1", "kind": "MeshUpgrade",
            "metadata": {"name": name, "namespace": "osm-system"}, "spec": {"targetVersion": "v1.3.9"}}))
        t = "2026-11-26T01:02:03Z"
        status = {
            "observedGeneration": 1, "phase": "RollingSidecars", "fromVersion": "v1.3.8", "toVersion": "v1.3.9",
            "upgradePath": "Patch", "startedAt": t, "progress": "37/50", "message": "restarting meshed workloads",
            "plan": [{"object": "apps/v1 Deployment osm-system/osm-controller",
                      "field": "spec.template.spec.containers[osm-controller].image",
                      "from": "flomesh/osm-edge-controller:1.3.8", "to": "flomesh/osm-edge-controller:1.3.9"}],
            "steps": [{"name": "Precheck", "state": "Succeeded", "startedAt": t, "finishedAt": t, "message": "ok"},
                      {"name": "RollSidecars", "state": "Running", "startedAt": t},
                      {"name": "Verify", "state": "Pending"}],
            "previousImages": {"deployments": {"osm-controller": {"containers": {"osm-controller": "x:1"}}},
                               "sidecarImage": "flomesh/pipy:0.90.3-38"},
            "workloads": {"total": 50, "restarted": 40, "ready": 37, "failed": 0, "pending": ["shop/web"],
                          "failing": [], "manualRestart": ["shop/pod-a"]},
            "history": [{"targetVersion": "v1.3.8", "phase": "Succeeded", "completedAt": "", "message": "done"}],
            "helmRelease": {"name": "osm", "revision": 3, "chartVersion": "1.3.8", "appVersion": "v1.3.8"},
            "attempt": {"generation": 1, "target": "v1.3.9|||", "endedGeneration": 0, "failureReason": "",
                        "failureMessage": "", "imagePull": "Succeeded", "imagePullMessage": "",
                        "crdsApplied": True, "manifestsApplied": False},
            "conditions": [
                {"type": "Ready", "status": "Unknown", "reason": "Progressing", "message": "m",
                 "observedGeneration": 1, "lastTransitionTime": t},
                {"type": "Reconciling", "status": "True", "reason": "Progressing", "message": "m",
                 "observedGeneration": 1, "lastTransitionTime": t},
                {"type": "PrecheckPassed", "status": "True", "reason": "PrecheckPassed", "message": "m",
                 "observedGeneration": 1, "lastTransitionTime": t}],
        }
        self.sim.kubectl("patch", "mu", name, "-n", "osm-system", "--subresource=status", "--type=merge",
                         "-p", json.dumps({"status": status}), check=True)
        got = json.loads(self.sim.kubectl("get", "mu", name, "-n", "osm-system", "-o", "json", check=True).stdout)
        self.assertEqual(got["status"], status)


if __name__ == "__main__":
    unittest.main(verbosity=2)
