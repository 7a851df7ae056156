"""The osm-edge control-plane Deployments as each release's chart renders them for the default values."""
from . import catalog

_AFFINITY_OS_ARCH = [{"key": "kubernetes.io/os", "operator": "In", "values": ["linux"]},
                     {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]


def labels(version: str, app: str) -> dict:
    return {"app.kubernetes.io/name": "openservicemesh.io", "app.kubernetes.io/instance": catalog.MESH_NAME,
            "app.kubernetes.io/version": catalog.release(version)["app_version"], "app": app}


def _affinity(version, app):
    # 1.1's chart hard-codes node and pod anti-affinity; 1.2+ renders it from values (same content by default).
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": _AFFINITY_OS_ARCH}]}},
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


def _curl_init(name, version):
    port = catalog.release(version)["bootstrap_health_port"]
    return {"name": name, "image": catalog.CURL_IMAGE,
            "command": ["curl", f"http://osm-bootstrap.{catalog.MESH_NAMESPACE}.svc.cluster.local:{port}/healthz",
                        "--connect-timeout", "2", "--retry", "50", "--retry-connrefused", "--retry-delay", "5"]}


def _deployment(version, app, pod_spec, extra_labels=None, tmpl_labels=None):
    lab = labels(version, app)
    dl = dict(lab)
    dl["meshName"] = catalog.MESH_NAME
    dl.update(extra_labels or {})
    tl = dict(lab)
    tl.update(tmpl_labels or {})
    pod_spec = dict(pod_spec)
    pod_spec.setdefault("affinity", _affinity(version, app))
    pod_spec["priorityClassName"] = "system-node-critical"
    pod_spec["serviceAccountName"] = catalog.MESH_NAME
    pod_spec["securityContext"] = {"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000,
                                   "supplementalGroups": [5555]}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": app, "namespace": catalog.MESH_NAMESPACE, "labels": dl},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": tl, "annotations": {
                         "prometheus.io/scrape": "true", "prometheus.io/port": "9091"}},
                                  "spec": pod_spec}}}


def bootstrap(version: str) -> dict:
    imgs = catalog.images(version)
    old = catalog.release(version)["crd_update"] == "init-container"
    ports = [{"name": "crdconversion", "containerPort": 9443}, {"name": "metrics", "containerPort": 9091}]
    if old:
        ports.append({"name": "health", "containerPort": 9095})
    hp = 9095 if old else 9091
    c = {"name": "osm-bootstrap", "image": imgs["bootstrap"], "imagePullPolicy": "IfNotPresent", "ports": ports,
         "command": ["/osm-bootstrap"], "args": catalog.container_args(version, "bootstrap"),
         "resources": _res("0.5", "128M", "0.3", "128M"),
         "readinessProbe": _probe("/healthz", hp), "livenessProbe": _probe("/healthz", hp),
         "env": [_pod_name_env("BOOTSTRAP_POD_NAME")]}
    spec = {"containers": [c]}
    if old:
        spec["initContainers"] = [{"name": "init-osm-bootstrap", "image": imgs["crds"],
                                   "imagePullPolicy": "IfNotPresent",
                                   "command": ["sh", "-c", "kubectl apply -f /osm-crds;\n"]}]
    return _deployment(version, "osm-bootstrap", spec)


def controller(version: str) -> dict:
    imgs = catalog.images(version)
    v13 = catalog.at_least(version, "v1.3.0")
    repo = {"name": "osm-pipy-repo", "image": imgs["pipy-repo"], "imagePullPolicy": "IfNotPresent",
            "ports": [{"name": "pipy-admin-port", "containerPort": 6060}],
            "command": ["pipy"], "args": ["--admin-port=6060"]}
    if v13:
        repo["readinessProbe"] = _probe("/", 6060, delay=1)
        repo["livenessProbe"] = _probe("/", 6060, delay=1)
    c = {"name": "osm-controller", "image": imgs["controller"], "imagePullPolicy": "IfNotPresent",
         "ports": [{"name": "admin-port", "containerPort": 15000}, {"name": "metrics", "containerPort": 9091}],
         "command": ["/osm-controller"], "args": catalog.container_args(version, "controller"),
         "resources": _res("1.5", "1G", "0.5", "128M"),
         "readinessProbe": _probe("/health/ready", 9091, delay=1),
         "livenessProbe": _probe("/health/alive", 9091, delay=1),
         "env": [_pod_name_env("CONTROLLER_POD_NAME"), {"name": "OSM_DEFAULT_SIDECAR_CLASS", "value": "pipy"}]}
    spec = {"initContainers": [_curl_init("init-osm-controller", version)], "containers": [repo, c]}
    extra = {"codebase": ""} if v13 else None
    return _deployment(version, "osm-controller", spec, extra_labels=extra, tmpl_labels=extra)


def injector(version: str) -> dict:
    imgs = catalog.images(version)
    old = not catalog.at_least(version, "v1.2.0")
    scheme, port = ("HTTPS", 9090) if old else ("HTTP", 9091)
    env = [_pod_name_env("INJECTOR_POD_NAME"), {"name": "OSM_DEFAULT_SIDECAR_CLASS", "value": "pipy"},
           {"name": "OSM_DEFAULT_SIDECAR_IMAGE", "value": ""},
           {"name": "OSM_DEFAULT_SIDECAR_WINDOWS_IMAGE", "value": ""},
           {"name": "OSM_DEFAULT_INIT_CONTAINER_IMAGE", "value": imgs["sidecar-init"]},
           {"name": "OSM_DEFAULT_HEALTHCHECK_CONTAINER_IMAGE", "value": imgs["healthcheck"]}]
    if catalog.at_least(version, "v1.3.0"):
        env.append({"name": "CONTROLLER_SVC_NAME", "value": "osm-controller"})
    c = {"name": "osm-injector", "image": imgs["injector"], "imagePullPolicy": "IfNotPresent",
         "ports": [{"name": "sidecar-inject", "containerPort": 9090}, {"name": "metrics", "containerPort": 9091}],
         "command": ["/osm-injector"], "args": catalog.container_args(version, "injector"),
         "resources": _res("0.5", "64M", "0.3", "64M"),
         "readinessProbe": _probe("/healthz", port, scheme), "livenessProbe": _probe("/healthz", port, scheme),
         "env": env}
    spec = {"initContainers": [_curl_init("init-osm-injector", version)], "containers": [c]}
    return _deployment(version, "osm-injector", spec)


def control_plane(version: str) -> list:
    return [bootstrap(version), controller(version), injector(version)]


def meshconfig(version: str) -> dict:
    """MeshConfig osm-mesh-config as osm-bootstrap creates it from the preset (our own trimmed content)."""
    r = catalog.release(version)
    sidecar = {"enablePrivilegedInitContainer": False, "logLevel": "error", "maxDataPlaneConnections": 0,
               "configResyncInterval": "0s", "sidecarClass": "pipy", "sidecarImage": r["sidecar_image"],
               "sidecarDrivers": [{"sidecarName": "pipy", "sidecarImage": r["sidecar_image"],
                                   "proxyServerPort": 6060},
                                  {"sidecarName": "envoy", "sidecarImage": "envoyproxy/envoy:v1.19.3",
                                   "sidecarWindowsImage": "envoyproxy/envoy-windows:latest",
                                   "proxyServerPort": 15128}]}
    if catalog.at_least(version, "v1.2.0"):
        sidecar.update({"sidecarTimeout": 60, "localProxyMode": "Localhost", "localDNSProxy": {"enable": False}})
    spec = {"sidecar": sidecar,
            "traffic": {"enableEgress": True, "enablePermissiveTrafficPolicyMode": True,
                        "outboundPortExclusionList": [], "inboundPortExclusionList": [],
                        "outboundIPRangeExclusionList": [], "outboundIPRangeInclusionList": []},
            "observability": {"enableDebugServer": False, "osmLogLevel": "info", "tracing": {"enable": False}},
            "certificate": {"serviceCertValidityDuration": "24h", "certKeyBitSize": 2048},
            "featureFlags": {"enableEgressPolicy": True, "enableSnapshotCacheMode": False,
                             "enableAsyncProxyServiceMapping": False, "enableIngressBackendPolicy": True,
                             "enableEnvoyActiveHealthChecks": False, "enableRetryPolicy": False}}
    if catalog.at_least(version, "v1.2.0"):
        spec["traffic"]["interceptionMode"] = "PodLevel"
    if catalog.at_least(version, "v1.3.0"):
        spec["clusterSet"] = {"properties": []}
        spec["repoServer"] = {"ipaddr": "127.0.0.1", "codebase": ""}
        spec["featureFlags"]["enablePluginPolicy"] = False
    return {"apiVersion": "config.openservicemesh.io/" + catalog.meshconfig_storage_version(version),
            "kind": "MeshConfig", "metadata": {"name": "osm-mesh-config", "namespace": catalog.MESH_NAMESPACE},
            "spec": spec}
