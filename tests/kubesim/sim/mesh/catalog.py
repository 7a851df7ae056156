"""What the simulator knows of each osm-edge release: images, control-plane args, CRD set (our own data)."""
import copy

REGISTRY = "flomesh"
MESH_NAME = "osm"
MESH_NAMESPACE = "osm-system"
CURL_IMAGE = "curlimages/curl"

# The exact line the guide quotes for a CLI/image version mismatch.
FATAL_INIT_IMAGE_LINE = ('{"level":"fatal","error":"Please specify the init container image using '
                         '--init-container-image","reason":"FatalInvalidCLIParameters"}')

_IMAGE_NAMES = ("controller", "injector", "sidecar-init", "bootstrap", "crds", "preinstall", "healthcheck")

# Chart values that differ between releases. `tag` is the chart's image tag, which for v1.1.3 is 1.1.1.
RELEASES = {
    "v1.1.3": {"chart_version": "1.1.1", "app_version": "v1.1.1", "tag": "1.1.1",
               "sidecar_image": "flomesh/pipy:0.50.0-25", "repo_image": "flomesh/pipy:0.50.0-25",
               "crd_update": "init-container", "interceptor": False, "bootstrap_health_port": 9095,
               "addon_images": ["prom/prometheus:v2.18.1", "grafana/grafana:8.2.2"]},
    "v1.2.3": {"chart_version": "1.2.3", "app_version": "v1.2.3", "tag": "1.2.3",
               "sidecar_image": "flomesh/pipy:0.70.0-46", "repo_image": "flomesh/pipy-repo:0.70.0-46",
               "crd_update": "container", "interceptor": False, "bootstrap_health_port": 9091,
               "addon_images": ["prom/prometheus:v2.34.0", "grafana/grafana:8.2.2"]},
    "v1.3.8": {"chart_version": "1.3.8", "app_version": "v1.3.8", "tag": "1.3.8",
               "sidecar_image": "flomesh/pipy:0.90.2-14", "repo_image": "flomesh/pipy-repo:0.90.2-14",
               "crd_update": "container", "interceptor": True, "bootstrap_health_port": 9091,
               "addon_images": ["prom/prometheus:v2.34.0", "grafana/grafana:8.2.2"]},
    "v1.3.9": {"chart_version": "1.3.9", "app_version": "v1.3.9", "tag": "1.3.9",
               "sidecar_image": "flomesh/pipy:0.90.3-38", "repo_image": "flomesh/pipy-repo:0.90.3-38",
               "crd_update": "container", "interceptor": True, "bootstrap_health_port": 9091,
               "addon_images": ["prom/prometheus:v2.34.0", "grafana/grafana:8.2.2"]},
}
KUBE_VERSION = ">= 1.19.0-0"  # every release's chart says so
VERSIONS = tuple(RELEASES)


def _parse(v: str):
    return tuple(int(x) for x in v.lstrip("v").split("."))


def at_least(version: str, other: str) -> bool:
    return _parse(version) >= _parse(other)


def normalize(version: str) -> str:
    """'1.3.9' and 'v1.3.9' both name v1.3.9."""
    return version if not version or version.startswith("v") else "v" + version


def release(version: str) -> dict:
    version = normalize(version)
    if version not in RELEASES:
        raise KeyError(f"unknown osm-edge version {version!r}; known: {', '.join(VERSIONS)}")
    return RELEASES[version]


def image(version: str, name: str) -> str:
    """image("v1.3.9", "controller") -> flomesh/osm-edge-controller:1.3.9"""
    return f"{REGISTRY}/osm-edge-{name}:{release(version)['tag']}"


def images(version: str) -> dict:
    r = release(version)
    names = _IMAGE_NAMES + (("interceptor",) if r["interceptor"] else ())
    out = {n: image(version, n) for n in names}
    out["sidecar"] = r["sidecar_image"]
    out["pipy-repo"] = r["repo_image"]
    return out


def _known_images() -> set:
    known = {CURL_IMAGE, "docker.io/" + CURL_IMAGE, "busybox", "busybox:latest", "nginx", "nginx:latest",
             "jaegertracing/all-in-one", "jaegertracing/all-in-one:latest", "registry.k8s.io/pause:3.10",
             "kubesim/demo-app:1.0"}  # the last: the app container of the seeded meshed workloads
    for v in VERSIONS:
        known.update(images(v).values())
        known.update(RELEASES[v]["addon_images"])
    return known


KNOWN_IMAGES = frozenset(_known_images())


def version_of_image(img: str) -> str | None:
    """The release whose chart tags this osm-edge image (flomesh/osm-edge-X:TAG), else None."""
    if not img or "/osm-edge-" not in img or ":" not in img.rsplit("/", 1)[-1]:
        return None
    tag = img.rsplit(":", 1)[1]
    for v, r in RELEASES.items():
        if r["tag"] == tag:
            return v
    return None


def image_component(img: str) -> str | None:
    """flomesh/osm-edge-controller:1.3.9 -> controller"""
    if "/osm-edge-" not in img:
        return None
    return img.rsplit("/osm-edge-", 1)[1].split(":", 1)[0].split("@", 1)[0]


# --- control-plane args, as the chart renders them for the default values -------------------------------
def _common_head(version):
    return ["--verbosity", "info", "--osm-namespace", MESH_NAMESPACE, "--osm-version",
            release(version)["app_version"]]


def _cert_args(version):
    out = ["--ca-bundle-secret-name", "osm-ca-bundle", "--certificate-manager", "tresor"]
    if at_least(version, "v1.2.0"):
        out += ["--trust-domain", "cluster.local", "--enable-mesh-root-certificate=false"]
    return out


def _tail_args(version, _unused=None):
    out = ["--cert-manager-issuer-name", "osm-ca", "--cert-manager-issuer-kind", "Issuer",
            "--cert-manager-issuer-group", "cert-manager.io", "--enable-reconciler=false"]
    return out


def container_args(version: str, component: str) -> list:
    """Args of the osm-{bootstrap,controller,injector} container for the default values."""
    head = _common_head(version)
    if component == "bootstrap":
        return head + _cert_args(version) + _tail_args(version, True)
    if component == "controller":
        return (head + ["--osm-service-account", MESH_NAME, "--mesh-name", MESH_NAME,
                        "--validator-webhook-config", f"osm-validator-mesh-{MESH_NAME}"]
                + _cert_args(version) + _tail_args(version, False) + ["--validate-traffic-target=true"])
    if component == "injector":
        return (head + ["--mesh-name", MESH_NAME, "--webhook-config-name", f"osm-webhook-{MESH_NAME}",
                        "--webhook-timeout", "20"]
                + _cert_args(version) + _tail_args(version, True) + ["--osm-container-pull-policy=IfNotPresent"])
    raise KeyError(component)


# Flags a release's template passes only when the certificate provider is vault: allowed, never required.
_VAULT_FLAGS = {"--vault-host", "--vault-protocol", "--vault-token"}
_VAULT_FLAGS_12 = {"--vault-port", "--vault-token-secret-name", "--vault-token-secret-key"}


def flag_names(args: list) -> list:
    """Flag names in order, '--x=y' and '--x y' both give '--x'."""
    return [a.split("=", 1)[0] for a in args if isinstance(a, str) and a.startswith("--")]


def required_flags(version: str, component: str) -> set:
    return set(flag_names(container_args(version, component)))


def allowed_flags(version: str, component: str) -> set:
    allowed = required_flags(version, component) | _VAULT_FLAGS
    if at_least(version, "v1.2.0"):
        allowed |= _VAULT_FLAGS_12
    if component == "injector":
        allowed |= {"--init-container-image", "--sidecar-image"}
    return allowed


# Where the control plane names images other than its own container image (the operator must move these too).
def image_refs(version: str) -> list:
    """[(deployment, kind, container, key, image)]; kind is container|initContainer|env."""
    imgs = images(version)
    refs = [("osm-bootstrap", "container", "osm-bootstrap", "image", imgs["bootstrap"]),
            ("osm-controller", "container", "osm-controller", "image", imgs["controller"]),
            ("osm-controller", "container", "osm-pipy-repo", "image", imgs["pipy-repo"]),
            ("osm-controller", "initContainer", "init-osm-controller", "image", CURL_IMAGE),
            ("osm-injector", "container", "osm-injector", "image", imgs["injector"]),
            ("osm-injector", "initContainer", "init-osm-injector", "image", CURL_IMAGE),
            ("osm-injector", "env", "osm-injector", "OSM_DEFAULT_INIT_CONTAINER_IMAGE", imgs["sidecar-init"]),
            ("osm-injector", "env", "osm-injector", "OSM_DEFAULT_HEALTHCHECK_CONTAINER_IMAGE", imgs["healthcheck"])]
    if release(version)["crd_update"] == "init-container":
        refs.append(("osm-bootstrap", "initContainer", "init-osm-bootstrap", "image", imgs["crds"]))
    return refs


# --- CRDs: names, groups, versions (served, storage), scope, printer columns, subresources ---------------
_OSM = {"app.kubernetes.io/name": "openservicemesh.io"}
_FLOMESH = {"app.kubernetes.io/name": "flomesh.io"}
_STATUS_COL = lambda what: [{"name": "Status", "type": "string", "jsonPath": ".status.currentStatus",
                             "description": f"Current status of the {what} policy."}]


def _crd(group, kind, plural, singular, short, versions, scope="Namespaced", list_kind=True, labels=_OSM,
         columns=None, status=False):
    return {"group": group, "kind": kind, "plural": plural, "singular": singular, "shortNames": short,
            "listKind": list_kind, "versions": versions, "scope": scope, "labels": labels,
            "columns": columns or [], "status": status}


def _crd_set(version: str) -> list:
    v12 = at_least(version, "v1.2.0")
    v13 = at_least(version, "v1.3.0")
    cfg, pol = "config.openservicemesh.io", "policy.openservicemesh.io"
    out = [
        _crd(cfg, "MeshConfig", "meshconfigs", "meshconfig", ["meshconfig"],
             [("v1alpha2", True, True), ("v1alpha1", True, False)]),
        _crd(pol, "Egress", "egresses", "egress", ["egress"], [("v1alpha1", True, True)]),
        _crd(pol, "IngressBackend", "ingressbackends", "ingressbackend", ["ingressbackend"],
             [("v1alpha1", True, True)], columns=_STATUS_COL("IngressBackend"), status=True),
        _crd(pol, "Retry", "retries", "retry", ["retry"], [("v1alpha1", True, True)]),
        _crd(pol, "UpstreamTrafficSetting", "upstreamtrafficsettings", "upstreamtrafficsetting",
             ["upstreamtrafficsetting"], [("v1alpha1", True, True)],
             columns=_STATUS_COL("UpstreamTrafficSetting"), status=True),
        _crd("specs.smi-spec.io", "HTTPRouteGroup", "httproutegroups", "httproutegroup", ["htr"],
             [("v1alpha4", True, True), ("v1alpha3", False, False), ("v1alpha2", False, False),
              ("v1alpha1", False, False)], list_kind=False),
        _crd("specs.smi-spec.io", "TCPRoute", "tcproutes", "tcproute", ["tr"], [("v1alpha4", True, True)],
             list_kind=False),
        _crd("access.smi-spec.io", "TrafficTarget", "traffictargets", "traffictarget", ["tt"],
             [("v1alpha3", True, True), ("v1alpha2", False, False), ("v1alpha1", False, False)], list_kind=False),
        _crd("split.smi-spec.io", "TrafficSplit", "trafficsplits", "trafficsplit", ["ts"],
             ([("v1alpha4", True, True), ("v1alpha3", False, False), ("v1alpha2", True, False)] if v13 else
              [("v1alpha4", False, False), ("v1alpha3", False, False), ("v1alpha2", True, True)]),
             columns=[{"name": "Service", "type": "string", "description": "The apex service of this split.",
                       "jsonPath": ".spec.service"}]),
    ]
    if not v12:
        out.append(_crd(cfg, "MultiClusterService", "multiclusterservices", "multiclusterservice", ["mcs"],
                        [("v1alpha2", True, True), ("v1alpha1", True, False)], list_kind=False))
    else:
        out += [
            _crd(cfg, "MeshRootCertificate", "meshrootcertificates", "meshrootcertificate", ["mrc"],
                 [("v1alpha2", True, True)], status=True,
                 columns=[{"name": "State", "type": "string", "jsonPath": ".status.state",
                           "description": "Current state of the MeshRootCertificate config"}]),
            _crd(pol, "AccessCert", "accesscerts", "accesscert", ["acct"], [("v1alpha1", True, True)],
                 columns=_STATUS_COL("AccessCert"), status=True),
            _crd(pol, "AccessControl", "accesscontrols", "accesscontrol", ["accesscontrol"],
                 [("v1alpha1", True, True)], columns=_STATUS_COL("AccessControl"), status=True),
            _crd(pol, "EgressGateway", "egressgateways", "egressgateway", ["egressgateway"],
                 [("v1alpha1", True, True)]),
        ]
    if v13:
        age = [{"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}]
        out += [
            _crd("flomesh.io", "GlobalTrafficPolicy", "globaltrafficpolicies", "globaltrafficpolicy", [],
                 [("v1alpha1", True, True)], labels=_FLOMESH, columns=age, status=True),
            _crd("flomesh.io", "ServiceExport", "serviceexports", "serviceexport", [],
                 [("v1alpha1", True, True)], labels=_FLOMESH, columns=age, status=True),
            _crd("flomesh.io", "ServiceImport", "serviceimports", "serviceimport", [],
                 [("v1alpha1", True, True)], labels=_FLOMESH, columns=age, status=True),
            _crd("plugin.flomesh.io", "Plugin", "plugins", "plugin", ["pi"], [("v1alpha1", True, True)],
                 scope="Cluster", status=True,
                 columns=[{"name": "Status", "type": "string", "jsonPath": ".status.currentStatus",
                           "description": "Current status of the Plugin."}]),
            _crd("plugin.flomesh.io", "PluginChain", "pluginchains", "pluginchain", ["pichn"],
                 [("v1alpha1", True, True)], status=True),
            _crd("plugin.flomesh.io", "PluginConfig", "pluginconfigs", "pluginconfig", ["picfg"],
                 [("v1alpha1", True, True)], status=True),
        ]
    return out


def crd_objects(version: str) -> list:
    """The release's CRDs as apiextensions.k8s.io/v1 objects with simplified (preserve-unknown) schemas."""
    out = []
    for c in _crd_set(version):
        names = {"kind": c["kind"], "plural": c["plural"], "singular": c["singular"]}
        if c["listKind"]:
            names["listKind"] = c["kind"] + "List"
        if c["shortNames"]:
            names["shortNames"] = list(c["shortNames"])
        versions = []
        for name, served, storage in c["versions"]:
            props = {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
            if c["status"]:
                props["status"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            ver = {"name": name, "served": served, "storage": storage,
                   "schema": {"openAPIV3Schema": {"type": "object", "properties": props}}}
            if c["status"]:
                ver["subresources"] = {"status": {}}
            if c["columns"]:
                ver["additionalPrinterColumns"] = copy.deepcopy(c["columns"])
            versions.append(ver)
        spec = {"group": c["group"], "names": names, "scope": c["scope"], "versions": versions}
        if _conversion_none(version, c):
            spec["conversion"] = {"strategy": "None"}
        out.append({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": f"{c['plural']}.{c['group']}", "labels": dict(c["labels"])},
                    "spec": spec})
    return out


def _conversion_none(version, c) -> bool:
    # From 1.2 the osm-edge CRDs (not the flomesh.io multicluster ones) declare a None conversion strategy.
    return at_least(version, "v1.2.0") and c["labels"] is _OSM


def crd_names(version: str) -> list:
    return [f"{c['plural']}.{c['group']}" for c in _crd_set(version)]


def meshconfig_storage_version(version: str) -> str:
    return "v1alpha2"  # v1alpha2 is the storage version in all four releases
