"""API scenarios driven by the real kubectl: apply, get (json, wide, custom columns, watch), describe, patches,
server-side apply, deletion with cascade and finalizers, events, CRDs, selectors, paging, concurrency, stats."""
import json
import os
import select
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simtest  # noqa: E402

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: main
        image: {image}
        env:
        - {{name: A, value: "1"}}
        ports:
        - {{containerPort: 80}}
"""

CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.test.kubesim.io
spec:
  group: test.kubesim.io
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [color]
            x-kubernetes-validations:
            - {rule: "self.color == oldSelf.color", message: color is immutable}
            - {rule: "has(self.min) == has(self.max)", message: min and max go together}
            properties:
              color: {type: string, enum: [red, blue]}
              replicas: {type: integer, minimum: 0, maximum: 10, default: 1}
              label: {type: string, pattern: '^[a-z]+$'}
              min: {type: integer}
              max: {type: integer}
          status:
            type: object
            properties:
              replicas: {type: integer}
              conditions:
                type: array
                items:
                  type: object
                  properties:
                    type: {type: string}
                    status: {type: string}
"""


class KubectlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = simtest.start()

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def k(self, *args, input=None, ok=True):
        cp = self.sim.kubectl(*args, input=input)
        if ok:
            self.assertEqual(cp.returncode, 0, f"kubectl {' '.join(args)}: {cp.stderr}")
        return cp

    def kjson(self, *args):
        return json.loads(self.k(*args, "-o", "json").stdout)

    def new_ns(self, name):
        self.k("create", "namespace", name)
        return name

    # ------------------------------------------------------------------ apply and get
    def test_apply_then_get_json_wide_and_custom_columns(self):
        ns = self.new_ns("apply")
        out = self.k("apply", "-n", ns, "-f", "-", input=DEPLOY.format(name="web", image="nginx:1.25")).stdout
        self.assertIn("deployment.apps/web created", out)
        d = self.kjson("get", "deployment", "web", "-n", ns)
        self.assertEqual(d["spec"]["replicas"], 2)
        self.assertEqual(d["metadata"]["generation"], 1)
        self.assertTrue(d["metadata"]["uid"])
        self.assertEqual(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%")   # defaulted
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration", d["metadata"]["annotations"])
        again = self.k("apply", "-n", ns, "-f", "-", input=DEPLOY.format(name="web", image="nginx:1.25")).stdout
        self.assertIn("unchanged", again)
        out = self.k("apply", "-n", ns, "-f", "-", input=DEPLOY.format(name="web", image="nginx:1.26")).stdout
        self.assertIn("configured", out)
        d2 = self.kjson("get", "deployment", "web", "-n", ns)
        self.assertEqual(d2["metadata"]["generation"], 2)
        self.assertEqual(d2["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.26")
        wide = self.k("get", "deploy", "-n", ns, "-o", "wide").stdout.splitlines()
        self.assertEqual(wide[0].split(), ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES",
                                           "SELECTOR"])
        self.assertIn("nginx:1.26", wide[1])
        self.assertIn("app=web", wide[1])
        cc = self.k("get", "deploy", "web", "-n", ns, "-o",
                    "custom-columns=N:.metadata.name,IMG:.spec.template.spec.containers[0].image,R:.spec.replicas"
                    ).stdout.splitlines()
        self.assertEqual(cc[1].split(), ["web", "nginx:1.26", "2"])

    def test_get_table_columns_of_builtins(self):
        ns = self.new_ns("tables")
        self.k("create", "configmap", "c1", "-n", ns, "--from-literal=a=b", "--from-literal=c=d")
        lines = self.k("get", "cm", "c1", "-n", ns).stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "DATA", "AGE"])
        self.assertEqual(lines[1].split()[:2], ["c1", "2"])
        lines = self.k("get", "ns", ns).stdout.splitlines()
        self.assertEqual(lines[1].split()[:2], [ns, "Active"])
        lines = self.k("get", "svc", "kubernetes", "-n", "default").stdout.splitlines()
        self.assertEqual(lines[0].split()[:4], ["NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP"])
        self.assertIn("443/TCP", lines[1])
        lines = self.k("get", "nodes").stdout.splitlines()
        self.assertTrue(lines[1].startswith("kubesim-node"), lines)
        lines = self.k("get", "cm", "-A", "--show-labels").stdout.splitlines()
        self.assertEqual(lines[0].split()[0], "NAMESPACE")

    def test_get_watch_prints_new_objects(self):
        ns = self.new_ns("watching")
        proc = self.sim.kubectl_popen("get", "configmaps", "-n", ns, "-w", "--output-watch-events")
        try:
            self.k("create", "configmap", "first", "-n", ns)
            self.k("create", "configmap", "second", "-n", ns)
            self.k("label", "configmap", "second", "-n", ns, "x=y")
            seen = self._read_until(proc, lambda text: "MODIFIED" in text and "second" in text, 30)
            self.assertIn("ADDED", seen)
            self.assertIn("first", seen)
        finally:
            proc.kill()
            proc.wait()

    def _read_until(self, proc, pred, timeout):
        text = ""
        deadline = time.monotonic() + timeout
        fd = proc.stdout.fileno()
        while not pred(text):
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"timed out; kubectl printed: {text!r}")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536).decode()
                if not chunk:
                    self.fail(f"kubectl exited; printed: {text!r}")
                text += chunk
        return text

    def test_describe_shows_fields_and_events(self):
        ns = self.new_ns("describe")
        self.k("apply", "-n", ns, "-f", "-", input=DEPLOY.format(name="desc", image="nginx:1.25"))
        d = self.kjson("get", "deploy", "desc", "-n", ns)
        event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "desc.test1", "namespace": ns},
                 "involvedObject": {"kind": "Deployment", "apiVersion": "apps/v1", "name": "desc", "namespace": ns,
                                    "uid": d["metadata"]["uid"]},
                 "reason": "TestReason", "message": "a test event", "type": "Warning",
                 "source": {"component": "kubesim-test"}, "count": 1}
        self.k("create", "-f", "-", input=json.dumps(event))
        out = self.k("describe", "deployment", "desc", "-n", ns).stdout
        self.assertRegex(out, r"Replicas:\s+2 desired")
        self.assertRegex(out, r"Selector:\s+app=desc")
        self.assertIn("TestReason", out)
        self.assertIn("a test event", out)

    # ------------------------------------------------------------------ patches
    def test_patch_strategic_merge_json_and_merge(self):
        ns = self.new_ns("patching")
        self.k("apply", "-n", ns, "-f", "-", input=DEPLOY.format(name="p", image="nginx:1.25"))
        # strategic: containers and env merge by name
        self.k("patch", "deploy", "p", "-n", ns, "-p", json.dumps({"spec": {"template": {"spec": {"containers": [
            {"name": "side", "image": "busybox:1"},
            {"name": "main", "env": [{"name": "B", "value": "2"}]}]}}}}))
        d = self.kjson("get", "deploy", "p", "-n", ns)
        cs = {c["name"]: c for c in d["spec"]["template"]["spec"]["containers"]}
        self.assertEqual(set(cs), {"main", "side"})
        self.assertEqual(cs["main"]["image"], "nginx:1.25")
        self.assertEqual([e["name"] for e in cs["main"]["env"]], ["A", "B"])
        # strategic delete directive
        self.k("patch", "deploy", "p", "-n", ns, "-p", json.dumps({"spec": {"template": {"spec": {"containers": [
            {"name": "side", "$patch": "delete"}]}}}}))
        d = self.kjson("get", "deploy", "p", "-n", ns)
        self.assertEqual([c["name"] for c in d["spec"]["template"]["spec"]["containers"]], ["main"])
        # merge patch replaces lists and removes with null
        self.k("patch", "deploy", "p", "-n", ns, "--type=merge", "-p",
               json.dumps({"metadata": {"labels": {"extra": "yes", "app": None}}}))
        d = self.kjson("get", "deploy", "p", "-n", ns)
        self.assertEqual(d["metadata"]["labels"], {"extra": "yes"})
        # JSON patch
        self.k("patch", "deploy", "p", "-n", ns, "--type=json", "-p",
               json.dumps([{"op": "replace", "path": "/spec/replicas", "value": 5},
                           {"op": "add", "path": "/metadata/annotations/note", "value": "hi"}]))
        d = self.kjson("get", "deploy", "p", "-n", ns)
        self.assertEqual(d["spec"]["replicas"], 5)
        self.assertEqual(d["metadata"]["annotations"]["note"], "hi")
        bad = self.k("patch", "deploy", "p", "-n", ns, "--type=json", "-p",
                     json.dumps([{"op": "test", "path": "/spec/replicas", "value": 1}]), ok=False)
        self.assertNotEqual(bad.returncode, 0)
        # a label change does not bump generation; a spec change does
        gen = d["metadata"]["generation"]
        self.k("label", "deploy", "p", "-n", ns, "z=1")
        self.assertEqual(self.kjson("get", "deploy", "p", "-n", ns)["metadata"]["generation"], gen)

    def test_server_side_apply_conflicts_and_force(self):
        ns = self.new_ns("ssa")
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared", "namespace": ns},
              "data": {"a": "1"}}
        out = self.k("apply", "--server-side", "--field-manager=alice", "-f", "-", input=json.dumps(cm)).stdout
        self.assertIn("serverside-applied", out)
        cm["data"] = {"a": "2"}
        cp = self.k("apply", "--server-side", "--field-manager=bob", "-f", "-", input=json.dumps(cm), ok=False)
        self.assertNotEqual(cp.returncode, 0)
        self.assertIn('conflict with "alice"', cp.stderr)
        self.assertIn(".data.a", cp.stderr)
        self.k("apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", "-", input=json.dumps(cm))
        got = self.kjson("get", "cm", "shared", "-n", ns, "--show-managed-fields")
        self.assertEqual(got["data"], {"a": "2"})
        managers = {m["manager"]: m for m in got["metadata"]["managedFields"]}
        self.assertIn("f:a", json.dumps(managers["bob"]["fieldsV1"]))
        self.assertNotIn("alice", managers)   # alice lost her only field
        # fields a manager stops applying are removed
        cm["data"] = {"b": "3"}
        self.k("apply", "--server-side", "--field-manager=bob", "-f", "-", input=json.dumps(cm))
        self.assertEqual(self.kjson("get", "cm", "shared", "-n", ns)["data"], {"b": "3"})
        # same value from two managers: shared ownership, no conflict
        self.k("apply", "--server-side", "--field-manager=carol", "-f", "-", input=json.dumps(cm))
        # keyed lists: a container and an env entry the manager stops applying are removed, the rest merged
        def dep(containers, labels):
            return json.dumps({"apiVersion": "apps/v1", "kind": "Deployment",
                               "metadata": {"name": "ssa", "namespace": ns, "labels": labels},
                               "spec": {"selector": {"matchLabels": {"app": "ssa"}},
                                        "template": {"metadata": {"labels": {"app": "ssa"}},
                                                     "spec": {"containers": containers}}}})
        self.k("apply", "--server-side", "-f", "-", input=dep(
            [{"name": "a", "image": "nginx:1", "env": [{"name": "X", "value": "1"}, {"name": "Z", "value": "2"}]},
             {"name": "b", "image": "nginx:2"}], {"one": "1", "two": "2"}))
        self.k("apply", "--server-side", "-f", "-", input=dep(
            [{"name": "a", "image": "nginx:1", "env": [{"name": "X", "value": "1"}]}], {"one": "1"}))
        d = self.kjson("get", "deploy", "ssa", "-n", ns)
        self.assertEqual(d["metadata"]["labels"], {"one": "1"})
        self.assertEqual([c["name"] for c in d["spec"]["template"]["spec"]["containers"]], ["a"])
        self.assertEqual(d["spec"]["template"]["spec"]["containers"][0]["env"], [{"name": "X", "value": "1"}])

    # ------------------------------------------------------------------ deletion
    def _owned(self, ns, owner_uid, name):
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": name, "namespace": ns, "ownerReferences": [
                {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner_uid}]}}

    def _family(self, ns):
        self.k("create", "configmap", "owner", "-n", ns)
        uid = self.kjson("get", "cm", "owner", "-n", ns)["metadata"]["uid"]
        for n in ("dep1", "dep2"):
            self.k("create", "-f", "-", input=json.dumps(self._owned(ns, uid, n)))

    def _names(self, ns):
        return sorted(self.k("get", "cm", "-n", ns, "-o", "name").stdout.split())

    def test_delete_with_cascade_background_foreground_orphan(self):
        for mode in ("background", "foreground", "orphan"):
            with self.subTest(mode=mode):
                ns = self.new_ns(f"cascade-{mode}")
                self._family(ns)
                self.k("delete", "cm", "owner", "-n", ns, f"--cascade={mode}")
                if mode == "orphan":
                    simtest.wait_for(lambda: self._names(ns) == ["configmap/dep1", "configmap/dep2"],
                                     what="orphans remain")
                    dep = self.kjson("get", "cm", "dep1", "-n", ns)
                    self.assertNotIn("ownerReferences", dep["metadata"])
                else:
                    simtest.wait_for(lambda: self._names(ns) == [], what=f"{mode} cascade")

    def test_finalizers_hold_deletion(self):
        ns = self.new_ns("finalizers")
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "held", "namespace": ns, "finalizers": ["test.kubesim.io/hold"]}}
        self.k("create", "-f", "-", input=json.dumps(cm))
        self.k("delete", "cm", "held", "-n", ns, "--wait=false")
        got = self.kjson("get", "cm", "held", "-n", ns)
        self.assertIn("deletionTimestamp", got["metadata"])
        self.k("patch", "cm", "held", "-n", ns, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        cp = self.k("get", "cm", "held", "-n", ns, ok=False)
        self.assertIn("NotFound", cp.stderr)

    def test_namespace_deletion_removes_its_objects(self):
        ns = self.new_ns("doomed")
        self.k("create", "configmap", "x", "-n", ns)
        held = {"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "held", "namespace": ns, "finalizers": ["test.kubesim.io/hold"]}}
        self.k("create", "-f", "-", input=json.dumps(held))
        self.k("delete", "namespace", ns, "--wait=false")
        simtest.wait_for(lambda: self.sim.request("GET", f"/api/v1/namespaces/{ns}/configmaps/x")[0] == 404,
                         what="namespace content deleted")
        self.assertEqual(self.kjson("get", "ns", ns)["status"]["phase"], "Terminating")   # held by a finalizer
        cp = self.k("create", "configmap", "late", "-n", ns, ok=False)
        self.assertIn("being terminated", cp.stderr)
        self.k("patch", "cm", "held", "-n", ns, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
        self.k("wait", "--for=delete", f"namespace/{ns}", "--timeout=30s")
        cp = self.k("get", "ns", ns, ok=False)
        self.assertIn("NotFound", cp.stderr)
        status, _, _ = self.sim.request("GET", f"/api/v1/namespaces/{ns}/configmaps/x")
        self.assertEqual(status, 404)

    # ------------------------------------------------------------------ events
    def test_events_core_and_events_k8s_io(self):
        ns = self.new_ns("events")
        self.k("create", "configmap", "subject", "-n", ns)
        ev = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "subject.e1", "namespace": ns},
              "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "kubesim-test",
              "reportingInstance": "t1", "action": "Testing", "reason": "Tested", "note": "hello events",
              "type": "Normal", "regarding": {"kind": "ConfigMap", "name": "subject", "namespace": ns}}
        self.k("create", "-f", "-", input=json.dumps(ev))
        core = self.kjson("get", "events", "-n", ns)["items"]
        self.assertEqual([e["message"] for e in core], ["hello events"])
        self.assertEqual(core[0]["involvedObject"]["name"], "subject")
        out = self.k("events", "-n", ns).stdout
        self.assertIn("Tested", out)
        self.assertIn("hello events", out)
        table = self.k("get", "events", "-n", ns).stdout.splitlines()
        self.assertEqual(table[0].split()[:4], ["LAST", "SEEN", "TYPE", "REASON"])
        v1 = self.kjson("get", "events.v1.events.k8s.io", "-n", ns)["items"]
        self.assertEqual(v1[0]["note"], "hello events")
        sel = self.kjson("get", "events", "-n", ns, "--field-selector", "involvedObject.name=subject")["items"]
        self.assertEqual(len(sel), 1)

    # ------------------------------------------------------------------ CRDs
    def test_crd_served_with_columns_validation_and_subresources(self):
        self.k("apply", "-f", "-", input=CRD)
        self.k("wait", "--for=condition=Established", "crd/gadgets.test.kubesim.io", "--timeout=30s")
        ns = self.new_ns("crds")
        g = {"apiVersion": "test.kubesim.io/v1", "kind": "Gadget", "metadata": {"name": "g1", "namespace": ns},
             "spec": {"color": "red"}}
        self.k("apply", "-f", "-", input=json.dumps(g))
        lines = self.k("get", "gd", "-n", ns).stdout.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "COLOR", "REPLICAS", "READY", "AGE"])
        self.assertEqual(lines[1].split()[:3], ["g1", "red", "1"])   # replicas defaulted
        # validation: enum, maximum, pattern, CEL
        bad = dict(g, spec={"color": "green", "replicas": 11, "label": "A1", "min": 1})
        cp = self.k("apply", "-f", "-", input=json.dumps(bad), ok=False)
        self.assertIn('spec.color: Unsupported value: "green"', cp.stderr)
        self.assertIn("spec.replicas: Invalid value: 11", cp.stderr)
        self.assertIn("spec.label: Invalid value: \"A1\"", cp.stderr)
        self.assertIn("min and max go together", cp.stderr)
        cp = self.k("patch", "gadget", "g1", "-n", ns, "--type=merge", "-p", '{"spec":{"color":"blue"}}', ok=False)
        self.assertIn("color is immutable", cp.stderr)
        missing = dict(g, metadata={"name": "g2", "namespace": ns}, spec={})
        cp = self.k("create", "-f", "-", input=json.dumps(missing), ok=False)
        self.assertIn("spec.color: Required value", cp.stderr)
        status, body, _ = self.sim.request("POST", f"/apis/test.kubesim.io/v1/namespaces/{ns}/gadgets",
                                           dict(g, metadata={"name": "g3"}, spec={"color": "red", "replicas": -1}))
        self.assertEqual((status, body["kind"], body["reason"]), (422, "Status", "Invalid"))
        self.assertEqual([(c["reason"], c["field"]) for c in body["details"]["causes"]],
                         [("FieldValueInvalid", "spec.replicas")])
        # strict field validation
        cp = self.k("apply", "-f", "-", input=json.dumps(dict(g, spec={"color": "red", "junk": 1})), ok=False)
        self.assertIn('unknown field "spec.junk"', cp.stderr)
        # status subresource: status changes do not bump generation; main resource ignores status
        gen = self.kjson("get", "gadget", "g1", "-n", ns)["metadata"]["generation"]
        self.k("patch", "gadget", "g1", "-n", ns, "--subresource=status", "--type=merge", "-p",
               '{"status":{"replicas":1,"conditions":[{"type":"Ready","status":"True"}]}}')
        got = self.kjson("get", "gadget", "g1", "-n", ns)
        self.assertEqual(got["metadata"]["generation"], gen)
        self.assertEqual(got["status"]["replicas"], 1)
        self.assertIn("True", self.k("get", "gd", "g1", "-n", ns).stdout)
        # scale subresource
        self.k("scale", "gadget", "g1", "-n", ns, "--replicas=3")
        self.assertEqual(self.kjson("get", "gadget", "g1", "-n", ns)["spec"]["replicas"], 3)
        # the other served version
        status, body, _ = self.sim.request("GET", f"/apis/test.kubesim.io/v1beta1/namespaces/{ns}/gadgets/g1")
        self.assertEqual(status, 200)
        self.assertEqual(body["apiVersion"], "test.kubesim.io/v1beta1")
        # deleting the CRD stops serving it
        self.k("delete", "crd", "gadgets.test.kubesim.io")
        status, _, _ = self.sim.request("GET", f"/apis/test.kubesim.io/v1/namespaces/{ns}/gadgets")
        self.assertEqual(status, 404)

    # ------------------------------------------------------------------ selectors, paging, concurrency
    def test_selectors_and_paging(self):
        ns = self.new_ns("select")
        for i in range(7):
            self.k("create", "configmap", f"c{i}", "-n", ns)
            self.k("label", "cm", f"c{i}", "-n", ns, f"tier={'a' if i % 2 else 'b'}", f"i=n{i}")
        names = self.k("get", "cm", "-n", ns, "-l", "tier=a", "-o", "name").stdout.split()
        self.assertEqual(names, ["configmap/c1", "configmap/c3", "configmap/c5"])
        names = self.k("get", "cm", "-n", ns, "-l", "tier!=a,i in (n0,n2,n3)", "-o", "name").stdout.split()
        self.assertEqual(names, ["configmap/c0", "configmap/c2"])
        names = self.k("get", "cm", "-n", ns, "--field-selector", "metadata.name=c4", "-o", "name").stdout.split()
        self.assertEqual(names, ["configmap/c4"])
        paged = self.k("get", "cm", "-n", ns, "--chunk-size=2", "-o", "name").stdout.split()
        self.assertEqual(len([n for n in paged if n.startswith("configmap/c")]), 7)
        status, body, _ = self.sim.request("GET", f"/api/v1/namespaces/{ns}/configmaps?limit=3&labelSelector=tier")
        self.assertEqual(len(body["items"]), 3)
        self.assertTrue(body["metadata"]["continue"])
        self.assertEqual(body["metadata"]["remainingItemCount"], 4)

    def test_optimistic_concurrency_and_errors(self):
        ns = self.new_ns("occ")
        self.k("create", "configmap", "v", "-n", ns, "--from-literal=k=1")
        cm = self.kjson("get", "cm", "v", "-n", ns)
        self.k("patch", "cm", "v", "-n", ns, "--type=merge", "-p", '{"data":{"k":"2"}}')
        cm["data"]["k"] = "3"
        cp = self.k("replace", "-f", "-", input=json.dumps(cm), ok=False)
        self.assertIn("the object has been modified", cp.stderr)
        status, body, _ = self.sim.request("PUT", f"/api/v1/namespaces/{ns}/configmaps/v", cm)
        self.assertEqual((status, body["reason"]), (409, "Conflict"))
        cp = self.k("create", "configmap", "v", "-n", ns, ok=False)
        self.assertIn('configmaps "v" already exists', cp.stderr)
        cp = self.k("get", "cm", "nope", "-n", ns, ok=False)
        self.assertIn('configmaps "nope" not found', cp.stderr)
        cp = self.k("create", "configmap", "x", "-n", "no-such-ns", ok=False)
        self.assertIn('namespaces "no-such-ns" not found', cp.stderr)

    def test_create_commands_of_typed_clients(self):
        # kubectl create deployment/service and expose send protobuf bodies
        ns = self.new_ns("typed")
        self.k("create", "deployment", "td", "-n", ns, "--image=nginx:1.25", "--replicas=3", "--port=80")
        d = self.kjson("get", "deploy", "td", "-n", ns)
        self.assertEqual(d["spec"]["replicas"], 3)
        self.assertEqual(d["spec"]["selector"]["matchLabels"], {"app": "td"})
        c = d["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual((c["name"], c["image"], c["ports"][0]["containerPort"]), ("nginx", "nginx:1.25", 80))
        self.k("create", "deployment", "zero", "-n", ns, "--image=nginx:1.25", "--replicas=0")
        self.assertEqual(self.kjson("get", "deploy", "zero", "-n", ns)["spec"]["replicas"], 0)
        self.k("create", "service", "nodeport", "np", "-n", ns, "--tcp=80:http")
        svc = self.kjson("get", "svc", "np", "-n", ns)
        self.assertEqual(svc["spec"]["type"], "NodePort")
        self.assertEqual(svc["spec"]["ports"][0]["targetPort"], "http")
        self.assertGreaterEqual(svc["spec"]["ports"][0]["nodePort"], 30000)
        self.k("expose", "deployment", "td", "-n", ns, "--port=81", "--name=td-svc")
        svc = self.kjson("get", "svc", "td-svc", "-n", ns)
        self.assertEqual(svc["spec"]["selector"], {"app": "td"})
        self.assertNotEqual(svc["spec"]["clusterIP"], "10.96.0.1")
        self.k("create", "configmap", "cm", "-n", ns, "--from-literal=k=v")
        self.k("create", "secret", "generic", "sec", "-n", ns, "--from-literal=k=v")
        self.assertEqual(self.kjson("get", "secret", "sec", "-n", ns)["data"], {"k": "dg=="})

    def test_names_labels_and_immutable_fields_are_validated(self):
        ns = self.new_ns("validation")
        cp = self.k("create", "configmap", "Upper", "-n", ns, ok=False)
        self.assertIn('metadata.name: Invalid value: "Upper"', cp.stderr)
        self.k("apply", "-n", ns, "-f", "-", input=DEPLOY.format(name="imm", image="nginx:1.25"))
        cp = self.k("patch", "deploy", "imm", "-n", ns, "--type=merge", "-p",
                    '{"spec":{"selector":{"matchLabels":{"app":"x"}},"template":{"metadata":{"labels":{"app":"x"}}}}}',
                    ok=False)
        self.assertIn("spec.selector: Invalid value", cp.stderr)
        self.assertIn("field is immutable", cp.stderr)
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "frozen", "namespace": ns},
              "data": {"a": "1"}, "immutable": True}
        self.k("create", "-f", "-", input=json.dumps(cm))
        cp = self.k("patch", "cm", "frozen", "-n", ns, "--type=merge", "-p", '{"data":{"a":"2"}}', ok=False)
        self.assertIn("field is immutable when `immutable` is set", cp.stderr)

    def test_leases_and_stats(self):
        ns = self.new_ns("leases")
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leader", "namespace": ns},
                 "spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}
        self.k("create", "-f", "-", input=json.dumps(lease))
        self.assertEqual(self.k("get", "lease", "leader", "-n", ns).stdout.splitlines()[1].split()[1], "me")
        self.sim.reset_stats()
        self.k("patch", "lease", "leader", "-n", ns, "--type=merge", "-p", '{"spec":{"holderIdentity":"you"}}')
        stats = self.sim.stats()
        self.assertGreaterEqual(stats["requests"].get("patch leases", 0), 1)
        self.assertGreaterEqual(stats["by_verb_resource_code"].get("patch leases 200", 0), 1)
        self.assertGreaterEqual(stats["total"], 2)
        self.assertIn("200", stats["by_code"])


class CliTest(unittest.TestCase):
    def test_bad_flags_exit_2_with_usage(self):
        cp = subprocess.run([sys.executable, simtest.KUBESIM, "--kubeconfig", "/tmp/x", "--bogus"],
                            capture_output=True, text=True, timeout=30)
        self.assertEqual(cp.returncode, 2)
        self.assertIn("usage:", cp.stderr)
        cp = subprocess.run([sys.executable, simtest.KUBESIM, "--kubeconfig", "/tmp/x", "--fault", "nonsense=1"],
                            capture_output=True, text=True, timeout=30)
        self.assertEqual(cp.returncode, 2)

    def test_sigterm_stops_within_a_second(self):
        sim = simtest.start()
        try:
            self.assertEqual(sim.kubectl("get", "ns", "default").returncode, 0)
            start = time.monotonic()
            sim.proc.send_signal(signal.SIGTERM)
            sim.proc.wait(timeout=5)
            self.assertLess(time.monotonic() - start, 2.0)   # 1 s promised; slack for a loaded CI machine
        finally:
            sim.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
