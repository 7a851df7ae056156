"""The osm-edge sidecar injector's effect: a pod-CREATE mutator adding `osm-init` and `sidecar` containers."""
import uuid

from . import catalog

MONITORED_BY = "openservicemesh.io/monitored-by"
INJECTION_ANN = "openservicemesh.io/sidecar-injection"
GVR_POD = ("", "v1", "pods")
GVR_NS = ("", "v1", "namespaces")
GVR_MESHCONFIG = ("config.openservicemesh.io", "v1alpha2", "meshconfigs")
GVR_DEPLOY = ("apps", "v1", "deployments")

_installed = set()


def webhook_down(namespace: str = catalog.MESH_NAMESPACE) -> str:
    return ('Internal error occurred: failed calling webhook "osm-inject.k8s.io": failed to call webhook: '
            f'Post "https://osm-injector.{namespace}.svc:9090/mutate-pod-creation?timeout=20s": '
            'no endpoints available for service "osm-injector"')


WEBHOOK_DOWN = webhook_down()


def register_mesh(store, mesh: str, namespace: str) -> None:
    """Records a seeded mesh: its injector answers for namespaces labelled monitored-by=<mesh> (the webhook
    configuration osm-webhook-<mesh> selects them so)."""
    meshes = getattr(store, "osm_meshes", None)
    if meshes is None:
        meshes = store.osm_meshes = {}
    meshes[mesh] = namespace


def mesh_namespace(store, mesh: str) -> str:
    """The namespace of mesh `mesh`'s control plane; osm-system for a mesh nobody seeded (a single mesh
    installed by hand answers for any monitored namespace, as before several meshes were seeded)."""
    return (getattr(store, "osm_meshes", None) or {}).get(mesh, catalog.MESH_NAMESPACE)


def _get(store, gvr, ns, name):
    """Read-only lookups: the mutator runs on every pod creation, copies would dominate it.
    None also when the resource is not served (no osm-edge CRDs installed)."""
    f = getattr(store, "get_ref", None)
    try:
        return f(gvr, ns, name) if f else store.get(gvr, ns, name)
    except Exception:  # noqa: BLE001 - an unknown resource is "nothing there" for the injector
        return None


def _env(container, name):
    for e in container.get("env") or []:
        if e.get("name") == name:
            return e.get("value")
    return None


def _arg(container, flag):
    args = list(container.get("command") or []) + list(container.get("args") or [])
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return args[i + 1]
        if isinstance(a, str) and a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def _ready_injector_pod(store, namespace=catalog.MESH_NAMESPACE):
    """The newest Ready osm-injector pod of the mesh in `namespace` (the one answering the webhook), or None."""
    list_refs = getattr(store, "list_refs", None)
    try:
        pods = (list_refs(GVR_POD, namespace, "app=osm-injector")[0] if list_refs
                else store.list(GVR_POD, namespace, "app=osm-injector"))
    except Exception:  # noqa: BLE001
        pods = []
    ready = [p for p in pods if not p["metadata"].get("deletionTimestamp") and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in (p.get("status") or {}).get("conditions") or [])]
    return max(ready, key=lambda p: p["metadata"].get("creationTimestamp", "")) if ready else None


def sidecar_init_image(store, pod=None, namespace=catalog.MESH_NAMESPACE) -> str:
    """The init image the running osm-injector would use: its flag or env, else its version's default."""
    pod = pod or _ready_injector_pod(store, namespace)
    spec = pod["spec"] if pod else None
    if spec is None:
        d = _get(store, GVR_DEPLOY, namespace, "osm-injector")
        spec = d["spec"]["template"]["spec"] if d else None
    if spec:
        for c in spec.get("containers") or []:
            if c.get("name") == "osm-injector":
                img = _arg(c, "--init-container-image") or _env(c, "OSM_DEFAULT_INIT_CONTAINER_IMAGE")
                if img:
                    return img
                v = catalog.version_of_image(c.get("image", ""))
                if v:
                    return catalog.image(v, "sidecarInit")
    return catalog.image(catalog.LATEST, "sidecarInit")


def meshconfig(store, namespace=catalog.MESH_NAMESPACE):
    mc = _get(store, GVR_MESHCONFIG, namespace, "osm-mesh-config")
    if mc is None:  # v1alpha2 not served: try the older version
        mc = _get(store, ("config.openservicemesh.io", "v1alpha1", "meshconfigs"), namespace, "osm-mesh-config")
    return mc


def sidecar_image(mc: dict) -> str:
    sc = (mc.get("spec") or {}).get("sidecar") or {}
    if sc.get("sidecarImage"):
        return sc["sidecarImage"]
    cls = sc.get("sidecarClass", "pipy")
    for d in sc.get("sidecarDrivers") or []:
        if d.get("sidecarName") == cls and d.get("sidecarImage"):
            return d["sidecarImage"]
    return catalog.release(catalog.LATEST)["sidecarImage"]


def should_inject(ns_obj: dict | None, pod: dict) -> bool:
    if not ns_obj:
        return False
    nmd = ns_obj.get("metadata") or {}
    if not (nmd.get("labels") or {}).get(MONITORED_BY):
        return False
    pmd = pod.get("metadata") or {}
    if "openservicemesh.io/ignore" in (nmd.get("labels") or {}) or "openservicemesh.io/ignore" in (
            pmd.get("labels") or {}):
        return False
    pod_ann = (pmd.get("annotations") or {}).get(INJECTION_ANN)
    if pod_ann == "disabled":
        return False
    if pod_ann != "enabled" and (nmd.get("annotations") or {}).get(INJECTION_ANN) == "disabled":
        return False
    if (pod.get("spec") or {}).get("hostNetwork"):
        return False
    return not any(c.get("name") == "sidecar" for c in (pod.get("spec") or {}).get("containers") or [])


def inject(pod: dict, sidecar: str, init_image: str, namespace: str = catalog.MESH_NAMESPACE) -> None:
    spec = pod.setdefault("spec", {})
    init = {"name": "osm-init", "image": init_image, "imagePullPolicy": "IfNotPresent",
            "command": ["/bin/sh"], "args": ["-c", "iptables-restore --noflush < /etc/osm/iptables.rules"],
            "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "runAsNonRoot": False, "runAsUser": 0},
            "resources": {}, "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File"}
    side = {"name": "sidecar", "image": sidecar, "imagePullPolicy": "IfNotPresent",
            "args": ["pipy", "--log-level=error", "--admin-port=6060", f"http://osm-controller.{namespace}:6060/repo"],
            "ports": [{"name": "proxy-admin", "containerPort": 15000, "protocol": "TCP"},
                      {"name": "proxy-inbound", "containerPort": 15003, "protocol": "TCP"},
                      {"name": "proxy-metrics", "containerPort": 15010, "protocol": "TCP"}],
            "securityContext": {"allowPrivilegeEscalation": False, "runAsUser": 1500},
            "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}],
            "resources": {}, "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File"}
    spec["initContainers"] = [c for c in spec.get("initContainers") or [] if c.get("name") != "osm-init"]
    spec["initContainers"].append(init)
    spec.setdefault("containers", []).append(side)
    md = pod.setdefault("metadata", {})
    md.setdefault("labels", {})["osm-proxy-uuid"] = str(uuid.uuid4())


def mutate(store, op, pod, old=None) -> None:
    if op != "CREATE":
        return
    ns = (pod.get("metadata") or {}).get("namespace")
    ns_obj = _get(store, GVR_NS, None, ns)
    if not should_inject(ns_obj, pod):
        return
    mesh_ns = mesh_namespace(store, ns_obj["metadata"]["labels"][MONITORED_BY])
    mc = meshconfig(store, mesh_ns)
    if mc is None:
        return  # no mesh installed: nothing would have injected
    answering = _ready_injector_pod(store, mesh_ns)
    if answering is None:
        # the webhook fails closed (failurePolicy Fail): with no Ready osm-injector, pods of meshed namespaces
        # cannot be created at all, as the guide warns for a control plane being redeployed
        from ..errors import ApiException
        raise ApiException(500, "InternalError", webhook_down(mesh_ns))
    inject(pod, sidecar_image(mc), sidecar_init_image(store, answering, mesh_ns), mesh_ns)


def install(store) -> None:
    """Registers the injector as a pod mutator once per store."""
    if id(store) in _installed:
        return
    _installed.add(id(store))
    store.add_mutator(GVR_POD, lambda op, obj, old=None: mutate(store, op, obj, old))
