"""The osm-edge control-plane Deployments and MeshConfig of a release, as its chart renders them for the
default values (or another mesh name and namespace): containers, images, commands, args and image-bearing env
from the catalog; the rest of each pod (ports, probes, resources, other env) is our own shape of the chart's."""
import copy
import re

from . import catalog

_AFFINITY_OS_ARCH = [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                     {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]


def labels(version: str, app: str, mesh: str = catalog.MESH_NAME) -> dict:
    return {"app.kubernetes.io/name": "openservicemesh.io", "app.kubernetes.io/instance": mesh,
            "app.kubernetes.io/version": catalog.release(version)["chart"]["appVersion"], "app": app}


def _affinity(app):
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": copy.deepcopy(_AFFINITY_OS_ARCH)}]}},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"podAffinityTerm": {"labelSelector": {"matchExpressions": [
                    {"key": "app", "operator": "In", "values": [app]}]},
                    "topologyKey": "kubernetes.io/hostname"}, "weight": 100}]}}


def _probe(path, port, scheme="HTTP", delay=5):
    return {"initialDelaySeconds": delay, "timeoutSeconds": 5,
            "httpGet": {"scheme": scheme, "path": path, "port": port}}


def _res(lim_cpu, lim_mem, req_cpu, req_mem):
    return {"limits": {"cpu": lim_cpu, "memory": lim_mem}, "requests": {"cpu": req_cpu, "memory": req_mem}}


def _pod_name_env(var):
    return {"name": var, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}


def bootstrap_health_port(version: str) -> int:
    """The port osm-bootstrap answers /healthz on (9095 in 1.1, 9091 from 1.2), read from the curl init
    container that waits for it."""
    init = next(c for c in catalog.deployment(version, "osm-controller")["containers"] if c["init"])
    return int(re.search(r":(\d+)/healthz", " ".join(init["command"])).group(1))


def _extras(version: str, name: str) -> dict:
    """Our own shape of what the chart gives each container besides image, command, args and image env."""
    hp = bootstrap_health_port(version)
    v12, v13 = catalog.at_least(version, "v1.2.0"), catalog.at_least(version, "v1.3.0")
    if name == "osm-bootstrap":
        ports = [{"name": "crdconversion", "containerPort": 9443}, {"name": "metrics", "containerPort": 9091}]
        if hp != 9091:
            ports.append({"name": "health", "containerPort": hp})
        return {"ports": ports, "resources": _res("0.5", "128M", "0.3", "128M"),
                "readinessProbe": _probe("/healthz", hp), "livenessProbe": _probe("/healthz", hp),
                "env": [_pod_name_env("BOOTSTRAP_POD_NAME")]}
    if name == "osm-controller":
        return {"ports": [{"name": "admin-port", "containerPort": 15000}, {"name": "metrics", "containerPort": 9091}],
                "resources": _res("1.5", "1G", "0.5", "128M"),
                "readinessProbe": _probe("/health/ready", 9091, delay=1),
                "livenessProbe": _probe("/health/alive", 9091, delay=1),
                "env": [_pod_name_env("CONTROLLER_POD_NAME"), {"name": "OSM_DEFAULT_SIDECAR_CLASS", "value": "pipy"}]}
    if name == "osm-pipy-repo":
        out = {"ports": [{"name": "pipy-admin-port", "containerPort": 6060}]}
        if v13:
            out.update(readinessProbe=_probe("/", 6060, delay=1), livenessProbe=_probe("/", 6060, delay=1))
        return out
    if name == "osm-injector":
        scheme, port = ("HTTP", 9091) if v12 else ("HTTPS", 9090)
        env = ([{"name": "CONTROLLER_SVC_NAME", "value": "osm-controller"}] if v13 else []) + [
            _pod_name_env("INJECTOR_POD_NAME"), {"name": "OSM_DEFAULT_SIDECAR_CLASS", "value": "pipy"},
            {"name": "OSM_DEFAULT_SIDECAR_IMAGE", "value": ""},
            {"name": "OSM_DEFAULT_SIDECAR_WINDOWS_IMAGE", "value": ""},
            {"name": "OSM_DEFAULT_INIT_CONTAINER_IMAGE", "value": ""},
            {"name": "OSM_DEFAULT_HEALTHCHECK_CONTAINER_IMAGE", "value": ""}]
        return {"ports": [{"name": "sidecar-inject", "containerPort": 9090},
                          {"name": "metrics", "containerPort": 9091}],
                "resources": _res("0.5", "64M", "0.3", "64M"),
                "readinessProbe": _probe("/healthz", port, scheme), "livenessProbe": _probe("/healthz", port, scheme),
                "env": env}
    return {}


def _localize(values: list, mesh: str, namespace: str) -> list:
    """The catalog's args and commands are rendered for release and mesh `osm` in `osm-system`; the chart puts
    the mesh name (meshName; Release.Name, which `osm install` makes the mesh name) and the namespace in these
    places, so another mesh's are the same strings with its own."""
    if (mesh, namespace) == (catalog.MESH_NAME, catalog.MESH_NAMESPACE):
        return list(values)
    named = {"--mesh-name": mesh, "--osm-service-account": mesh}
    out = []
    for i, v in enumerate(values):
        if not isinstance(v, str):
            out.append(v)
        elif i > 0 and values[i - 1] in named and v == catalog.MESH_NAME:
            out.append(named[values[i - 1]])
        elif v == catalog.MESH_NAMESPACE:
            out.append(namespace)
        elif v in ("osm-validator-mesh-osm", "osm-webhook-osm"):
            out.append(v[:-len(catalog.MESH_NAME)] + mesh)
        else:
            out.append(v.replace(f".{catalog.MESH_NAMESPACE}.svc", f".{namespace}.svc"))
    return out


def _container(version: str, c: dict, mesh: str = catalog.MESH_NAME,
               namespace: str = catalog.MESH_NAMESPACE) -> dict:
    out = {"name": c["name"], "image": catalog.resolve(version, c["image"])}
    if not c["image"] == "curl":
        out["imagePullPolicy"] = "IfNotPresent"
    extras = _extras(version, c["name"])
    if "ports" in extras:
        out["ports"] = extras.pop("ports")
    if c["command"]:
        out["command"] = _localize(c["command"], mesh, namespace)
    if c["args"]:
        out["args"] = _localize(c["args"], mesh, namespace)
    out.update(extras)
    env = out.setdefault("env", []) if c.get("env") else out.get("env")
    for e in c.get("env") or []:  # image-bearing env: the catalog's value, in the chart's place
        value = catalog.resolve(version, e["image"])
        slot = next((x for x in env if x["name"] == e["name"]), None)
        if slot is None:
            env.append({"name": e["name"], "value": value})
        else:
            slot["value"] = value
    return out


def _deployment(version: str, app: str, mesh: str = catalog.MESH_NAME, namespace: str = catalog.MESH_NAMESPACE,
                single_mesh: bool = True) -> dict:
    lab = labels(version, app, mesh)
    dl = dict(lab, meshName=mesh)
    tl = dict(lab)
    if app == "osm-controller":
        if single_mesh:  # osm.enforceSingleMesh defaults to true in every release; false renders no label
            dl["enforceSingleMesh"] = "true"
        if catalog.at_least(version, "v1.3.0"):
            dl["codebase"] = tl["codebase"] = ""
    spec = {"affinity": _affinity(app), "priorityClassName": "system-node-critical",
            "serviceAccountName": mesh,
            "securityContext": {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "supplementalGroups": [5555]}}
    cs = catalog.deployment(version, app)["containers"]
    if any(c["init"] for c in cs):
        spec["initContainers"] = [_container(version, c, mesh, namespace) for c in cs if c["init"]]
    spec["containers"] = [_container(version, c, mesh, namespace) for c in cs if not c["init"]]
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app, "namespace": namespace, "labels": dl},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": tl, "annotations": {
                         "prometheus.io/scrape": "true", "prometheus.io/port": "9091"}},
                                  "spec": spec}}}


def bootstrap(version: str) -> dict:
    return _deployment(version, "osm-bootstrap")


def controller(version: str) -> dict:
    return _deployment(version, "osm-controller")


def injector(version: str) -> dict:
    return _deployment(version, "osm-injector")


def control_plane(version: str, mesh: str = catalog.MESH_NAME, namespace: str = catalog.MESH_NAMESPACE,
                  single_mesh: bool = True) -> list:
    """The release's control-plane Deployments, as `helm template` renders the chart for mesh (and release)
    `mesh` in `namespace`; single_mesh=False as with `--set osm.enforceSingleMesh=false`, which a cluster of
    several meshes needs."""
    return [_deployment(version, d["deployment"], mesh, namespace, single_mesh)
            for d in catalog.release(version)["controlPlane"]]


def meshconfig(version: str, namespace: str = catalog.MESH_NAMESPACE) -> dict:
    """MeshConfig osm-mesh-config as osm-bootstrap creates it from the preset: the catalog's defaults, with
    spec.sidecar.sidecarImage set to the release's Pipy image (the preset leaves it empty; we name it, so the
    running sidecar image is read in one place)."""
    r = catalog.release(version)
    spec = copy.deepcopy(r["meshConfigDefaults"])
    spec.setdefault("sidecar", {})["sidecarImage"] = r["sidecarImage"]
    return {"apiVersion": "config.openservicemesh.io/" + catalog.meshconfig_storage_version(version),
            "kind": "MeshConfig", "metadata": {"name": "osm-mesh-config", "namespace": namespace},
            "spec": spec}
