"""The osm-bootstrap CRD effect: a Ready osm-bootstrap pod of release V brings the osm-edge CRDs to V's.
CRDs are cluster-scoped: with several meshes, each bootstrap applies its release's definitions over the
others', as `kubectl apply -f /osm-crds` does on a real cluster (the last one to start wins)."""
import json
import logging

from . import catalog, chart, injector
from .crds import apply_crds

log = logging.getLogger("kubesim.mesh")
GVR_MESHCONFIG = ("config.openservicemesh.io", "v1alpha2", "meshconfigs")


def crd_versions_applied(pod: dict) -> list:
    """Releases whose CRDs this pod applies, in order: its init container's (1.1), then its container's (1.2+)."""
    spec = pod.get("spec") or {}
    out = []
    for c in spec.get("initContainers") or []:
        img = c.get("image", "")
        if c.get("name") == "init-osm-bootstrap" and catalog.image_component(img) == "crds":
            v = catalog.version_of_image(img)
            if v:
                out.append(v)
    for c in spec.get("containers") or []:
        img = c.get("image", "")
        if c.get("name") == "osm-bootstrap" and catalog.image_component(img) == "bootstrap":
            v = catalog.version_of_image(img)
            if v and catalog.release(v)["crdsBy"] == "Bootstrap":
                out.append(v)
    return out


def on_pod_ready(store, pod: dict) -> None:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    if labels.get("app") != "osm-bootstrap":
        return
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    lines = []
    for v in crd_versions_applied(pod):
        errors = apply_crds(store, v, tolerant=True)
        lines.append(json.dumps({"level": "info" if not errors else "error", "component": "osm-bootstrap",
                                 "message": f"osm-edge CRDs brought to {v}", "errors": errors}))
        log.info("osm-bootstrap %s/%s applied the CRDs of %s", ns, name, v)
    if injector.meshconfig(store, ns) is None:  # its own mesh's MeshConfig, in its namespace
        versions = crd_versions_applied(pod) or [catalog.version_of_image(
            next((c.get("image", "") for c in pod["spec"].get("containers") or []), "")) or catalog.LATEST]
        try:
            store.create(GVR_MESHCONFIG, chart.meshconfig(versions[-1], ns))
            lines.append('{"level":"info","component":"osm-bootstrap","message":"MeshConfig created"}')
        except Exception as e:  # noqa: BLE001 - the CRD may not be served yet
            lines.append(json.dumps({"level": "error", "component": "osm-bootstrap", "message": str(e)}))
    if lines:
        key = (ns, name, "osm-bootstrap")
        store.pod_logs[key] = store.pod_logs.get(key, "") + "\n".join(lines) + "\n"
