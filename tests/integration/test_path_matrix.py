"""The path matrix (issue 12, item 4): every release upgrades to the latest patch of its minor and to every release of
the next minor, end to end; refused paths are refused with their reason; meshes at v1.3.4 and v1.2.1 with meshed
workloads upgrade to v1.3.9. The paths come from releases.json, so a catalog change changes the matrix.

One kubesim holds a mesh per case, each in its own namespace with its own control plane, MeshConfig and Helm release
(`--mesh VERSION@NAMESPACE`; the mesh is named after its namespace), all seeded at once; one operator upgrades them a
few at a time (`--max-concurrent-reconciles`), the test creating the next MeshUpgrade as one ends and deleting each
once it has ended (its final status kept). Seeding a mesh costs milliseconds, starting a simulator and an operator
seconds: a hundred cases in one cluster take the upgrades' time only (about 75 s for all of them on two idle-ish cores).

The meshes share the cluster-scoped CRDs, as meshes of one cluster do. A real cluster runs one osm-edge version's CRDs
at a time; here every bootstrap that starts applies its release's definitions over the others' (the last one wins,
nothing is deleted). The verdicts still hold: the operator judges the CRD step by each of the target's CRDs being
Established, which no other mesh's apply undoes (releases only add CRDs, and every release keeps the versions the
others store); and each mesh's own evidence that its target CRDs were applied is its new osm-bootstrap pod's log
("osm-edge CRDs brought to V"), which the test reads per mesh."""
import base64
import gzip
import json
import os
import sys
import threading
import time
import unittest

import optest

sys.path.insert(0, os.path.join(optest.ROOT, "tests", "kubesim"))
from sim.mesh import catalog, chart  # noqa: E402  (chart: our stand-in for `helm template` of a release)

with open(os.path.join(optest.ROOT, "controllers", "mesh_upgrade", "releases.json")) as _f:
    RELEASES = json.load(_f)["releases"]
BY_VERSION = {r["version"]: r for r in RELEASES}
TARGET_SIDECAR = "flomesh/pipy:0.90.3-38"  # v1.3.9's default Pipy image (checked against the catalog below)
WINDOW = 4  # MeshUpgrades in flight at once
WORKERS = 2  # the operator's --max-concurrent-reconciles: one per core
READY_DELAY = "0.1"
NODE_CPU = "1000"  # a hundred control planes of 1.1 cores each on the one node
DEADLINE = 420  # seconds for every upgrade of the file to end (they take about 75; ctest stops the file at 600)
TERMINAL = ("Succeeded", "Failed", "RolledBack")

# An operator bug that fails a path: {(from, to): "the bug"}; the case is then marked expectedFailure. (The matrix
# found one, fixed in 2a5b649: a mesh from chart 1.1.1 was read as v1.1.3, whose CLI-embedded chart says v1.1.1.)
KNOWN_BUGS = {}


# ---------------------------------------------------------------------------------------------------- the matrix
def semver(v):
    return tuple(int(x) for x in v.lstrip("v").split("-", 1)[0].split("."))


def upgrade_paths(releases):
    """[(from, to)]: each release to the latest patch of its minor and to every release of the next minor, within its
    variant (a -ubi8 mesh stays -ubi8)."""
    lines = {}
    for r in releases:
        lines.setdefault((r["variant"], semver(r["version"])[:2]), []).append(r["version"])
    out = []
    for r in releases:
        v = r["version"]
        major, minor = semver(v)[:2]
        same = sorted(lines[(r["variant"], (major, minor))], key=semver)
        if v != same[-1]:
            out.append((v, same[-1]))
        out += [(v, t) for t in sorted(lines.get((r["variant"], (major, minor + 1)), []), key=semver)]
    return out


def flags(version):
    return {d["deployment"] + "/" + c["name"]: sorted(catalog.flag_names(c["args"]))
            for d in BY_VERSION[version]["controlPlane"] for c in d["containers"]}


def needs_manifests(a, b):
    """The catalog's verdict: Images cannot carry a control plane whose containers take other flags."""
    return flags(a) != flags(b)


PATHS = upgrade_paths(RELEASES)
# What the brief expects, written out: the generated matrix must hold every one of these.
EXPECTED = ({(f"v1.1.{i}", "v1.1.3") for i in range(3)}
            | {(f"v1.1.{i}", f"v1.2.{j}") for i in range(4) for j in range(4)}
            | {(f"v1.2.{i}", "v1.2.3") for i in range(3)}
            | {(f"v1.2.{i}", f"v1.3.{j}") for i in range(4) for j in range(10)}
            | {(f"v1.3.{i}", "v1.3.9") for i in range(9)}
            | {("v1.2.1-ubi8", "v1.2.3-ubi8"), ("v1.2.2-ubi8", "v1.2.3-ubi8")})

# Refused: 1.1 → 1.2 with the default Images source; a variant change; downgrades.
REFUSED = ([(a, b, "ManifestsRequired", "--trust-domain") for a, b in PATHS if needs_manifests(a, b)]
           + [("v1.2.1-ubi8", "v1.2.3", "UnsupportedUpgradePath", "ubi8"),
              ("v1.2.2-ubi8", "v1.3.9", "UnsupportedUpgradePath", "ubi8"),
              ("v1.2.1", "v1.2.3-ubi8", "UnsupportedUpgradePath", "variant"),
              ("v1.3.9", "v1.3.8", "UnsupportedUpgradePath", "policy.allowDowngrade"),
              ("v1.3.0", "v1.2.3", "UnsupportedUpgradePath", "policy.allowDowngrade"),
              ("v1.2.0", "v1.1.3", "UnsupportedUpgradePath", "policy.allowDowngrade")])

E2E = {"v1.3.4": "e2e-1-3-4", "v1.2.1": "e2e-1-2-1"}  # seeded version → mesh (and namespace)
E2E_TARGET = "v1.3.9"
E2E_WORKLOADS, E2E_APP_NAMESPACES = 6, 2


def slug(v):
    return v.lstrip("v").replace(".", "-")


def path_ns(a, b):
    return f"p-{slug(a)}-to-{slug(b)}"


def refused_ns(a, b):
    return f"r-{slug(a)}-to-{slug(b)}"


# ---------------------------------------------------------------------------------------------------- helpers
def helm_release(secret):
    """A Helm release Secret's record: base64 (the API), base64 (Helm), gunzip, JSON."""
    return json.loads(gzip.decompress(base64.b64decode(base64.b64decode(secret["data"]["release"]))))


def flatten(d, prefix="spec"):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(flatten(v, f"{prefix}.{k}"))
        else:
            out[f"{prefix}.{k}"] = v
    return out


def crds_release(version):
    """The release whose CRDs the target's osm-bootstrap applies: its init container's image in 1.1 (v1.1.3 runs
    osm-edge-crds:1.1.1), itself from 1.2 on."""
    if BY_VERSION[version]["crdsBy"] == "InitContainer":
        return catalog.version_of_image(catalog.image(version, "crds"))
    return version


class World:
    """The one kubesim, its meshes, the operator, and what the upgrades ended in."""
    env = None
    status = {}        # namespace -> MeshUpgrade status, as the watch last saw it
    final = {}         # namespace -> MeshUpgrade status when it ended (the MeshUpgrade is deleted then)
    before = {}        # namespace -> resourceVersions of the refused meshes' objects before the upgrade
    seconds = 0.0

    @classmethod
    def request(cls, path):
        code, body, _ = cls.env.sim.request("GET", path)
        if code != 200:
            raise AssertionError(f"GET {path}: {code} {body}")
        return body

    @classmethod
    def items(cls, path):
        return cls.request(path)["items"]

    @classmethod
    def mesh_objects(cls, ns):
        """resourceVersion of every object of the mesh a refused upgrade must leave alone."""
        out = {}
        for path in (f"/apis/apps/v1/namespaces/{ns}/deployments", f"/apis/apps/v1/namespaces/{ns}/replicasets",
                     f"/api/v1/namespaces/{ns}/pods", f"/api/v1/namespaces/{ns}/secrets",
                     f"/apis/config.openservicemesh.io/v1alpha2/namespaces/{ns}/meshconfigs"):
            for o in cls.items(path):
                out[f"{path.rsplit('/', 1)[1]}/{o['metadata']['name']}"] = o["metadata"]["resourceVersion"]
        return out

    @classmethod
    def operator_lines(cls, ns, n=25):
        lines = []
        for op in cls.env.operators:
            for line in op.logs().splitlines():
                try:
                    if json.loads(line).get("namespace") == ns:
                        lines.append(line)
                except ValueError:
                    continue
        return "\n".join(lines[-n:])


def e2e_workloads(mesh):
    """Namespaces monitored by the mesh and Deployments in them, created through kubectl: the mesh's injector adds the
    sidecar as pods are created."""
    items = []
    nss = [f"{mesh}-apps-{i + 1}" for i in range(E2E_APP_NAMESPACES)]
    for ns in nss:
        items.append({"apiVersion": "v1", "kind": "Namespace",
                      "metadata": {"name": ns, "labels": {"openservicemesh.io/monitored-by": mesh}}})
    for i in range(E2E_WORKLOADS):
        name = f"app-{i + 1}"
        items.append({"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": name, "namespace": nss[i % len(nss)], "labels": {"app": name}},
                      "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                               "template": {"metadata": {"labels": {"app": name}}, "spec": {
                                   "containers": [{"name": "app", "image": "kubesim/demo-app:1.0"}]}}}})
    return nss, items


def upgrade(ns, target, **spec):
    return json.loads(optest.meshupgrade("upgrade", target, ns, meshName=ns, **spec))


def setUpModule():
    # Seeded oldest first: the CRDs left in place are the newest release's, as on a cluster kept current.
    seeded = sorted([(a, path_ns(a, b)) for a, b in PATHS] + [(a, refused_ns(a, b)) for a, b, _, _ in REFUSED]
                    + list(E2E.items()), key=lambda m: semver(m[0]))
    env = World.env = optest.Env(sum((["--mesh", f"{v}@{ns}"] for v, ns in seeded), [])
                                 + ["--ready-delay", READY_DELAY, "--node-cpu", NODE_CPU],
                                 operator_args=["--max-concurrent-reconciles", str(WORKERS),
                                                "--kube-api-qps", "1000", "--kube-api-burst", "2000"])
    try:
        # The end-to-end meshes' workloads and the Manifests paths' rendered charts, in one kubectl apply.
        objects, app_nss = [], []
        for mesh in E2E.values():
            nss, items = e2e_workloads(mesh)
            app_nss += nss
            objects += items
        for a, b in PATHS:
            if needs_manifests(a, b):
                ns = path_ns(a, b)
                docs = "\n---\n".join(json.dumps(d) for d in chart.control_plane(b, ns, ns, single_mesh=False))
                objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": f"osm-edge-{b}-rendered", "namespace": ns},
                                "data": {"manifests.yaml": docs}})
        env.apply(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
        for ns in app_nss:
            env.kubectl("wait", "--for=condition=Available", "deployment", "--all", "-n", ns, "--timeout=120s",
                        check=True)
        for a, b, _, _ in REFUSED:
            World.before[refused_ns(a, b)] = World.mesh_objects(ns=refused_ns(a, b))

        # The end-to-end upgrades first (they take longest), the refusals (quick), then the matrix.
        mus = [upgrade(m, E2E_TARGET) for m in E2E.values()]
        mus += [upgrade(refused_ns(a, b), b) for a, b, _, _ in REFUSED]
        for a, b in PATHS:
            spec = {"precheck": {"imagePull": False}}  # every catalog image pulls; the end-to-end cases check pulls
            if needs_manifests(a, b):
                spec["controlPlane"] = {"source": "Manifests", "manifestsRef": {"name": f"osm-edge-{b}-rendered"}}
            mus.append(upgrade(path_ns(a, b), b, **spec))
        started, cpu = time.monotonic(), (cpu_seconds(env.sim.proc.pid), cpu_seconds(env.operators[0].proc.pid))
        run_window(mus)
        World.seconds = time.monotonic() - started
        print(f"\n{len(mus)} MeshUpgrades ended after {World.seconds:.1f}s (CPU: kubesim "
              f"{cpu_seconds(env.sim.proc.pid) - cpu[0]:.1f}s, operator "
              f"{cpu_seconds(env.operators[0].proc.pid) - cpu[1]:.1f}s)", file=sys.stderr)
    except BaseException:
        env.close()
        raise


def finished(status):
    stalled = any(c["type"] == "Stalled" and c["status"] == "True" for c in status.get("conditions", []))
    return status.get("phase") in TERMINAL or stalled


class Tracker(threading.Thread):
    """Every MeshUpgrade's status, from a watch: polling a hundred statuses would cost more than the upgrades."""

    def __init__(self, sim):
        super().__init__(daemon=True)
        self.sim, self.changed, self.stopped = sim, threading.Condition(), False

    def run(self):
        path = "/apis/upgrade.flomesh.io/v1alpha1/meshupgrades"
        while not self.stopped:
            listed = World.request(path)
            with self.changed:
                World.status.update({mu["metadata"]["namespace"]: mu.get("status", {}) for mu in listed["items"]})
                self.changed.notify_all()
            conn, resp = self.sim.stream(f"{path}?watch=1&resourceVersion={listed['metadata']['resourceVersion']}",
                                         timeout=30)
            try:
                for line in resp:
                    event = json.loads(line)
                    if event.get("type") == "DELETED":
                        continue
                    if event.get("type") not in ("ADDED", "MODIFIED"):
                        break  # an ERROR (410): list again
                    with self.changed:
                        World.status[event["object"]["metadata"]["namespace"]] = event["object"].get("status", {})
                        self.changed.notify_all()
            except (OSError, ValueError):
                pass  # a quiet minute or a closed watch: list again
            finally:
                conn.close()


def run_window(mus):
    """Creates the MeshUpgrades WINDOW at a time, the next as soon as one ends, until all have ended or DEADLINE;
    keeps each one's final status and deletes it, as a user does once an upgrade is done. The operator requeues every
    MeshUpgrade in flight on any change in the cluster, and looks at every MeshUpgrade there is on each change, so a
    hundred at once, or a hundred finished ones, would cost it more than the upgrades; a few at a time keep both cores
    busy on real work."""
    tracker = Tracker(World.env.sim)
    tracker.start()
    pending, created = list(mus), set()
    deadline = time.monotonic() + DEADLINE
    try:
        with tracker.changed:
            while time.monotonic() < deadline:
                for ns in created - set(World.final):
                    if finished(World.status.get(ns, {})):
                        World.final[ns] = World.status[ns]
                        World.env.sim.request(
                            "DELETE", f"/apis/upgrade.flomesh.io/v1alpha1/namespaces/{ns}/meshupgrades/upgrade")
                active = len(created) - len(World.final)
                while pending and active < WINDOW:
                    mu = pending.pop(0)
                    ns = mu["metadata"]["namespace"]
                    code, body, _ = World.env.sim.request(
                        "POST", f"/apis/upgrade.flomesh.io/v1alpha1/namespaces/{ns}/meshupgrades", body=mu)
                    if code != 201:
                        raise AssertionError(f"create mu/upgrade -n {ns}: {code} {body}")
                    created.add(ns)
                    active += 1
                if not pending and active == 0:
                    return
                tracker.changed.wait(1)
    finally:
        tracker.stopped = True


def cpu_seconds(pid):
    """user + system CPU of a process, from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tearDownModule():
    if World.env:
        World.env.close()


def describe(ns):
    return (f"mu/upgrade -n {ns} status:\n{json.dumps(World.final.get(ns, World.status.get(ns)), indent=1)}\n"
            f"operator log ({ns}):\n{World.operator_lines(ns)}")


# ---------------------------------------------------------------------------------------------------- the tests
class Matrix(unittest.TestCase):
    def test_the_matrix_holds_every_expected_path(self):
        self.assertEqual(set(), EXPECTED - set(PATHS), "paths the catalog should give")
        self.assertEqual(len(PATHS), len(set(PATHS)))
        self.assertGreaterEqual(len(PATHS), 73)
        # The catalog decides Images or Manifests: only 1.1 → 1.2 changes the control plane's flags.
        self.assertEqual({(a, b) for a, b in PATHS if needs_manifests(a, b)},
                         {(a, b) for a, b in PATHS if a.startswith("v1.1.") and b.startswith("v1.2.")})

    def check_path(self, a, b):
        ns = path_ns(a, b)
        st = World.final.get(ns)
        self.assertIsNotNone(st, f"the upgrade {a} → {b} did not end within {DEADLINE}s: {describe(ns)}")
        conds = {c["type"]: c for c in st.get("conditions", [])}
        self.assertEqual("True", conds.get("Ready", {}).get("status"), describe(ns))
        self.assertEqual("Succeeded", st["phase"])
        self.assertEqual((a, b), (st["fromVersion"], st["toVersion"]))
        self.assertEqual("Patch" if semver(a)[:2] == semver(b)[:2] else "Minor", st["upgradePath"])

        # The control plane: every container on the target's image, --osm-version the target chart's appVersion,
        # and with Manifests the target's whole args; each rollout complete.
        want = {d["metadata"]["name"]: d for d in chart.control_plane(b, ns, ns, single_mesh=False)}
        app_version = BY_VERSION[b]["chart"]["appVersion"]
        for d in World.items(f"/apis/apps/v1/namespaces/{ns}/deployments"):
            name = d["metadata"]["name"]
            spec, target = d["spec"]["template"]["spec"], want[name]["spec"]["template"]["spec"]
            for kind in ("initContainers", "containers"):
                got = {c["name"]: c for c in spec.get(kind, [])}
                for c in target.get(kind, []):
                    self.assertEqual(c["image"], got[c["name"]]["image"], f"{ns}/{name} {c['name']}")
                    args = got[c["name"]].get("args", [])
                    if "--osm-version" in args:
                        self.assertEqual(app_version, args[args.index("--osm-version") + 1], f"{ns}/{name}")
                    if needs_manifests(a, b):
                        self.assertEqual(c.get("args"), got[c["name"]].get("args"), f"{ns}/{name} {c['name']}")
            s = d.get("status", {})
            self.assertEqual((1, 1, 1), (s.get("updatedReplicas"), s.get("availableReplicas"), s.get("replicas")),
                             f"{ns}/{name} rollout: {s}")
        mc = World.request(f"/apis/config.openservicemesh.io/v1alpha2/namespaces/{ns}/meshconfigs/osm-mesh-config")
        self.assertEqual(BY_VERSION[b]["sidecarImage"], mc["spec"]["sidecar"]["sidecarImage"])

        # The target's CRDs established, and applied by this mesh's own new osm-bootstrap.
        crds = {c["metadata"]["name"]: c
                for c in World.items("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")}
        for c in BY_VERSION[b]["crds"]:
            self.assertIn(c["name"], crds)
            self.assertIn({"type": "Established", "status": "True"},
                          [{"type": x["type"], "status": x["status"]} for x in crds[c["name"]]["status"]["conditions"]])
        boot = World.items(f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3Dosm-bootstrap")
        self.assertEqual(1, len(boot), [p["metadata"]["name"] for p in boot])
        code, log, _ = World.env.sim.request(
            "GET", f"/api/v1/namespaces/{ns}/pods/{boot[0]['metadata']['name']}/log?container=osm-bootstrap")
        self.assertIn(f"osm-edge CRDs brought to {crds_release(b)}", str(log), f"{ns}: {code} {log}")

        # Helm's record: the newest revision deployed with the target chart, the one before superseded.
        secrets = sorted(World.items(f"/api/v1/namespaces/{ns}/secrets?labelSelector=owner%3Dhelm%2Cname%3D{ns}"),
                         key=lambda s: int(s["metadata"]["labels"]["version"]))
        self.assertEqual(["1", "2"], [s["metadata"]["labels"]["version"] for s in secrets])
        newest, previous = helm_release(secrets[-1]), helm_release(secrets[-2])
        self.assertEqual((BY_VERSION[b]["chart"]["version"], app_version, "deployed", 2),
                         (newest["chart"]["metadata"]["version"], newest["chart"]["metadata"]["appVersion"],
                          newest["info"]["status"], newest["version"]))
        self.assertEqual("deployed", secrets[-1]["metadata"]["labels"]["status"])
        self.assertEqual(("superseded", "superseded"),
                         (previous["info"]["status"], secrets[-2]["metadata"]["labels"]["status"]))
        self.assertEqual({"name": ns, "revision": 2, "chartVersion": BY_VERSION[b]["chart"]["version"],
                          "appVersion": app_version}, st.get("helmRelease"))


def _path_test(a, b):
    def test(self):
        self.check_path(a, b)
    test.__doc__ = f"{a} → {b} ({'Manifests' if needs_manifests(a, b) else 'Images'})"
    if (a, b) in KNOWN_BUGS:
        test = unittest.expectedFailure(test)
    return test


for _a, _b in PATHS:
    setattr(Matrix, f"test_path_{slug(_a).replace('-', '_')}_to_{slug(_b).replace('-', '_')}", _path_test(_a, _b))


class Refused(unittest.TestCase):
    def test_refused_paths_stall_with_their_reason_and_change_nothing(self):
        for a, b, reason, named in REFUSED:
            ns = refused_ns(a, b)
            with self.subTest(path=f"{a} → {b}"):
                st = World.final.get(ns) or {}
                conds = {c["type"]: c for c in st.get("conditions", [])}
                stalled = conds.get("Stalled", {})
                self.assertEqual(("True", reason), (stalled.get("status"), stalled.get("reason")), describe(ns))
                self.assertIn(named, stalled["message"])
                self.assertEqual("False", conds["Ready"]["status"])
                self.assertEqual("Failed", st["phase"])
                if reason == "ManifestsRequired":
                    self.assertIn("spec.controlPlane.source: Manifests", stalled["message"])
                self.assertEqual(World.before[ns], World.mesh_objects(ns), f"{ns}: nothing in the mesh changed")


class EndToEnd(unittest.TestCase):
    """Meshes seeded at v1.3.4 and v1.2.1 with meshed workloads, to v1.3.9 with Images and the image-pull check."""

    def check(self, seeded):
        mesh = E2E[seeded]
        st = World.final.get(mesh) or {}
        conds = {c["type"]: c for c in st.get("conditions", [])}
        self.assertEqual("True", conds.get("Ready", {}).get("status"), describe(mesh))
        self.assertEqual((seeded, E2E_TARGET, "Succeeded"), (st["fromVersion"], st["toVersion"], st["phase"]))
        self.assertEqual({"total": E2E_WORKLOADS, "restarted": E2E_WORKLOADS},
                         {k: st["workloads"].get(k) for k in ("total", "restarted")})
        self.assertEqual(TARGET_SIDECAR, BY_VERSION[E2E_TARGET]["sidecarImage"])

        # Every meshed pod on the target sidecar (and the target injector's init image), Ready; each workload
        # restarted exactly once: revision 2, two ReplicaSets, the restart annotation.
        init_image = catalog.image(E2E_TARGET, "sidecarInit")
        pods = deployments = 0
        for i in range(E2E_APP_NAMESPACES):
            ns = f"{mesh}-apps-{i + 1}"
            for p in World.items(f"/api/v1/namespaces/{ns}/pods"):
                pods += 1
                cs = {c["name"]: c["image"] for c in p["spec"]["containers"]}
                self.assertEqual(TARGET_SIDECAR, cs.get("sidecar"), p["metadata"]["name"])
                self.assertEqual([init_image], [c["image"] for c in p["spec"]["initContainers"]])
                self.assertIn({"type": "Ready", "status": "True"},
                              [{"type": c["type"], "status": c["status"]} for c in p["status"]["conditions"]])
            rss = World.items(f"/apis/apps/v1/namespaces/{ns}/replicasets")
            for d in World.items(f"/apis/apps/v1/namespaces/{ns}/deployments"):
                deployments += 1
                name = d["metadata"]["name"]
                self.assertEqual("2", d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], name)
                self.assertIn("kubectl.kubernetes.io/restartedAt", d["spec"]["template"]["metadata"]["annotations"])
                self.assertEqual(2, sum(1 for rs in rss if rs["metadata"]["name"].startswith(name + "-")), name)
        self.assertEqual((E2E_WORKLOADS, E2E_WORKLOADS), (pods, deployments))

        # The plan lists the MeshConfig defaults the two releases differ in (release default, not applied).
        old = flatten(BY_VERSION[seeded]["meshConfigDefaults"])
        new = flatten(BY_VERSION[E2E_TARGET]["meshConfigDefaults"])
        want = {k: (old.get(k, ""), new.get(k, "")) for k in set(old) | set(new) if old.get(k) != new.get(k)}
        self.assertTrue(want, "the catalog's defaults differ between these releases")
        got = {e["field"]: (e["from"], e["to"]) for e in st["plan"] if "release default" in e["object"]}
        self.assertEqual(sorted(want), sorted(got))
        for field, (f, t) in want.items():
            self.assertEqual((f, t), tuple(json.loads(x) if x != "" else "" for x in got[field]), field)

        # Helm's record: revision 2 decodes to chart 1.3.9 deployed, revision 1 superseded.
        secrets = {s["metadata"]["labels"]["version"]: s for s in World.items(
            f"/api/v1/namespaces/{mesh}/secrets?labelSelector=owner%3Dhelm%2Cname%3D{mesh}")}
        self.assertEqual({"1", "2"}, set(secrets))
        newest, previous = helm_release(secrets["2"]), helm_release(secrets["1"])
        self.assertEqual((BY_VERSION[E2E_TARGET]["chart"]["version"], "deployed", 2),
                         (newest["chart"]["metadata"]["version"], newest["info"]["status"], newest["version"]))
        self.assertEqual(("superseded", "superseded", BY_VERSION[seeded]["chart"]["version"]),
                         (previous["info"]["status"], secrets["1"]["metadata"]["labels"]["status"],
                          previous["chart"]["metadata"]["version"]))

    def test_v1_3_4_to_v1_3_9_with_workloads(self):
        self.check("v1.3.4")

    def test_v1_2_1_to_v1_3_9_with_workloads(self):
        self.check("v1.2.1")


if __name__ == "__main__":
    unittest.main()
