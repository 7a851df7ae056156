"""The simulated osm-edge mesh: release catalog, seeding, injector, bootstrap CRD effect, CLI checks."""
from . import catalog
from . import seed as _seed_module  # sim/mesh/seed.py; the name `seed` below is the function

VERSIONS = catalog.VERSIONS  # the releases --mesh accepts (a leading "v" is optional)
extra_images: set = set()  # images passed with --extra-image (SIM-CORE fills it); they pull like known ones


def seed(store, version, workloads: int = 0, namespaces: int = 1, replicas: int = 1) -> None:
    _seed_module.seed(store, version, workloads, namespaces, replicas)


def image_known(image: str) -> bool:
    """Pulls succeed for catalog images, --extra-image ones and tags ending -crashloop / -notready."""
    if not image:
        return False
    if image in catalog.KNOWN_IMAGES or image in extra_images:
        return True
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
    return tag.endswith("-crashloop") or tag.endswith("-notready")


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
