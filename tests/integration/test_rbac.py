"""--rbac: the operator under deploy/'s ServiceAccount upgrades a mesh with no 403; without any one rule it fails clearly.

Each case starts its own simulator with `--rbac`, applies deploy/'s RBAC as rendered by `kubectl kustomize deploy/`
(Namespace, ServiceAccount, ClusterRole, ClusterRoleBinding, Role, RoleBinding; never the Deployment), takes a token
from `kubectl create token`, and runs the operator binary with a kubeconfig that holds only that token, through a
v1.3.8 → v1.3.9 patch upgrade of 4 meshed workloads. The removal cases run a few at a time in threads.
"""
import base64
import concurrent.futures
import json
import os
import re
import subprocess
import time
import types
import unittest
import urllib.error
import urllib.request

import optest

NAMESPACE = "meshupgrade-system"
ACCOUNT = "meshupgrade-operator"
SIM_ARGS = ["--rbac", "--mesh", "v1.3.8", "--meshed-workloads", "4", "--namespaces", "2", "--ready-delay", "0.2"]
OPERATOR_ARGS = ["--leader-elect", f"--leader-election-namespace={NAMESPACE}"]
RBAC_KINDS = ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
UPGRADE_DEADLINE = 240  # seconds; generous for a loaded 2-core machine
# Without a grant: an upgrade that the grant does not concern takes about 10 s alone, 30 s beside two others;
# past this, the case counts as silent.
REMOVAL_DEADLINE = 120
PARALLEL = 3

# A 403 in the operator's log: the status code (not a digit run inside a timestamp or a number) or the reason.
FORBIDDEN_IN_LOG = re.compile(r"(?<![\w.:])403(?![\w.])|forbidden", re.IGNORECASE)


# What removing a grant does to the upgrade above. A case is (apiGroup, resource, verb): verb None removes every
# verb on the resource (the rule, split per resource); a verb removes only that verb. Every grant of deploy/ has a
# whole-resource case; a few verbs that the operator uses only after it has started have their own.
#   "forbidden": the MeshUpgrade gets a condition with reason Forbidden whose message names the verb and resource.
#   "log-only":  status says nothing; the operator's log names the resource with 403 (and, for what its caches list,
#                the operator never becomes ready: NOT_READY).
#   "unused":    the default upgrade succeeds without it (it serves another path, see the note).
#   "silent":    status goes on as if nothing happened while the log repeats the 403: a gap in the operator (no
#                grant is expected to be silent; the harness still tells this kind apart so a regression shows).
EXPECTED = {
    ("upgrade.flomesh.io", "meshupgrades", None): ("log-only", "the informer of its own objects"),
    ("upgrade.flomesh.io", "meshupgrades", "patch"): ("forbidden", "the finalizer"),
    ("upgrade.flomesh.io", "meshupgrades/status", None): ("log-only", "status cannot be written, so it cannot say so"),
    ("apps", "deployments", None): ("log-only", "two informers"),
    # The patch's ApiError arrives nested (patch_to_target, restart_workload add context); the reconciler looks
    # through the chain of causes for it.
    ("apps", "deployments", "patch"): ("forbidden", "the control-plane and workload patches"),
    ("apps", "statefulsets", None): ("log-only", "the workload informer"),
    ("apps", "daemonsets", None): ("log-only", "the workload informer"),
    ("", "pods", None): ("log-only", "three informers"),
    ("", "pods", "create"): ("forbidden", "the image-pull precheck pod"),
    ("", "pods", "delete"): ("forbidden", "the image-pull precheck pod"),
    ("", "namespaces", None): ("log-only", "the namespace informer"),
    ("", "secrets", None): ("forbidden", "the Helm release record, read by the precheck"),
    ("", "secrets", "create"): ("forbidden", "the next Helm revision, written once the control plane runs the target"),
    ("", "secrets", "update"): ("forbidden", "the previous Helm revision, marked superseded"),
    # delete only prunes Helm's history beyond 10 revisions: off the default path (a seeded mesh has one).
    ("", "configmaps", None): ("log-only", "the release-catalog ConfigMap informer (get: crds.source ConfigMap and "
                                           "controlPlane.source Manifests)"),
    ("", "events", None): ("unused", "Events are best effort (a refused one is a warning in the log); `list` serves "
                                     "only the FatalInvalidCLIParameters precheck, see PrecheckUnderDeployRbac"),
    ("config.openservicemesh.io", "meshconfigs", None): ("forbidden", "the sidecar image patch"),
    ("apiextensions.k8s.io", "customresourcedefinitions", None): ("log-only", "the CRD informer"),
    ("coordination.k8s.io", "leases", None): ("log-only", "leader election never succeeds"),
}
# Cases whose operator must never report ready (it cannot fill its caches).
NOT_READY = {("upgrade.flomesh.io", "meshupgrades", None), ("apps", "deployments", None), ("", "configmaps", None),
             ("apps", "statefulsets", None), ("apps", "daemonsets", None), ("", "pods", None),
             ("", "namespaces", None), ("apiextensions.k8s.io", "customresourcedefinitions", None)}
# The verb the Forbidden message must name, per "forbidden" case.
FORBIDDEN_VERB = {
    ("upgrade.flomesh.io", "meshupgrades", "patch"): "patch",
    ("apps", "deployments", "patch"): "patch",
    ("", "pods", "create"): "create",
    ("", "pods", "delete"): "delete",
    ("", "secrets", None): "list",
    ("", "secrets", "create"): "create",
    ("", "secrets", "update"): "update",
    ("config.openservicemesh.io", "meshconfigs", None): "patch",
}


def render_rbac():
    """deploy/ through `kubectl kustomize`, as JSON objects of the RBAC kinds (the Deployment is left out)."""
    offline = dict(os.environ, KUBECONFIG=os.devnull)
    kustomized = subprocess.run([optest.simtest.KUBECTL, "kustomize", os.path.join(optest.ROOT, "deploy")],
                                capture_output=True, text=True, env=offline, timeout=120)
    if kustomized.returncode != 0:
        raise AssertionError(f"kubectl kustomize deploy/ failed: {kustomized.stderr}")
    # `kubectl label --local` parses every document and prints JSON without a server.
    as_json = subprocess.run([optest.simtest.KUBECTL, "label", "--local", "-f", "-", "rbac.test/none-", "-o", "json"],
                             input=kustomized.stdout, capture_output=True, text=True, env=offline, timeout=120)
    if as_json.returncode != 0:
        raise AssertionError(f"kubectl label --local failed: {as_json.stderr}")
    # One JSON document per object, back to back.
    items, text, pos = [], as_json.stdout, 0
    decoder = json.JSONDecoder()
    while text[pos:].strip():
        doc, end = decoder.raw_decode(text, pos + len(text[pos:]) - len(text[pos:].lstrip()))
        items.extend(doc["items"] if doc.get("kind") == "List" else [doc])
        pos = end
    return sorted((o for o in items if o["kind"] in RBAC_KINDS), key=lambda o: RBAC_KINDS.index(o["kind"]))


def as_stream(objects):
    """Objects as one JSON stream for `kubectl apply -f -`, in order: the Namespace first."""
    return "\n".join(json.dumps(o) for o in objects)


def grants(objects):
    """Every (apiGroup, resource) granted by a ClusterRole or Role, in order."""
    out = []
    for o in objects:
        if o["kind"] in ("ClusterRole", "Role"):
            for rule in o["rules"]:
                for group in rule["apiGroups"]:
                    for resource in rule["resources"]:
                        if (group, resource) not in out:
                            out.append((group, resource))
    return out


def without(objects, case):
    """A deep copy of objects in which no ClusterRole or Role grants case=(apiGroup, resource, verb) (verb None:
    any verb on the resource). Rules are split per group and resource so that only that grant goes."""
    group, resource, verb = case
    out = json.loads(json.dumps(objects))
    for o in out:
        if o["kind"] not in ("ClusterRole", "Role"):
            continue
        rules = []
        for rule in o["rules"]:
            for g in rule["apiGroups"]:
                for r in rule["resources"]:
                    verbs = rule["verbs"]
                    if (g, r) == (group, resource):
                        verbs = [] if verb is None else [v for v in verbs if v != verb]
                    if verbs:
                        rules.append(dict(rule, apiGroups=[g], resources=[r], verbs=verbs))
        o["rules"] = rules
    return out


def token_kubeconfig(sim, token):
    """A kubeconfig for the simulator's server and CA that authenticates with the bearer token only."""
    with open(sim.kubeconfig) as f:
        text = f.read()
    ca = re.search(r"certificate-authority-data:\s*(\S+)", text).group(1)
    base64.b64decode(ca)  # fails loudly if the admin kubeconfig changed shape
    path = os.path.join(sim.tmpdir, "operator-kubeconfig")
    with open(path, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: kubesim
  cluster:
    server: {sim.url}
    certificate-authority-data: {ca}
users:
- name: {ACCOUNT}
  user:
    token: {token}
contexts:
- name: {ACCOUNT}
  context: {{cluster: kubesim, user: {ACCOUNT}, namespace: {NAMESPACE}}}
current-context: {ACCOUNT}
""")
    os.chmod(path, 0o600)
    return path


def readyz(op):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{op.health_port}/readyz", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


class Case:
    """One simulator with deploy/'s RBAC (optionally without one grant), the operator under its ServiceAccount,
    and the patch upgrade applied as admin."""

    def __init__(self, objects):
        self.env = optest.Env(SIM_ARGS, start_operator=False)
        try:
            self.env.apply(as_stream(objects))
            self.token = self.env.kubectl("create", "token", ACCOUNT, "-n", NAMESPACE, "--duration=1h",
                                          check=True).stdout.strip()
            kubeconfig = token_kubeconfig(self.env.sim, self.token)
            self.op = optest.Operator(types.SimpleNamespace(kubeconfig=kubeconfig), *OPERATOR_ARGS)
            self.env.operators.append(self.op)  # closed with the env, and its log in log_tail()
            self.started = time.monotonic()
            self.env.apply(optest.meshupgrade("osm-upgrade", "v1.3.9"))
        except BaseException:
            self.env.close()
            raise

    def outcome(self, resource, deadline=UPGRADE_DEADLINE):
        """Waits for the first clear outcome: ("forbidden", condition), ("succeeded", status), ("stalled",
        condition), ("log-only", the 403 line) when status never got a condition, ("silent", the 403 line) when
        status goes on without naming it, or ("silent", status) at the deadline. resource: the plural a 403 line of
        the log names (None: look for none)."""
        end = time.monotonic() + deadline
        refused_at, refused_line, blocked_at, blocked_line = None, "", None, ""
        while True:
            status = self.env.mu("osm-upgrade").get("status", {})
            conditions = status.get("conditions", [])
            for c in conditions:
                if c.get("reason") == "Forbidden":
                    return "forbidden", c
            by_type = {c["type"]: c for c in conditions}
            if by_type.get("Ready", {}).get("status") == "True":
                return "succeeded", status
            if by_type.get("Stalled", {}).get("status") == "True":
                return "stalled", by_type["Stalled"]
            # A 403 naming the resource in the log, and status still says nothing about it: while nothing was
            # ever written (15 s), or while a failed reconcile (an error line, not a refused Event) blocks (30 s).
            if resource:
                now = time.monotonic()
                for ln in self.op.logs().splitlines():
                    if FORBIDDEN_IN_LOG.search(ln) and resource in ln:
                        refused_at, refused_line = refused_at or now, refused_line or ln
                        if '"level":"error"' in ln:
                            blocked_at, blocked_line = blocked_at or now, blocked_line or ln
                if not conditions and refused_at and now - refused_at > 15:
                    return "log-only", refused_line
                if conditions and blocked_at and now - blocked_at > 30:
                    return "silent", blocked_line
            if time.monotonic() > end:
                return "silent", status
            time.sleep(0.5)

    def close(self):
        self.env.close()


def grant_cases(objects):
    """A whole-resource case for every grant of deploy/, and the verb cases of EXPECTED."""
    cases = [(g, r, None) for g, r in grants(objects)]
    return cases + [c for c in EXPECTED if c[2] is not None and (c[0], c[1]) in grants(objects)]


def run_removal(objects, case):
    c = Case(without(objects, case))
    try:
        kind, detail = c.outcome(case[1], deadline=REMOVAL_DEADLINE)
        return {"case": case, "kind": kind, "detail": detail, "log": c.op.logs(), "ready": readyz(c.op),
                "status": c.env.mu("osm-upgrade").get("status", {})}
    finally:
        c.close()


class FullRbac(unittest.TestCase):
    def test_patch_upgrade_under_deploy_rbac_has_no_403(self):
        objects = render_rbac()
        self.assertEqual(sorted({o["kind"] for o in objects}), sorted(RBAC_KINDS))
        case = Case(objects)
        try:
            kind, status = case.outcome(None)
            self.assertEqual(kind, "succeeded", f"{json.dumps(status, indent=1)}\n{case.env.log_tail(60)}")
            self.assertEqual(status["phase"], "Succeeded")
            self.assertEqual(status["progress"], "4/4")
            self.assertEqual(status["fromVersion"], "v1.3.8")
            # It really ran as the ServiceAccount: the token may not do what the admin may.
            cp = case.env.kubectl("--token", case.token, "auth", "can-i", "delete", "deployments", "-n", "osm-system")
            self.assertEqual(cp.stdout.strip(), "no", cp.stderr)
            cp = case.env.kubectl("--token", case.token, "auth", "can-i", "patch", "deployments", "-n", "osm-system")
            self.assertEqual(cp.stdout.strip(), "yes", cp.stderr)
            # It led through the Role's Lease.
            lease = case.env.get("lease", "meshupgrade-operator", "-n", NAMESPACE)
            self.assertTrue(lease["spec"].get("holderIdentity"), lease)
            bad = [line for line in case.op.logs().splitlines() if FORBIDDEN_IN_LOG.search(line)]
            self.assertEqual(bad, [], "a 403 under deploy/'s RBAC")
            self.assertNotIn('code="403"', case.op.metrics())
        finally:
            case.close()


class PrecheckUnderDeployRbac(unittest.TestCase):
    def test_fatal_invalid_cli_parameters_is_read_from_events(self):
        # The precheck reads osm-edge's own Events of a crash-looping control-plane pod: deploy/ must grant `list`
        # on events, or the guide's case would be reported as Forbidden instead of FatalInvalidCLIParameters.
        env = optest.Env(SIM_ARGS, start_operator=False)
        try:
            env.apply(as_stream(render_rbac()))
            env.kubectl("set", "env", "deployment/osm-injector", "-n", "osm-system", "OSM_DEFAULT_INIT_CONTAINER_IMAGE-",
                        check=True)
            optest.wait_for(lambda: "FatalInvalidCLIParameters" in env.kubectl(
                "get", "events", "-n", "osm-system").stdout, timeout=90, what="the crash")
            token = env.kubectl("create", "token", ACCOUNT, "-n", NAMESPACE, "--duration=1h", check=True).stdout.strip()
            op = optest.Operator(types.SimpleNamespace(kubeconfig=token_kubeconfig(env.sim, token)), *OPERATOR_ARGS)
            env.operators.append(op)
            env.apply(optest.meshupgrade("osm-upgrade", "v1.3.9"))
            stalled = env.wait_condition("osm-upgrade", "Stalled", timeout=UPGRADE_DEADLINE)
            self.assertEqual(stalled["reason"], "FatalInvalidCLIParameters", stalled["message"])
        finally:
            env.close()


class WithoutOneGrant(unittest.TestCase):
    """Removes each grant of deploy/'s ClusterRole and Role in turn (and a few single verbs)."""

    @classmethod
    def setUpClass(cls):
        cls.objects = render_rbac()
        cls.cases = grant_cases(cls.objects)
        cls.results = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            futures = {pool.submit(run_removal, cls.objects, c): c for c in cls.cases}
            for f in concurrent.futures.as_completed(futures):
                c = futures[f]
                try:
                    cls.results[c] = f.result()
                except Exception as e:  # noqa: BLE001 - reported per case below
                    cls.results[c] = {"case": c, "kind": "error", "detail": repr(e), "log": "", "ready": None,
                                      "status": {}}
        if os.environ.get("RBAC_TEST_SUMMARY"):
            for c in cls.cases:
                r = cls.results[c]
                detail = r["detail"].get("message", "") if isinstance(r["detail"], dict) else str(r["detail"])
                print(f"{c}: {r['kind']} ready={r['ready']} phase={r['status'].get('phase')} :: {detail[:300]}")

    def explain(self, r, tail=30):
        return (f"removing {r['case']}: {r['kind']}\n{json.dumps(r['detail'], indent=1)}\n"
                f"status: {json.dumps(r['status'], indent=1)[:3000]}\nlog tail:\n"
                + "\n".join(r["log"].splitlines()[-tail:]))

    def test_every_grant_has_an_expected_outcome(self):
        whole = {c for c in self.cases if c[2] is None}
        self.assertEqual(sorted(whole - set(EXPECTED), key=str), [], "a grant of deploy/ without an expected outcome")
        self.assertEqual(sorted(set(EXPECTED) - set(self.cases), key=str), [], "an outcome for a grant deploy/ lacks")

    def test_removing_any_grant_fails_clearly_or_is_unused(self):
        for case in self.cases:
            want, why = EXPECTED.get(case, ("?", ""))
            r = self.results[case]
            if want == "silent":
                continue
            with self.subTest(case=case, why=why):
                got = {"succeeded": "unused"}.get(r["kind"], r["kind"])
                self.assertEqual(got, want, self.explain(r))
                conditions = {c["type"]: c for c in r["status"].get("conditions", [])}
                if want == "forbidden":
                    message = r["detail"]["message"]
                    self.assertIn(FORBIDDEN_VERB[case], message)
                    self.assertIn(case[1].split("/")[0], message)
                    self.assertEqual(conditions["Stalled"]["status"], "True")
                    self.assertNotEqual(conditions["Ready"]["status"], "True")
                elif want == "log-only":
                    self.assertNotEqual(conditions.get("Ready", {}).get("status"), "True")
                    self.assertRegex(r["detail"], FORBIDDEN_IN_LOG)
                    if case in NOT_READY:
                        self.assertNotEqual(r["ready"], 200, "an operator that cannot fill its caches is not ready")
                elif want == "unused":
                    self.assertEqual(r["status"]["phase"], "Succeeded")


if __name__ == "__main__":
    unittest.main()
