"""CRD admission as kube-apiserver v1.32 does it, driven by real kubectl: CEL rules type-checked against the
schema, every default validated by its schema and its rules, the structural-schema rules; and the CRDs a
real server accepts (osm-edge's, ours) accepted. Regression for issue 11: kubesim accepted a MeshUpgrade CRD
whose two rules fail on their own `default: {}`."""
import glob
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OSM_FIXTURES = os.environ.get("OSM_EDGE_FIXTURES", "/work/shared/fixtures/osm-edge")
P = "spec.validation.openAPIV3Schema"

# Our MeshUpgrade CRD as it was before issue 11 was fixed, cut to the part that matters: two object fields
# defaulting to {} whose rules read self.source, which that default does not have.
BROKEN_MESHUPGRADE = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: meshupgrades.upgrade.flomesh.io
spec:
  group: upgrade.flomesh.io
  scope: Namespaced
  names: {kind: MeshUpgrade, listKind: MeshUpgradeList, plural: meshupgrades, singular: meshupgrade}
  versions:
    - name: v1alpha1
      served: true
      storage: true
      subresources: {status: {}}
      schema:
        openAPIV3Schema:
          type: object
          required: [spec]
          properties:
            spec:
              type: object
              required: [targetVersion]
              properties:
                targetVersion: {type: string}
                crds:
                  type: object
                  default: {}
                  x-kubernetes-validations:
                    - rule: self.source != 'ConfigMap' || has(self.configMapRef)
                      message: crds.configMapRef is required when crds.source is ConfigMap
                  properties:
                    source: {type: string, default: Bootstrap, enum: [Bootstrap, ConfigMap, Skip]}
                    configMapRef:
                      type: object
                      required: [name]
                      properties: {name: {type: string}}
                controlPlane:
                  type: object
                  default: {}
                  x-kubernetes-validations:
                    - rule: self.source != 'Manifests' || has(self.manifestsRef)
                      message: controlPlane.manifestsRef is required when controlPlane.source is Manifests
                  properties:
                    source: {type: string, default: Images, enum: [Images, Manifests]}
                    manifestsRef:
                      type: object
                      required: [name]
                      properties: {name: {type: string}}
            status:
              type: object
              x-kubernetes-preserve-unknown-fields: true
"""


def crd(plural, props, **root):
    """A one-version CRD widgets-like CRD whose spec has the given properties."""
    schema = dict({"type": "object", "properties": {"spec": {"type": "object", "properties": props}}}, **root)
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.checks.kubesim.io"},
            "spec": {"group": "checks.kubesim.io", "scope": "Namespaced",
                     "names": {"plural": plural, "singular": plural[:-1], "kind": plural.capitalize()[:-1]},
                     "versions": [{"name": "v1", "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": schema}}]}}


def rule_struct(rule, message=""):
    return ('apiextensions.ValidationRule{Rule:' + json.dumps(rule) + ', Message:' + json.dumps(message) +
            ', MessageExpression:"", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:"", '
            'OptionalOldSelf:(*bool)(nil)}')


class CrdValidationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.start()
        cls.tmp = tempfile.mkdtemp(prefix="crd-validation-")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def kubectl(self, verb, obj_or_text, name="crd"):
        path = os.path.join(self.tmp, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text))
        return self.sim.kubectl(verb, "-f", path)

    def refused(self, obj, *lines, verb="create"):
        """kubectl fails with every given `field: message` line among those it prints."""
        cp = self.kubectl(verb, obj)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        name = obj["metadata"]["name"]
        self.assertIn(f'The CustomResourceDefinition "{name}" is invalid:', cp.stderr)
        for line in lines:
            self.assertIn(line, cp.stderr)
        return cp.stderr

    def accepted(self, obj, verb="apply"):
        cp = self.kubectl(verb, obj)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        return cp.stdout

    # ------------------------------------------------------------------ issue 11: rules over defaults
    def test_broken_meshupgrade_crd_is_refused_with_the_real_servers_two_errors(self):
        for verb in ("apply", "create"):
            cp = self.kubectl(verb, BROKEN_MESHUPGRADE, name="broken-meshupgrade")
            self.assertEqual(cp.returncode, 1)
            self.assertEqual(cp.stderr, (
                'The CustomResourceDefinition "meshupgrades.upgrade.flomesh.io" is invalid: \n'
                f"* {P}.properties[spec].properties[controlPlane].default: Invalid value: \"object\": no such key: "
                "source evaluating rule: controlPlane.manifestsRef is required when controlPlane.source is Manifests\n"
                f"* {P}.properties[spec].properties[crds].default: Invalid value: \"object\": no such key: source "
                "evaluating rule: crds.configMapRef is required when crds.source is ConfigMap\n"))
        self.assertEqual(self.sim.kubectl("get", "crd", "meshupgrades.upgrade.flomesh.io").returncode, 1)

    def test_our_meshupgrade_crd_is_accepted(self):
        with open(os.path.join(ROOT, "crds", "meshupgrade.yaml")) as f:
            out = self.accepted(f.read())
        self.assertIn("customresourcedefinition.apiextensions.k8s.io/meshupgrades.upgrade.flomesh.io", out)

    def test_refusal_is_a_422_invalid_status_with_causes(self):
        obj = json.loads(self.kubectl_json(BROKEN_MESHUPGRADE))
        status, body, _ = self.sim.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", obj)
        self.assertEqual((status, body["kind"], body["reason"], body["code"]), (422, "Status", "Invalid", 422))
        self.assertEqual(body["details"]["kind"], "CustomResourceDefinition")
        self.assertEqual(body["details"]["group"], "apiextensions.k8s.io")
        self.assertEqual([(c["reason"], c["field"]) for c in body["details"]["causes"]],
                         [("FieldValueInvalid", f"{P}.properties[spec].properties[controlPlane].default"),
                          ("FieldValueInvalid", f"{P}.properties[spec].properties[crds].default")])
        self.assertTrue(body["message"].startswith(
            'CustomResourceDefinition.apiextensions.k8s.io "meshupgrades.upgrade.flomesh.io" is invalid: ['))

    def kubectl_json(self, text):
        path = os.path.join(self.tmp, "to-json.yaml")
        with open(path, "w") as f:
            f.write(text)
        return self.sim.kubectl("create", "--dry-run=client", "-o", "json", "-f", path).stdout

    def test_default_failing_a_rule_is_refused(self):
        self.refused(crd("falserules", {
            "replicas": {"type": "integer", "default": 3, "x-kubernetes-validations": [{"rule": "self > 5"}]},
            "mode": {"type": "string", "default": "a",
                     "x-kubernetes-validations": [{"rule": "self != 'a'", "message": "mode may not be a"}]}}),
            f'{P}.properties[spec].properties[mode].default: Invalid value: "string": mode may not be a',
            f'{P}.properties[spec].properties[replicas].default: Invalid value: "integer": failed rule: self > 5')

    def test_rules_below_a_default_run_on_it_and_nested_defaults_are_not_applied(self):
        self.refused(crd("nesteds", {"limits": {
            "type": "object", "default": {"max": 1},
            "properties": {"min": {"type": "integer", "default": 5}, "max": {"type": "integer"}},
            "x-kubernetes-validations": [{"rule": "self.min <= self.max", "message": "min above max"}]}}),
            f'{P}.properties[spec].properties[limits].default: Invalid value: "object": no such key: min '
            "evaluating rule: min above max")

    def test_a_rule_that_does_not_compile_on_a_defaulted_node_is_reported_at_the_default(self):
        # Defaults are checked before the rules are compiled; the default's validator reports the compile error.
        self.refused(crd("compiledefaults", {"ref": {
            "type": "object", "default": {}, "properties": {"name": {"type": "string"}},
            "x-kubernetes-validations": [{"rule": "self.kind == 'x'"}]}}),
            f'{P}.properties[spec].properties[ref].default: Invalid value: "object": rule compile error: compilation '
            "failed: ERROR: <input>:1:5: undefined field 'kind'\n | self.kind == 'x'\n | ....^")

    # ------------------------------------------------------------------ defaults against their schema
    def test_default_of_the_wrong_type_is_refused(self):
        self.refused(crd("wrongtypes", {"replicas": {"type": "integer", "default": "three"}}),
                     f'{P}.properties[spec].properties[replicas].default: Invalid value: "string":  in body '
                     'must be of type integer: "string"')

    def test_default_breaking_enum_pattern_bounds_and_lengths_is_refused(self):
        self.refused(crd("bounds", {
            "color": {"type": "string", "enum": ["red", "blue"], "default": "green"},
            "label": {"type": "string", "pattern": "^[a-z]+$", "default": "A1"},
            "count": {"type": "integer", "minimum": 1, "maximum": 10, "default": 11},
            "name": {"type": "string", "minLength": 3, "maxLength": 5, "default": "ab"},
            "code": {"type": "string", "maxLength": 2, "default": "abc"},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 1, "default": ["a", "b"]}}),
            f'{P}.properties[spec].properties[color].default: Unsupported value: "green": supported values: '
            '"red", "blue"',
            f"{P}.properties[spec].properties[label].default: Invalid value: \"A1\":  in body should match "
            "'^[a-z]+$'",
            f"{P}.properties[spec].properties[count].default: Invalid value: 11:  in body should be less than "
            "or equal to 10",
            f'{P}.properties[spec].properties[name].default: Invalid value: "ab":  in body should be at least '
            "3 chars long",
            f"{P}.properties[spec].properties[code].default: Too long: may not be more than 2 bytes",
            f"{P}.properties[spec].properties[tags].default: Too many: 2: must have at most 1 items")

    def test_default_missing_a_required_field_or_with_unknown_fields_is_refused(self):
        self.refused(crd("requireds", {
            "ref": {"type": "object", "required": ["name"], "default": {"kind": "x"},
                    "properties": {"name": {"type": "string"}}}}),
            f"{P}.properties[spec].properties[ref].default: Invalid value: "
            'map[string]interface {}{"kind":"x"}: must not have unknown fields',
            f"{P}.properties[spec].properties[ref].default.name: Required value")

    # ------------------------------------------------------------------ CEL rules compiled at admission
    def compile_error(self, plural, prop, rule, detail, message=""):
        r = {"rule": rule}
        if message:
            r["message"] = message
        prop = dict(prop, **{"x-kubernetes-validations": [r]})
        return self.refused(crd(plural, {"f": prop}),
                            f"{P}.properties[spec].properties[f].x-kubernetes-validations[0].rule: Invalid value: "
                            f"{rule_struct(rule, message)}: {detail}")

    def test_rule_reading_an_undeclared_field_is_refused(self):
        out = self.compile_error("undeclareds", {"type": "object", "properties": {"a": {"type": "string"}}},
                                 "self.b == 'x'", "compilation failed: ERROR: <input>:1:5: undefined field 'b'")
        self.assertIn("\n | self.b == 'x'\n | ....^", out)

    def test_has_on_an_undeclared_field_points_at_has(self):
        self.compile_error("hasfields", {"type": "object", "properties": {"a": {"type": "string"}}},
                           "!has(self.namespace)", "compilation failed: ERROR: <input>:1:5: undefined field "
                           "'namespace'\n | !has(self.namespace)\n | ....^")

    def test_rule_comparing_a_string_to_an_int_is_refused(self):
        self.compile_error("mismatches", {"type": "object", "properties": {"a": {"type": "string"}}},
                           "self.a == 1", "compilation failed: ERROR: <input>:1:8: found no matching overload "
                           "for '_==_' applied to '(string, int)'", message="a is one")

    def test_size_of_an_int_is_refused(self):
        self.compile_error("sizes", {"type": "integer"}, "self.size() > 0",
                           "compilation failed: ERROR: <input>:1:10: found no matching overload for 'size' "
                           "applied to 'int.()'")

    def test_unknown_function_is_refused(self):
        self.compile_error("functions", {"type": "string"}, "self.isFancy()",
                           "compilation failed: ERROR: <input>:1:13: undeclared reference to 'isFancy' "
                           "(in container '')")

    def test_rule_not_returning_bool_is_refused(self):
        self.compile_error("nonbools", {"type": "string"}, "self + 'x'", "cel expression must evaluate to a bool")

    def test_syntax_error_is_refused(self):
        self.compile_error("syntaxes", {"type": "string"}, "self ==",
                           "compilation failed: ERROR: <input>:1:8: Syntax error: mismatched input '<EOF>'")

    def test_old_self_under_a_plain_list_is_refused(self):
        self.refused(crd("oldselves", {"l": {"type": "array", "items": {
            "type": "string", "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}}}),
            f'{P}.properties[spec].properties[l].items.x-kubernetes-validations[0].rule: Invalid value: '
            f'"self == oldSelf": oldSelf cannot be used on the uncorrelatable portion of the schema within '
            f"{P}.properties[spec].properties[l]")

    def test_rules_kubernetes_accepts_are_accepted(self):
        rules = [
            "self.name.startsWith('a') && self.name.endsWith('z') && self.name.contains('m')",
            "self.name.matches('^[a-z]+$') && size(self.name) < 64 && self.name.size() > 0",
            "self.tags.all(t, t.size() > 0) && self.tags.exists(t, t == 'x') || self.tags.exists_one(t, t == 'y')",
            "self.tags.filter(t, t != '').map(t, t + '!').size() >= 0 && 'x' in self.tags",
            "self.labels.all(k, self.labels[k] != '') && ('app' in self.labels ? self.labels['app'] != '' : true)",
            "type(self.amount) == int ? self.amount > 0 : self.amount.endsWith('%')",
            "int(self.count) + 1 > 0 && string(self.count) != '' && double(self.count) >= 0.0",
            "duration(self.timeout) < duration('1h') && self.timeout.split('m').size() > 0",
            "!has(self.ref) || has(self.ref.name) && self.ref.name.lowerAscii() == self.ref.name",
            "self.count < 5u || self.count >= 0",
            "has(oldSelf.name) == has(self.name)",
        ]
        props = {"name": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}},
                 "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                 "amount": {"x-kubernetes-int-or-string": True}, "count": {"type": "integer"},
                 "timeout": {"type": "string"},
                 "ref": {"type": "object", "properties": {"name": {"type": "string"}}}}
        obj = crd("acceptables", props)
        obj["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"][
            "x-kubernetes-validations"] = [{"rule": r} for r in rules]
        self.accepted(obj)

    # ------------------------------------------------------------------ structural schemas
    def test_missing_types_are_refused(self):
        self.refused(crd("untypeds", {"a": {"properties": {"b": {}}}, "l": {"type": "array", "items": {}}}),
                     f"{P}.properties[spec].properties[a].properties[b].type: Required value: must not be empty for "
                     "specified object fields",
                     f"{P}.properties[spec].properties[a].type: Required value: must not be empty for specified "
                     "object fields",
                     f"{P}.properties[spec].properties[l].items.type: Required value: must not be empty for "
                     "specified array items")

    def test_array_without_items_is_refused(self):
        self.refused(crd("itemless", {"l": {"type": "array"}}),
                     f"{P}.properties[spec].properties[l].items: Required value: must be specified")

    def test_properties_with_additional_properties_are_refused(self):
        self.refused(crd("mixeds", {"m": {"type": "object", "properties": {"a": {"type": "string"}},
                                          "additionalProperties": {"type": "string"}}}),
                     f"{P}.properties[spec].properties[m].additionalProperties: Forbidden: additionalProperties "
                     "and properties are mutual exclusive")

    def test_preserve_unknown_fields_false_is_refused(self):
        self.refused(crd("preserves", {"m": {"type": "object", "x-kubernetes-preserve-unknown-fields": False}}),
                     f"{P}.properties[spec].properties[m].x-kubernetes-preserve-unknown-fields: Invalid value: "
                     "false: must be true or undefined")

    def test_root_metadata_beyond_name_and_generate_name_is_refused(self):
        obj = crd("metas", {})
        obj["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["metadata"] = {
            "type": "object", "properties": {"name": {"type": "string"}, "labels": {"type": "object"}}}
        self.refused(obj, f"{P}.properties[metadata]: Forbidden: must not specify anything other than name and "
                          "generateName, but metadata is implicitly specified")
        obj["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["metadata"] = {
            "type": "object", "properties": {"name": {"type": "string", "maxLength": 20}}}
        self.accepted(obj)

    def test_int_or_string_must_keep_its_any_of_pattern(self):
        self.refused(crd("intorstrings", {
            "ok": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "bad": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "string"}, {"type": "integer"}]},
            "both": {"x-kubernetes-int-or-string": True, "x-kubernetes-preserve-unknown-fields": True}}),
            f"{P}.properties[spec].properties[bad].anyOf[0].type: Forbidden: must be empty to be structural",
            f"{P}.properties[spec].properties[bad].anyOf[1].type: Forbidden: must be empty to be structural",
            f"{P}.properties[spec].properties[both].x-kubernetes-preserve-unknown-fields: Invalid value: true: "
            "must be false if x-kubernetes-int-or-string is true")

    def test_unknown_type_unique_items_and_bad_pattern_are_refused(self):
        self.refused(crd("oddities", {"a": {"type": "strin"},
                                      "l": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                                      "p": {"type": "string", "pattern": "+"}}),
                     f'{P}.properties[spec].properties[a].type: Unsupported value: "strin": supported values: '
                     '"array", "boolean", "integer", "number", "object", "string"',
                     f"{P}.properties[spec].properties[l].uniqueItems: Forbidden: uniqueItems cannot be set to "
                     "true since the runtime complexity becomes quadratic")
        self.refused(crd("patterns", {"p": {"type": "string", "pattern": "+"}}),
                     f'{P}.properties[spec].properties[p].pattern: Invalid value: "+": must be a valid regular '
                     "expression, but isn't: error parsing regexp: missing argument to repetition operator: `+`")

    def test_types_inside_junctors_and_non_object_root_are_refused(self):
        obj = crd("junctors", {"a": {"type": "string", "allOf": [{"type": "string", "maxLength": 3}]}})
        self.refused(obj, f"{P}.properties[spec].properties[a].allOf[0].type: Forbidden: must be empty to be "
                          "structural")
        obj = crd("roots", {})
        obj["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = {"type": "array", "items": {"type": "string"}}
        self.refused(obj, f'{P}.type: Invalid value: "array": must be object at the root')

    def test_list_map_keys_need_a_default_or_required(self):
        self.refused(crd("listmaps", {"ports": {
            "type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["port"],
            "items": {"type": "object", "properties": {"port": {"type": "integer"}}}}}),
            f"{P}.properties[spec].properties[ports].items.properties[port].default: Required value: this "
            "property is in x-kubernetes-list-map-keys, so it must have a default or be a required property")

    # ------------------------------------------------------------------ updates, versions, custom resources
    def test_update_is_checked_and_leaves_the_crd_as_it_was(self):
        obj = crd("updateds", {"mode": {"type": "string", "default": "a"}})
        self.accepted(obj)
        obj["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["mode"][
            "x-kubernetes-validations"] = [{"rule": "self != 'a'"}]
        self.refused(obj, f'{P}.properties[spec].properties[mode].default: Invalid value: "string": failed rule: '
                          "self != 'a'", verb="apply")
        got = json.loads(self.sim.kubectl("get", "crd", "updateds.checks.kubesim.io", "-o", "json").stdout)
        mode = got["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["mode"]
        self.assertNotIn("x-kubernetes-validations", mode)

    def test_versions_with_different_schemas_are_checked_each_under_its_own_path(self):
        obj = crd("versioneds", {"a": {"type": "string"}})
        v2 = json.loads(json.dumps(obj["spec"]["versions"][0]))
        v2.update(name="v2", storage=False)
        v2["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["a"] = {"type": "integer", "default": "x"}
        obj["spec"]["versions"].append(v2)
        self.refused(obj, 'spec.versions[1].schema.openAPIV3Schema.properties[spec].properties[a].default: Invalid '
                          'value: "string":  in body must be of type integer: "string"')

    def test_a_rule_failing_at_run_time_refuses_the_custom_resource(self):
        obj = crd("runtimes", {"ref": {"type": "object", "properties": {"kind": {"type": "string"}},
                                       "x-kubernetes-validations": [{"rule": "self.kind != 'Secret'",
                                                                     "message": "no secrets"}]}})
        self.accepted(obj)
        self.sim.kubectl("wait", "--for=condition=Established", "crd/runtimes.checks.kubesim.io", "--timeout=30s")
        cr = {"apiVersion": "checks.kubesim.io/v1", "kind": "Runtime",
              "metadata": {"name": "r1", "namespace": "default"}, "spec": {"ref": {}}}
        cp = self.kubectl("create", cr, name="cr")
        self.assertEqual(cp.returncode, 1)
        self.assertIn('spec.ref: Invalid value: "object": no such key: kind evaluating rule: no secrets', cp.stderr)
        cr["spec"]["ref"] = {"kind": "Secret"}
        cp = self.kubectl("create", cr, name="cr")
        self.assertIn('spec.ref: Invalid value: "object": no secrets', cp.stderr)
        cr["spec"]["ref"] = {"kind": "ConfigMap"}
        self.assertEqual(self.kubectl("create", cr, name="cr").returncode, 0)

    # ------------------------------------------------------------------ what a real server accepts
    def test_every_osm_edge_release_crd_is_accepted(self):
        files = sorted(glob.glob(os.path.join(OSM_FIXTURES, "v*", "crds", "*.yaml")),
                       key=lambda p: (tuple(int(x) for x in p.split(os.sep)[-3][1:].split(".")), p))
        if not files:
            self.skipTest(f"no osm-edge fixtures under {OSM_FIXTURES}")
        args = [a for f in files for a in ("-f", f)]
        cp = self.sim.kubectl("apply", *args)
        self.assertEqual(cp.returncode, 0, cp.stderr[-3000:])
        lines = [ln for ln in cp.stdout.splitlines() if ln.startswith("customresourcedefinition")]
        self.assertEqual(len(lines), len(files), cp.stdout[-2000:])

    def test_every_crd_the_simulated_mesh_installs_passes(self):
        from sim import crd_schema
        from sim.mesh import catalog
        versions = sorted(os.path.basename(p) for p in glob.glob(os.path.join(OSM_FIXTURES, "v*")))
        checked = 0
        for v in versions:
            try:
                objs = catalog.crd_objects(v)
            except (KeyError, ValueError):
                continue
            for o in objs:
                per_version, shared = crd_schema.validate(o["spec"])
                self.assertEqual(per_version + shared, [], f"{v} {o['metadata']['name']}")
                checked += 1
        self.assertGreater(checked, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
