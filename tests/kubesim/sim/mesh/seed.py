"""Seeds installed osm-edge meshes (control plane, MeshConfig, CRDs, Helm release), one or several, each in its
own namespace, and meshed workloads."""
import base64
import gzip
import json
import re
import threading

from . import catalog, chart, injector
from .crds import apply_crds  # noqa: F401 (part of this module's interface)
from ..controllers import steady, util

GVR_SECRET = ("", "v1", "secrets")
GVR_SA = ("", "v1", "serviceaccounts")
GVR_SVC = ("", "v1", "services")
APP_IMAGE = "kubesim/demo-app:1.0"  # the meshed workloads' app container


def _ensure_namespace(store, name, labels=None):
    obj = store.get(util.GVR_NS, None, name)
    if obj is None:
        store.create(util.GVR_NS, {"apiVersion": "v1", "kind": "Namespace",
                                   "metadata": {"name": name, "labels": dict(labels or {})}})
    elif labels and any((obj["metadata"].get("labels") or {}).get(k) != v for k, v in labels.items()):
        obj["metadata"].setdefault("labels", {}).update(labels)
        store.update(util.GVR_NS, obj)


_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./:-]*$")
_NOT_PLAIN = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}
_SOURCES = {"osm-bootstrap": "osm-bootstrap-deployment.yaml", "osm-controller": "osm-deployment.yaml",
            "osm-injector": "osm-injector-deployment.yaml"}


def _yaml(v, indent=0) -> str:
    """Block YAML as Helm's manifest holds it (strings quoted only when they must be)."""
    pad = " " * indent
    if isinstance(v, dict) and v:
        return "\n".join(f"{pad}{k}:" + (f"\n{_yaml(x, indent + 2)}" if isinstance(x, (dict, list)) and x else
                                        f" {_yaml(x)}") for k, x in v.items())
    if isinstance(v, list) and v:
        return "\n".join(f"{pad}- " + _yaml(x, indent + 2).lstrip() for x in v)
    if isinstance(v, (dict, list)):
        return pad + json.dumps(v)
    if isinstance(v, str) and _PLAIN.match(v) and v.lower() not in _NOT_PLAIN and not v.endswith(":"):
        return pad + v
    return pad + json.dumps(v)


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def parse_mesh(spec: str) -> tuple:
    """--mesh VERSION[@NAMESPACE] -> (version, namespace, mesh name). The mesh in osm-system is `osm`, as
    `osm install` names it; a mesh in another namespace is named after it (`osm install --mesh-name NS
    --osm-namespace NS`): meshes of one cluster need distinct names, their webhook configurations
    (osm-webhook-<mesh>) being cluster-scoped. Raises ValueError for an unknown version or a bad namespace."""
    version, _, namespace = str(spec).partition("@")
    version = catalog.normalize(version)
    if version not in catalog.RELEASES:
        raise ValueError(f"unknown osm-edge version {version!r}; known: {', '.join(catalog.VERSIONS)}")
    namespace = namespace or catalog.MESH_NAMESPACE
    if len(namespace) > 63 or not _DNS_LABEL.match(namespace):
        raise ValueError(f"--mesh {spec}: {namespace!r} is not a namespace name (a DNS-1123 label)")
    return version, namespace, catalog.MESH_NAME if namespace == catalog.MESH_NAMESPACE else namespace


def parse_meshes(meshes) -> list:
    """--mesh values (one string or a list) -> [(version, namespace, mesh name)]; ValueError as parse_mesh, or
    for two meshes in one namespace."""
    specs = [meshes] if isinstance(meshes, str) else list(meshes or [])
    out, seen = [], set()
    for spec in (m for m in specs if m):
        parsed = parse_mesh(spec)
        if parsed[1] in seen:
            raise ValueError(f"--mesh {spec}: a mesh already runs in namespace {parsed[1]}")
        seen.add(parsed[1])
        out.append(parsed)
    return out


def manifest(version: str, mesh: str = catalog.MESH_NAME, namespace: str = catalog.MESH_NAMESPACE,
             single_mesh: bool = True) -> str:
    """The release's manifest: the control-plane Deployments as rendered and seeded, one document each."""
    return "".join(f"---\n# Source: osm-edge/templates/{_SOURCES[d['metadata']['name']]}\n{_yaml(d)}\n"
                   for d in chart.control_plane(version, mesh, namespace, single_mesh))


def helm_release_json(version: str, revision: int = 1, mesh: str = catalog.MESH_NAME,
                      namespace: str = catalog.MESH_NAMESPACE, single_mesh: bool = True) -> dict:
    """The release record Helm keeps, as a Helm install of the release's published chart writes it (release
    name = mesh name, as `osm install` does; `--set osm.enforceSingleMesh=false` beside other meshes)."""
    c = catalog.release(version)["chart"]
    ts = util.now()
    config = {"osm": {"meshName": mesh}}
    if not single_mesh:
        config["osm"]["enforceSingleMesh"] = False
    return {"name": mesh, "namespace": namespace, "version": revision,
            "info": {"first_deployed": ts, "last_deployed": ts, "deleted": "", "description": "Install complete",
                     "status": "deployed"},
            "chart": {"metadata": {"name": c["name"], "version": c["version"], "appVersion": c["appVersion"],
                                   "kubeVersion": c["kubeVersion"], "apiVersion": "v2", "type": "application",
                                   "description": "A Helm chart to install the osm-edge control plane on Kubernetes"},
                      "values": {}, "templates": [], "files": []},
            "config": config, "manifest": manifest(version, mesh, namespace, single_mesh), "hooks": []}


def helm_secret(version: str, revision: int = 1, mesh: str = catalog.MESH_NAME,
                namespace: str = catalog.MESH_NAMESPACE, single_mesh: bool = True) -> dict:
    raw = gzip.compress(json.dumps(helm_release_json(version, revision, mesh, namespace, single_mesh)).encode())
    helm_bytes = base64.b64encode(raw)  # what Helm stores as the secret's bytes
    return {"apiVersion": "v1", "kind": "Secret", "type": "helm.sh/release.v1",
            "metadata": {"name": f"sh.helm.release.v1.{mesh}.v{revision}",
                         "namespace": namespace,
                         "labels": {"owner": "helm", "name": mesh, "status": "deployed",
                                    "version": str(revision)}},
            "data": {"release": base64.b64encode(helm_bytes).decode()}}


def seed_control_plane(store, version: str, mesh: str = catalog.MESH_NAME, namespace: str = catalog.MESH_NAMESPACE,
                       single_mesh: bool = True) -> None:
    """One mesh as `helm install` leaves it. CRDs are cluster-scoped: each mesh's install applies its release's
    definitions over those already there (the last mesh seeded wins where releases differ), never deletes."""
    catalog.release(version)
    _ensure_namespace(store, namespace)
    apply_crds(store, version)
    injector.register_mesh(store, mesh, namespace)
    store.create(GVR_SA, {"apiVersion": "v1", "kind": "ServiceAccount",
                          "metadata": {"name": mesh, "namespace": namespace,
                                       "labels": chart.labels(version, "osm", mesh)}})
    for name, ports in (("osm-bootstrap", [9443, 9091]), ("osm-controller", [15000, 9091, 6060]),
                        ("osm-injector", [9090])):
        store.create(GVR_SVC, {"apiVersion": "v1", "kind": "Service",
                               "metadata": {"name": name, "namespace": namespace,
                                            "labels": chart.labels(version, name, mesh)},
                               "spec": {"selector": {"app": name}, "type": "ClusterIP",
                                        "ports": [{"name": f"p{p}", "port": p, "targetPort": p,
                                                   "protocol": "TCP"} for p in ports]}})
    mc = chart.meshconfig(version, namespace)
    store.create(("config.openservicemesh.io", catalog.meshconfig_storage_version(version), "meshconfigs"), mc)
    for d in chart.control_plane(version, mesh, namespace, single_mesh):
        # Helm installed them: server-side apply by another manager conflicts on what Helm set, as in a cluster
        steady.create_deployment(store, d, field_manager="helm")
    store.create(GVR_SECRET, helm_secret(version, 1, mesh, namespace, single_mesh))


def seed_workloads(store, workloads: int, namespaces: int, replicas: int, mesh: str = catalog.MESH_NAME,
                   mesh_namespace: str = catalog.MESH_NAMESPACE) -> None:
    namespaces = max(1, namespaces)
    names = [f"mesh-ns-{i + 1:02d}" for i in range(namespaces)]
    for ns in names:
        _ensure_namespace(store, ns, {injector.MONITORED_BY: mesh})
    mc = injector.meshconfig(store, mesh_namespace)
    sidecar = injector.sidecar_image(mc) if mc else None
    init_image = injector.sidecar_init_image(store, None, mesh_namespace) if mc else None
    prepare = (lambda pod: injector.inject(pod, sidecar, init_image, mesh_namespace)) if mc else None
    for i in range(workloads):
        name = f"app-{i + 1:05d}"
        d = {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": name, "namespace": names[i % namespaces], "labels": {"app": name}},
             "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                      "template": {"metadata": {"labels": {"app": name}},
                                   "spec": {"containers": [{"name": "app", "image": APP_IMAGE,
                                                            "ports": [{"containerPort": 8080}]}]}}}}
        steady.create_deployment(store, d, prepare=prepare)


def seed(store, meshes, workloads: int = 0, namespaces: int = 1, replicas: int = 1) -> None:
    """meshes: one --mesh value or a list of them (VERSION[@NAMESPACE]); the workloads join the first mesh.
    Raises ValueError for a version the catalog does not know, a bad namespace or two meshes in one namespace
    (before touching the store).
    Runs the seeding on the store's dispatcher thread when there is one: thousands of creates from another
    thread would wake the dispatcher once per object and the two threads would trade the GIL for most of
    the time (4x slower); on the dispatcher, the events simply queue up and are handled afterwards."""
    parsed = parse_meshes(meshes)
    dispatcher = getattr(store, "_dispatcher", None)
    call_soon = getattr(store, "call_soon", None)
    if dispatcher is None or call_soon is None or threading.current_thread() is dispatcher \
            or not dispatcher.is_alive():
        _seed(store, parsed, workloads, namespaces, replicas)
        return
    done = threading.Event()
    failure = []

    def run():
        try:
            _seed(store, parsed, workloads, namespaces, replicas)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(e)
        finally:
            done.set()
    call_soon(run)
    done.wait()
    if failure:
        raise failure[0]


def _seed(store, meshes, workloads, namespaces, replicas) -> None:
    injector.install(store)
    for version, namespace, mesh in meshes:
        seed_control_plane(store, version, mesh, namespace, single_mesh=len(meshes) == 1)
    if workloads:
        _, namespace, mesh = meshes[0] if meshes else (None, catalog.MESH_NAMESPACE, catalog.MESH_NAME)
        seed_workloads(store, workloads, namespaces, replicas, mesh, namespace)
