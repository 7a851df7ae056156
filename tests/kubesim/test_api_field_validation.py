#!/usr/bin/env python3
"""Field validation as kube-apiserver v1.32 does it, driven by real kubectl and asserted on what kubectl prints.

Server-side apply types the apply patch whatever fieldValidation says (structured-merge-diff); create, update and
patches decode strictly under Strict, warn under Warn (the server's default), drop under Ignore; built-in kinds are
checked like custom ones; kubectl's --validate=strict of a v1 List (its items checked against /openapi/v2 models)
or of an unserved kind works as on a cluster; a CRD string over maxLength says "Too long: may not be more than N
bytes".
"""
import json
import os
import sys
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
import simtest  # noqa: E402

NS = "fv"
SHARED = Path(os.environ.get("SHARED_DIR") or REPO.parent / "shared")
SIM = None


def setUpModule():
    global SIM
    SIM = simtest.start([])
    SIM.kubectl("create", "namespace", NS, check=True)
    SIM.kubectl("apply", "--server-side", "-f", "-", input=json.dumps(WIDGET_CRD), check=True)
    simtest.wait_for(lambda: SIM.kubectl("get", "widgets", "-n", NS).returncode == 0, what="widgets served")


def tearDownModule():
    if SIM is not None:
        SIM.stop()


def kubectl(*args, input=None):
    if input is not None and not isinstance(input, str):
        input = json.dumps(input)
    return SIM.kubectl(*args, input=input)


def said(cp):
    return f"(exit {cp.returncode})\nstderr: {cp.stderr}\nstdout: {cp.stdout}"


WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object",
                 "properties": {"spec": {"type": "object", "properties": {
                     "size": {"type": "integer"},
                     "name": {"type": "string", "maxLength": 5},
                     "tag": {"type": "string", "maxLength": 1},
                     "parts": {"type": "array", "x-kubernetes-list-type": "map",
                               "x-kubernetes-list-map-keys": ["id"],
                               "items": {"type": "object", "required": ["id"],
                                         "properties": {"id": {"type": "string"}, "count": {"type": "integer"}}}},
                     "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}}}]},
}


def widget(name, spec):
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": name, "namespace": NS},
            "spec": spec}


def deployment(name, **spec_changes):
    """A small Deployment; spec_changes are set on its spec (None removes a field)."""
    obj = {"apiVersion": "apps/v1", "kind": "Deployment",
           "metadata": {"name": name, "namespace": NS, "labels": {"app": name}},
           "spec": {"replicas": 1, "revisionHistoryLimit": 3, "selector": {"matchLabels": {"app": name}},
                    "template": {"metadata": {"labels": {"app": name}},
                                 "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                                                          "ports": [{"containerPort": 8080}]}]}}}}
    for k, v in spec_changes.items():
        if v is None:
            obj["spec"].pop(k, None)
        else:
            obj["spec"][k] = v
    return obj


def container_of(obj):
    return obj["spec"]["template"]["spec"]["containers"][0]


def live(kind, name):
    cp = kubectl("get", kind, name, "-n", NS, "-o", "json")
    return json.loads(cp.stdout) if cp.returncode == 0 else None


class ServerSideApplyTest(unittest.TestCase):
    """The apply patch is typed before anything else: an undeclared field fails it under every fieldValidation."""

    def test_an_undeclared_field_of_a_custom_object_is_refused_whatever_field_validation_says(self):
        for validate in ("strict", "warn", "false"):
            with self.subTest(validate=validate):
                cp = kubectl("apply", "--server-side", f"--validate={validate}", "-f", "-",
                             input=widget("typo", {"size": 1, "sizee": 2}))
                self.assertNotEqual(cp.returncode, 0, said(cp))
                # a plain error in structuredmerge.go: 500 without a reason, so no "(BadRequest)" after "server"
                self.assertIn("Error from server: failed to create typed patch object (fv/typo; example.com/v1, "
                              "Kind=Widget): .spec.sizee: field not declared in schema", cp.stderr)
        self.assertIsNone(live("widget", "typo"), "refused, so not stored")

    def test_an_undeclared_field_of_a_built_in_kind_is_named_by_its_typed_path(self):
        obj = deployment("ssa-typo")
        container_of(obj)["imagePullPolicyy"] = "Always"
        cp = kubectl("apply", "--server-side", "-f", "-", input=obj)
        self.assertNotEqual(cp.returncode, 0, said(cp))
        self.assertIn("failed to create typed patch object (fv/ssa-typo; apps/v1, Kind=Deployment): "
                      '.spec.template.spec.containers[name="app"].imagePullPolicyy: field not declared in schema',
                      cp.stderr)
        # a list-map key the item leaves out is filled from its default (ContainerPort.protocol: TCP)
        obj = deployment("ssa-port")
        container_of(obj)["ports"][0]["hostPortt"] = 80
        cp = kubectl("apply", "--server-side", "-f", "-", input=obj)
        self.assertIn('.spec.template.spec.containers[name="app"].ports[containerPort=8080,protocol="TCP"].hostPortt: '
                      "field not declared in schema", cp.stderr, said(cp))

    def test_several_undeclared_fields_are_listed_one_a_line(self):
        obj = deployment("ssa-two", replicaz=2)
        obj["metadata"]["labelz"] = {"a": "b"}
        cp = kubectl("apply", "--server-side", "-f", "-", input=obj)
        self.assertNotEqual(cp.returncode, 0, said(cp))
        self.assertIn("(fv/ssa-two; apps/v1, Kind=Deployment): errors:\n"
                      "  .metadata.labelz: field not declared in schema\n"
                      "  .spec.replicaz: field not declared in schema", cp.stderr)

    def test_list_map_items_need_their_keys_and_may_not_repeat_them(self):
        cp = kubectl("apply", "--server-side", "-f", "-", input=widget("nokey", {"parts": [{"count": 1}]}))
        self.assertIn('.spec.parts: element 0: associative list with keys has an element that omits key field "id" '
                      "(and doesn't have default value)", cp.stderr, said(cp))
        cp = kubectl("apply", "--server-side", "-f", "-",
                     input=widget("twice", {"parts": [{"id": "a"}, {"id": "a", "count": 2}]}))
        self.assertIn('.spec.parts: duplicate entries for key [id="a"]', cp.stderr, said(cp))

    def test_what_the_schemas_declare_or_preserve_is_accepted(self):
        spec = {"size": 1, "parts": [{"id": "a", "count": 2}], "extra": {"anything": {"goes": [1, "two"]}}}
        cp = kubectl("apply", "--server-side", "-f", "-", input=widget("fine", spec))
        self.assertEqual(cp.returncode, 0, said(cp))
        self.assertEqual(live("widget", "fine")["spec"], spec)
        cp = kubectl("apply", "--server-side", "-f", "-", input=deployment("ssa-fine"))
        self.assertEqual(cp.returncode, 0, said(cp))

    def test_the_crds_we_ship_and_the_osm_edge_crds_are_typed_without_error(self):
        dirs = [REPO / "crds" / "meshupgrade.yaml"] + sorted((SHARED / "fixtures" / "osm-edge").glob("v*/crds"))
        self.assertGreater(len(dirs), 1, f"osm-edge fixtures under {SHARED}")
        for path in dirs:
            with self.subTest(path=str(path)):
                cp = kubectl("apply", "--server-side", "--dry-run=server", "-f", str(path))
                self.assertEqual(cp.returncode, 0, said(cp))


class StrictDecodingTest(unittest.TestCase):
    """Create, update and patch: Strict refuses, Warn (the server's default) warns and drops, Ignore drops."""

    def test_create_under_strict_refuses_with_the_strict_decoding_error(self):
        obj = deployment("create-typo", revisionHistoryLimt=3, revisionHistoryLimit=None)
        container_of(obj)["imagePullPolicyy"] = "Always"
        cp = kubectl("create", "-f", "-", input=obj)
        self.assertNotEqual(cp.returncode, 0, said(cp))
        self.assertIn('Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot '
                      'be handled as a Deployment: strict decoding error: unknown field "spec.revisionHistoryLimt", '
                      'unknown field "spec.template.spec.containers[0].imagePullPolicyy"', cp.stderr)
        self.assertIsNone(live("deployment", "create-typo"))

    def test_a_custom_object_and_metadata_are_checked_alike(self):
        cp = kubectl("create", "-f", "-", input=widget("create-typo", {"sizee": 1}))
        self.assertIn('Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field '
                      '"spec.sizee"', cp.stderr, said(cp))
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": NS, "labelz": {}}}
        cp = kubectl("apply", "-f", "-", input=cm)
        self.assertIn('ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown '
                      'field "metadata.labelz"', cp.stderr, said(cp))

    def test_warn_warns_and_the_field_is_dropped(self):
        obj = deployment("warned", revisionHistoryLimt=3, revisionHistoryLimit=None)
        cp = kubectl("create", "--validate=warn", "-f", "-", input=obj)
        self.assertEqual(cp.returncode, 0, said(cp))
        self.assertIn('Warning: unknown field "spec.revisionHistoryLimt"', cp.stderr)
        spec = live("deployment", "warned")["spec"]
        self.assertNotIn("revisionHistoryLimt", spec)
        self.assertEqual(spec["revisionHistoryLimit"], 10, "defaulted, as the misspelt value never arrived")

    def test_ignore_drops_the_field_silently(self):
        obj = deployment("ignored", revisionHistoryLimt=3)
        cp = kubectl("create", "--validate=false", "-f", "-", input=obj)
        self.assertEqual(cp.returncode, 0, said(cp))
        self.assertNotIn("Warning", cp.stderr)
        self.assertNotIn("revisionHistoryLimt", live("deployment", "ignored")["spec"])

    def test_replace_under_strict_refuses(self):
        obj = deployment("replaced")
        kubectl("create", "-f", "-", input=obj)
        obj = live("deployment", "replaced")
        obj["spec"]["pausd"] = True
        cp = kubectl("replace", "-f", "-", input=obj)
        self.assertIn('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: '
                      'unknown field "spec.pausd"', cp.stderr, said(cp))

    def test_apply_of_an_existing_object_refuses_on_the_field_patch(self):
        # kubectl apply patches what exists (a strategic merge patch for a built-in): the 422 names the field
        # "patch" and shows the patch map as Go prints it.
        self.assertEqual(kubectl("apply", "-f", "-", input=deployment("patched")).returncode, 0)
        cp = kubectl("apply", "-f", "-", input=deployment("patched", replicas=2, revisionHistoryLimt=3))
        self.assertNotEqual(cp.returncode, 0, said(cp))
        line = cp.stderr.strip().splitlines()[-1]
        self.assertTrue(line.startswith('The request is invalid: patch: Invalid value: "map[metadata:map['
                                        "annotations:map[kubectl.kubernetes.io/last-applied-configuration:"), line)
        self.assertTrue(line.endswith(' spec:map[replicas:2 revisionHistoryLimt:3]]": strict decoding error: '
                                      'unknown field "spec.revisionHistoryLimt"'), line)
        self.assertEqual(live("deployment", "patched")["spec"]["replicas"], 1, "refused, so unchanged")

    def test_a_patch_without_field_validation_is_warned_of(self):
        # kubectl patch sends no fieldValidation: the server's default is Warn.
        self.assertEqual(kubectl("apply", "-f", "-", input=widget("merged", {"size": 1})).returncode, 0)
        cp = kubectl("patch", "widget", "merged", "-n", NS, "--type=merge", "-p", '{"spec":{"size":2,"sizee":3}}')
        self.assertEqual(cp.returncode, 0, said(cp))
        self.assertIn('Warning: unknown field "spec.sizee"', cp.stderr)
        self.assertEqual(live("widget", "merged")["spec"], {"size": 2}, "pruned")

    def test_a_merge_patch_under_strict_shows_the_patched_object(self):
        self.assertEqual(kubectl("apply", "-f", "-", input=widget("strict-merge", {"size": 1})).returncode, 0)
        status, body, _ = SIM.request("PATCH", f"/apis/example.com/v1/namespaces/{NS}/widgets/strict-merge"
                                               "?fieldValidation=Strict", {"spec": {"sizee": 3}},
                                      headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["details"]["causes"][0]["field"], "patch")
        self.assertTrue(body["message"].startswith(' "" is invalid: patch: Invalid value: "{\\"apiVersion\\":'
                                                   '\\"example.com/v1\\",\\"kind\\":\\"Widget\\"'), body["message"])
        self.assertTrue(body["message"].endswith('": strict decoding error: unknown field "spec.sizee"'),
                        body["message"])


class OpenAPIV2Test(unittest.TestCase):
    """kubectl --validate=strict turns to /openapi/v2 for a v1 List and for kinds no OpenAPI v3 document has."""

    def cm(self, name, **extra):
        return dict({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS},
                     "data": {"k": "v"}}, **extra)

    def test_a_v1_list_is_applied_under_strict_validation(self):
        items = [self.cm("listed-a"), widget("listed-b", {"size": 1})]
        for args in (("apply",), ("apply", "--server-side")):
            with self.subTest(args=args):
                cp = kubectl(*args, "--validate=strict", "-f", "-",
                             input={"apiVersion": "v1", "kind": "List", "items": items})
                self.assertEqual(cp.returncode, 0, said(cp))
        self.assertIsNotNone(live("configmap", "listed-a"))
        self.assertIsNotNone(live("widget", "listed-b"))

    def test_a_misspelt_item_of_a_list_is_refused_by_kubectl_against_the_v2_models(self):
        items = [self.cm("listed-typo", dat={}), deployment("listed-typo", replicaz=1)]
        cp = kubectl("apply", "-f", "-", input={"apiVersion": "v1", "kind": "List", "items": items})
        self.assertNotEqual(cp.returncode, 0, said(cp))
        self.assertIn('error: error validating "STDIN": error validating data: [ValidationError(ConfigMap): unknown '
                      'field "dat" in io.k8s.api.core.v1.ConfigMap, ValidationError(Deployment.spec): unknown field '
                      '"replicaz" in io.k8s.api.apps.v1.DeploymentSpec]; if you choose to ignore these errors, turn '
                      "validation off with --validate=false", cp.stderr)
        # kinds without a v2 model (custom resources) are left to the server, which checks them strictly
        cp = kubectl("apply", "-f", "-", input={"apiVersion": "v1", "kind": "List",
                                                "items": [widget("listed-typo", {"sizee": 1})]})
        self.assertIn('Widget in version "v1" cannot be handled as a Widget: strict decoding error: unknown field '
                      '"spec.sizee"', cp.stderr, said(cp))

    def test_a_kind_nobody_serves_is_no_match(self):
        cp = kubectl("apply", "-f", "-", input={"apiVersion": "example.com/v9", "kind": "Gadget",
                                                "metadata": {"name": "g", "namespace": NS}})
        self.assertNotEqual(cp.returncode, 0, said(cp))
        self.assertIn('error: resource mapping not found for name: "g" namespace: "fv" from "STDIN": no matches for '
                      'kind "Gadget" in version "example.com/v9"', cp.stderr)
        self.assertNotIn("error validating", cp.stderr)

    def test_explain_shows_the_built_in_schemas(self):
        cp = kubectl("explain", "deployment.spec.revisionHistoryLimit")
        self.assertEqual(cp.returncode, 0, said(cp))
        self.assertIn("FIELD: revisionHistoryLimit <integer>", cp.stdout)
        cp = kubectl("explain", "pod.spec.containers.ports")
        self.assertIn("containerPort\t<integer>", cp.stdout, said(cp))


class CrdValueMessagesTest(unittest.TestCase):
    def test_a_string_over_max_length_says_how_many_bytes_it_may_have(self):
        # apiextensions-apiserver reports maxLength with field.TooLong: "may not be more than N bytes" since
        # kubernetes#128553 (v1.32), "byte" for one.
        for name, spec, detail in (("long", {"name": "toolong"}, "spec.name: Too long: may not be more than 5 bytes"),
                                   ("tag", {"tag": "ab"}, "spec.tag: Too long: may not be more than 1 byte")):
            with self.subTest(detail=detail):
                cp = kubectl("apply", "--server-side", "-f", "-", input=widget(name, spec))
                self.assertNotEqual(cp.returncode, 0, said(cp))
                self.assertIn(f'The Widget "{name}" is invalid: {detail}', cp.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
