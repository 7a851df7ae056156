"""What the simulator knows of each osm-edge release: the operator's generated catalog
(controllers/mesh_upgrade/releases.json, written by tools/gen_catalog.py from the upstream charts and CRDs),
read once, and the lookups the simulated mesh needs (images, control-plane containers, flags, CRD objects)."""
import copy
import fnmatch
import json
import os

CATALOG_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "controllers",
                            "mesh_upgrade", "releases.json")
MESH_NAME = "osm"
MESH_NAMESPACE = "osm-system"

# The exact line the guide quotes for a CLI/image version mismatch.
FATAL_INIT_IMAGE_LINE = ('{"level":"fatal","error":"Please specify the init container image using '
                         '--init-container-image","reason":"FatalInvalidCLIParameters"}')


def _load() -> dict:
    with open(CATALOG_PATH) as f:
        return {r["version"]: r for r in json.load(f)["releases"]}


RELEASES = _load()
VERSIONS = tuple(RELEASES)  # semver order, each -ubi8 variant after its release
LATEST = [v for v in VERSIONS if not RELEASES[v]["variant"]][-1]


def _parse(v: str):
    return tuple(int(x) for x in v.lstrip("v").split("-", 1)[0].split("."))


def at_least(version: str, other: str) -> bool:
    return _parse(version) >= _parse(other)


def normalize(version: str) -> str:
    """'1.3.9' and 'v1.3.9' both name v1.3.9; '1.2.1-ubi8' names v1.2.1-ubi8."""
    return version if not version or version.startswith("v") else "v" + version


def release(version: str) -> dict:
    version = normalize(version)
    if version not in RELEASES:
        raise KeyError(f"unknown osm-edge version {version!r}; known: {', '.join(VERSIONS)}")
    return RELEASES[version]


def image(version: str, key: str) -> str:
    """image("v1.3.9", "controller") -> flomesh/osm-edge-controller:1.3.9 (keys of the catalog's imageNames)."""
    r = release(version)
    return f"{r['registry']}/{r['imageNames'][key]}:{r['imageTag']}"


def images(version: str) -> dict:
    """Every image of the release: imageNames' keys, plus sidecar, repoServer and curl."""
    r = release(version)
    out = {k: image(version, k) for k in r["imageNames"]}
    out.update(sidecar=r["sidecarImage"], repoServer=r["repoServerImage"], curl=r["curlImage"])
    return out


def resolve(version: str, ref: str) -> str:
    """A catalog container's "image": a key of imageNames, repoServer, curl, or a literal image."""
    return images(version).get(ref, ref)


# --- image ownership: which images osm-edge's own repositories published -------------------------------------
def _strip_docker_io(img: str) -> str:
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/"):
        if img.startswith(prefix):
            return img[len(prefix):]
    return img


def split_image(img: str) -> tuple:
    """(repository, tag, digest) of an image reference, docker.io/ dropped; tag "latest" when none is given."""
    img = _strip_docker_io(img)
    repo, _, digest = img.partition("@")
    name = repo.rsplit("/", 1)[-1]
    tag = ""
    if ":" in name:
        repo, tag = repo.rsplit(":", 1)
    return repo, tag or ("" if digest else "latest"), digest


def _published() -> frozenset:
    out = set()
    for v, r in RELEASES.items():
        out.update(images(v).values())
        for d in r["controlPlane"]:
            out.update(resolve(v, c["image"]) for c in d["containers"])
    return frozenset(_strip_docker_io(i) for i in out)


PUBLISHED_IMAGES = _published()
# osm-edge's own repositories: every flomesh/osm-edge-* name (also -ubi8 and on quay.io), and the repositories
# of the flomesh images its releases ran (flomesh/pipy, flomesh/pipy-repo, quay.io/flomesh/pipy-ubi8, ...).
OWN_REPOSITORIES = frozenset(split_image(i)[0] for i in PUBLISHED_IMAGES
                             if i.startswith(("flomesh/", "quay.io/flomesh/")))
_OWN_PATTERNS = ("flomesh/osm-edge-*", "quay.io/flomesh/osm-edge-*")


def unpublished_osm_edge_image(img: str) -> bool:
    """True for a tag of osm-edge's own repositories that no release published (a real registry: not found)."""
    repo, tag, digest = split_image(img)
    if digest or not (repo in OWN_REPOSITORIES or any(fnmatch.fnmatchcase(repo, p) for p in _OWN_PATTERNS)):
        return False
    return f"{repo}:{tag}" not in PUBLISHED_IMAGES


# --- which release an image belongs to -----------------------------------------------------------------------
_NAME_KEYS = {name: key for r in RELEASES.values() for key, name in r["imageNames"].items()}


def image_component(img: str) -> str | None:
    """flomesh/osm-edge-controller:1.3.9 -> controller (a key of imageNames); None for other images."""
    if not img:
        return None
    return _NAME_KEYS.get(split_image(img)[0].rsplit("/", 1)[-1])


def version_of_image(img: str) -> str | None:
    """The release whose images these are: the one tagged so whose chart names this image (for a tag two
    releases share, as 1.1.1 of v1.1.1 and v1.1.3, the release of that number), else None."""
    if image_component(img) is None:
        return None
    norm = _strip_docker_io(img)
    found = [v for v in VERSIONS if norm in images(v).values()]
    if not found:
        return None
    tag = split_image(img)[1]
    exact = [v for v in found if v.split("-")[0] == "v" + tag]
    return (exact or found)[0]


# --- control-plane containers --------------------------------------------------------------------------------
def deployment(version: str, name: str) -> dict:
    return next(d for d in release(version)["controlPlane"] if d["deployment"] == name)


def container(version: str, component: str) -> dict:
    """The osm-{component} container of the osm-{component} Deployment (component: bootstrap|controller|injector)."""
    d = deployment(version, f"osm-{component}")
    return next(c for c in d["containers"] if c["name"] == f"osm-{component}")


def container_args(version: str, component: str) -> list:
    """Args of the osm-{bootstrap,controller,injector} container as the chart renders them for the defaults."""
    return list(container(version, component)["args"])


def flag_names(args: list) -> list:
    """Flag names in order, '--x=y' and '--x y' both give '--x'."""
    return [a.split("=", 1)[0] for a in args if isinstance(a, str) and a.startswith("--")]


def required_flags(version: str, component: str) -> set:
    return set(flag_names(container_args(version, component)))


def allowed_flags(version: str, component: str) -> set:
    """The rendered flags plus those the template passes only under other values (vault)."""
    return required_flags(version, component) | set(container(version, component)["optionalFlags"])


def image_refs(version: str) -> list:
    """[(deployment, kind, container, key, image)]: every place the control plane names an image
    (kind: container | initContainer | env | arg)."""
    out = []
    for d in release(version)["controlPlane"]:
        for c in d["containers"]:
            kind = "initContainer" if c["init"] else "container"
            out.append((d["deployment"], kind, c["name"], "image", resolve(version, c["image"])))
            out += [(d["deployment"], "env", c["name"], e["name"], resolve(version, e["image"]))
                    for e in c.get("env") or []]
            out += [(d["deployment"], "arg", c["name"], flag, resolve(version, ref))
                    for flag, ref in (c.get("imageArgs") or {}).items()]
    return out


# --- CRDs ----------------------------------------------------------------------------------------------------
def crd_objects(version: str) -> list:
    """The release's CRDs as apiextensions.k8s.io/v1 objects: names, versions, scope, printer columns,
    subresources and conversion as upstream; schemas simplified to preserve-unknown spec and status."""
    out = []
    for c in release(version)["crds"]:
        names = {"kind": c["kind"], "plural": c["plural"]}
        for k in ("singular", "listKind"):
            if c.get(k):
                names[k] = c[k]
        if c["shortNames"]:
            names["shortNames"] = list(c["shortNames"])
        versions = []
        for v in c["versions"]:
            props = {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
            if "status" in v["subresources"]:
                props["status"] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            ver = {"name": v["name"], "served": v["served"], "storage": v["storage"],
                   "schema": {"openAPIV3Schema": {"type": "object", "properties": props}}}
            if v["subresources"]:
                ver["subresources"] = {s: {} for s in v["subresources"]}
            if v["printerColumns"]:
                ver["additionalPrinterColumns"] = copy.deepcopy(v["printerColumns"])
            versions.append(ver)
        spec = {"group": c["group"], "names": names, "scope": c["scope"], "versions": versions}
        if c["conversion"]:
            spec["conversion"] = {"strategy": c["conversion"]}
        out.append({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                    "metadata": {"name": c["name"], "labels": dict(c["labels"])}, "spec": spec})
    return out


def crd_names(version: str) -> list:
    return [c["name"] for c in release(version)["crds"]]


def meshconfig_storage_version(version: str) -> str:
    mc = next(c for c in release(version)["crds"] if c["name"] == "meshconfigs.config.openservicemesh.io")
    return next(v["name"] for v in mc["versions"] if v["storage"])
