"""The FatalInvalidCLIParameters rule: an osm-edge control-plane image run with args of another release's chart."""
from . import catalog

MISMATCH = "Please specify the init container image using --init-container-image"
COMPONENTS = {"osm-bootstrap": "bootstrap", "osm-controller": "controller", "osm-injector": "injector"}


def _env(container, name):
    for e in container.get("env") or []:
        if e.get("name") == name:
            return e.get("value") or (e.get("valueFrom") and "<from>")
    return None


def fatal_error(container: dict) -> str | None:
    """The error text the container dies with at start-up, or None when its args suit its image."""
    component = COMPONENTS.get(container.get("name", ""))
    image = container.get("image", "")
    version = catalog.version_of_image(image)
    if component is None or version is None or catalog.image_component(image) != component:
        return None
    given = catalog.flag_names(list(container.get("command") or [])[1:] + list(container.get("args") or []))
    if component == "injector" and "--init-container-image" not in given and \
            not _env(container, "OSM_DEFAULT_INIT_CONTAINER_IMAGE"):
        return MISMATCH
    missing = [f for f in catalog.container_args(version, component) if f.startswith("--")
               and f.split("=", 1)[0] not in given]
    unknown = [f for f in given if f not in catalog.allowed_flags(version, component)]
    if missing or unknown:
        # Args rendered by another release's chart than the image's: a CLI/image version mismatch, which the
        # guide shows with exactly this error whichever side is newer.
        return MISMATCH
    return None


def mismatch_details(container: dict) -> dict:
    """What differs, for people reading the simulator's code or logs: {"missing": [...], "unknown": [...]}."""
    component = COMPONENTS.get(container.get("name", ""))
    version = catalog.version_of_image(container.get("image", ""))
    if component is None or version is None:
        return {"missing": [], "unknown": []}
    given = catalog.flag_names(list(container.get("args") or []))
    return {"missing": sorted(catalog.required_flags(version, component) - set(given)),
            "unknown": sorted(f for f in given if f not in catalog.allowed_flags(version, component))}


def fatal_log_line(error: str) -> str:
    if error == MISMATCH:
        return catalog.FATAL_INIT_IMAGE_LINE
    return '{"level":"fatal","error":"%s","reason":"FatalInvalidCLIParameters"}' % error.replace('"', '\\"')
