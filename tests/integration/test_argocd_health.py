#!/usr/bin/env python3
"""examples/argocd/health.lua maps sample MeshUpgrade objects to the Argo CD health a person expects.

The Lua runs in Debian's lua5.4 (scripts/deps installs it) inside an environment holding only what Argo CD's
sandbox offers, with the object handed over as the global `obj`, as Argo CD does.
"""
import json
import os
import re
import shutil
import subprocess
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEALTH_LUA = REPO / "examples" / "argocd" / "health.lua"
CM_PATCH = REPO / "examples" / "argocd" / "argocd-cm-patch.yaml"
CM_KEY = "resource.customizations.health.upgrade.flomesh.io_MeshUpgrade"


def lua_interpreter():
    path = shutil.which("lua5.4")
    if not path:
        raise AssertionError("lua5.4 is not installed: `apt-get install lua5.4` (scripts/deps installs it); "
                             "this test runs examples/argocd/health.lua with it")
    return path


def lua_literal(value):
    """A Python value (decoded JSON) as a Lua expression; None becomes nil, as a missing JSON field would."""
    if value is None:
        return "nil"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        out = []
        for byte in value.encode("utf-8"):
            char = chr(byte)
            if char in '"\\' or byte < 32 or byte > 126:
                out.append("\\%03d" % byte)
            else:
                out.append(char)
        return '"' + "".join(out) + '"'
    if isinstance(value, list):
        return "{" + ", ".join(lua_literal(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{lua_literal(k)}] = {lua_literal(v)}" for k, v in value.items()
                               if v is not None) + "}"
    raise TypeError(f"no Lua literal for {value!r}")


# The harness: run health.lua with only Argo CD's sandbox libraries (no io, no os), then print the table.
HARNESS = r"""
local path, obj = ...
local env = {obj = obj, ipairs = ipairs, pairs = pairs, tostring = tostring, tonumber = tonumber, type = type,
             next = next, select = select, error = error, pcall = pcall, assert = assert,
             string = string, table = table, math = math}
local chunk = assert(loadfile(path, "t", env))
local hs = chunk()
assert(type(hs) == "table", "health.lua must return a table")
io.write(tostring(hs.status), "\n", tostring(hs.message), "\n")
"""


def run_health(obj):
    script = "local f = load(" + lua_literal(HARNESS) + ")\nf(" + lua_literal(str(HEALTH_LUA)) + ", " + \
             lua_literal(obj) + ")\n"
    out = subprocess.run([lua_interpreter(), "-"], input=script, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise AssertionError("health.lua failed: " + out.stderr)
    status, message = out.stdout.split("\n")[:2]
    return status, message


def mu(generation=1, status=None, suspend=None):
    obj = {"apiVersion": "upgrade.flomesh.io/v1alpha1", "kind": "MeshUpgrade",
           "metadata": {"name": "osm-upgrade", "namespace": "osm-system", "generation": generation},
           "spec": {"meshName": "osm", "targetVersion": "v1.3.9"}}
    if suspend is not None:
        obj["spec"]["suspend"] = suspend
    if status is not None:
        obj["status"] = status
    return obj


def cond(kind, status, reason, message=""):
    return {"type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": "2026-11-26T00:00:00Z", "observedGeneration": 1}


def st(phase=None, conditions=(), observed=1, **extra):
    status = {"observedGeneration": observed, "conditions": list(conditions)}
    if phase:
        status["phase"] = phase
    status.update(extra)
    return status


READY_TRUE = cond("Ready", "True", "Succeeded", "osm upgraded from v1.3.8 to v1.3.9")
IN_PROGRESS = [cond("Ready", "Unknown", "Progressing", "rolling sidecars"),
               cond("Reconciling", "True", "Progressing", "restarting meshed workloads")]

# (what the row says, object, wanted status, a fragment the message must hold)
CASES = [
    ("a new object the operator has not seen is progressing", mu(), "Progressing", "generation 1"),
    ("the CRD's observedGeneration -1 default counts as not seen", mu(status={"observedGeneration": -1}),
     "Progressing", "generation 1"),
    ("conditions of an older generation do not count", mu(generation=2, status=st("Succeeded", [READY_TRUE])),
     "Progressing", "generation 2"),
    ("status without conditions is progressing", mu(status=st()), "Progressing", "Ready"),
    ("a running upgrade is progressing with its reason and progress",
     mu(status=st("RollingSidecars", IN_PROGRESS, progress="37/50")), "Progressing", "37/50"),
    ("Ready=Unknown alone is progressing", mu(status=st("Prechecking", IN_PROGRESS[:1])), "Progressing",
     "Progressing"),
    ("a second upgrade of the mesh waits as progressing",
     mu(status=st("Pending", [cond("Ready", "False", "WaitingForUpgrade", "osm-system/other is in flight"),
                              cond("Reconciling", "True", "WaitingForUpgrade", "osm-system/other is in flight")])),
     "Progressing", "WaitingForUpgrade"),
    ("Ready=True is healthy", mu(status=st("Succeeded", [READY_TRUE])), "Healthy", "Succeeded"),
    ("a finished upgrade stays healthy when suspended afterwards",
     mu(suspend=True, status=st("Succeeded", [READY_TRUE])), "Healthy", "Succeeded"),
    ("Stalled=True is degraded with its reason",
     mu(status=st("Failed", [cond("Ready", "False", "UnsupportedUpgradePath", "v0.9.2 to v0.10.0 may break"),
                             cond("Stalled", "True", "UnsupportedUpgradePath", "v0.9.2 to v0.10.0 may break")])),
     "Degraded", "UnsupportedUpgradePath"),
    ("a precheck failure is degraded", mu(status=st("Pending", [
        cond("Ready", "False", "InsufficientCPU", "osm-controller is Pending: Insufficient cpu"),
        cond("Stalled", "True", "InsufficientCPU", "osm-controller is Pending: Insufficient cpu")])),
     "Degraded", "Insufficient cpu"),
    ("a rollback is degraded even before Stalled is written",
     mu(status=st("RolledBack", [cond("Ready", "False", "RolledBack", "sidecar rollout failed")],
                  message="restored v1.3.8 after SidecarRolloutFailed")), "Degraded", "SidecarRolloutFailed"),
    ("Failed is degraded", mu(status=st("Failed", [cond("Ready", "False", "ControlPlaneRolloutFailed", "x")])),
     "Degraded", "Failed"),
    ("Ready=False with nothing in progress is degraded",
     mu(status=st("Verifying", [cond("Ready", "False", "SidecarRolloutFailed", "web: not ready")])),
     "Degraded", "SidecarRolloutFailed"),
    ("spec.suspend is suspended", mu(suspend=True, status=st("Suspended", [
        cond("Ready", "Unknown", "Suspended", "suspended after UpgradingControlPlane"),
        cond("Reconciling", "True", "Suspended", "suspended after UpgradingControlPlane")])),
     "Suspended", "Suspended"),
    ("the reconciler's suspended summary (Reconciling=False, reason Suspended) is suspended",
     mu(suspend=True, status=st("Suspended", [cond("Ready", "Unknown", "Suspended", "suspended in RollingSidecars"),
                                              cond("Reconciling", "False", "Suspended", "suspended in RollingSidecars")])),
     "Suspended", "RollingSidecars"),
    ("a Suspended reason is suspended even before the spec says so", mu(status=st("RollingSidecars", [
        cond("Ready", "Unknown", "Suspended", "waiting"), cond("Reconciling", "True", "Suspended", "waiting")])),
     "Suspended", "waiting"),
    ("suspending before the operator looked is suspended", mu(generation=3, suspend=True, status=st()),
     "Suspended", "Suspended"),
    ("messages with quotes and non-ASCII survive", mu(status=st("Succeeded", [
        cond("Ready", "True", "Succeeded", 'mesh "osm" → v1.3.9')])), "Healthy", '"osm" → v1.3.9'),
]


class ArgoCdHealthTest(unittest.TestCase):
    def test_health_table(self):
        for name, obj, want_status, want_fragment in CASES:
            with self.subTest(name):
                status, message = run_health(obj)
                self.assertEqual(status, want_status, f"{name}: message {message!r}")
                self.assertIn(want_fragment, message, name)

    def test_every_argo_cd_health_status_is_reachable(self):
        self.assertEqual({want for _, _, want, _ in CASES}, {"Healthy", "Progressing", "Degraded", "Suspended"})

    def test_harness_reports_a_broken_script(self):
        # The table above is only worth something if a failing script makes the harness fail.
        with self.assertRaises(AssertionError):
            run_health({"spec": "not a table", "status": {"observedGeneration": "x"}, "metadata": {}})

    def test_lua_stays_within_lua_5_1_for_gopher_lua(self):
        # Argo CD runs gopher-lua (Lua 5.1): no floor division, bitwise operators, goto or attributes.
        code = re.sub(r"--[^\n]*", "", HEALTH_LUA.read_text())
        code = re.sub(r'"(\\.|[^"\\])*"', '""', code)
        for token in ("//", "goto", "<const>", "<close>", "<<", ">>", "&", "|"):
            self.assertNotIn(token, code)
        self.assertIsNone(re.search(r"[^=~<>]~[^=]", code), "binary ~ operator")

    def test_configmap_patch_embeds_health_lua_verbatim(self):
        kubectl = shutil.which("kubectl")
        self.assertIsNotNone(kubectl, "kubectl is not on PATH")
        env = dict(os.environ, KUBECONFIG=os.devnull)
        out = subprocess.run([kubectl, "label", "--local", "-f", str(CM_PATCH), "meshupgrade.test/none-",
                              "-o", "json"], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(out.returncode, 0, out.stderr)
        cm = json.loads(out.stdout)
        self.assertEqual((cm["kind"], cm["metadata"]["name"]), ("ConfigMap", "argocd-cm"))
        self.assertEqual(cm["data"][CM_KEY], HEALTH_LUA.read_text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
