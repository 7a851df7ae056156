"""The simulated osm-edge mesh: release catalog, seeding, injector, bootstrap CRD effect, CLI checks."""
import fnmatch

from . import catalog
from . import seed as _seed_module  # sim/mesh/seed.py; the name `seed` below is the function

VERSIONS = catalog.VERSIONS  # the releases --mesh accepts (a leading "v" is optional)
extra_images: set = set()  # --extra-image values: accepted and ignored (every image pulls unless said otherwise)
unpullable_images: list = []  # --unpullable-image shell patterns: matching images fail to pull


def parse_meshes(meshes) -> list:
    """--mesh values -> [(version, namespace, mesh name)]; ValueError for a bad one (see seed.parse_mesh)."""
    return _seed_module.parse_meshes(meshes)


def seed(store, meshes, workloads: int = 0, namespaces: int = 1, replicas: int = 1) -> None:
    """meshes: a --mesh value VERSION[@NAMESPACE], or a list of them (each mesh in its own namespace)."""
    _seed_module.seed(store, meshes, workloads, namespaces, replicas)


def image_known(image: str) -> bool:
    """Whether the image pulls, as from a real registry: every image does, except tags of osm-edge's own
    repositories that no osm-edge release published, and images matching an --unpullable-image pattern.
    Tags ending -crashloop / -notready pull (then misbehave), also in osm-edge's repositories."""
    if not image:
        return False
    if any(fnmatch.fnmatchcase(image, p) for p in unpullable_images):
        return False
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    if tag.endswith("-crashloop") or tag.endswith("-notready"):
        return True
    return not catalog.unpublished_osm_edge_image(image)


def crash_log(pod: dict, container: dict) -> str | None:
    """The log line of a container that crash-loops at start, or None when it runs."""
    from . import cli_check
    image = container.get("image", "")
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    if tag.endswith("-crashloop"):
        return f'{{"level":"fatal","error":"simulated crash of {container.get("name")}","reason":"CrashLoop"}}'
    err = cli_check.fatal_error(container)
    return cli_check.fatal_log_line(err) if err else None


def on_pod_ready(store, pod: dict) -> None:
    """Mesh effects of a pod turning Ready (the osm-bootstrap CRD update)."""
    from . import bootstrap
    bootstrap.on_pod_ready(store, pod)
