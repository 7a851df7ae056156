"""The FatalInvalidCLIParameters rule: an osm-edge control-plane image run with args of another release's chart."""
from . import catalog

MISMATCH = "Please specify the init container image using --init-container-image"
COMPONENTS = {"osm-bootstrap": "bootstrap", "osm-controller": "controller", "osm-injector": "injector"}
# Flags the osm-injector binary takes that no chart passes (the guide's fix names the first).
BINARY_ONLY_FLAGS = {"injector": {"--init-container-image", "--sidecar-image"}}


def _env(container, name):
    for e in container.get("env") or []:
        if e.get("name") == name:
            return e.get("value") or (e.get("valueFrom") and "<from>")
    return None


def _checked(container: dict):
    """(component, release of its image) when the rule applies to this container, else None."""
    component = COMPONENTS.get(container.get("name", ""))
    image = container.get("image", "")
    version = catalog.version_of_image(image)
    if component is None or version is None or catalog.image_component(image) != component:
        return None
    return component, version


def _flags(container: dict) -> list:
    return catalog.flag_names(list(container.get("command") or [])[1:] + list(container.get("args") or []))


def mismatch_details(container: dict) -> dict:
    """What differs from the image's release: {"missing": [...], "unknown": [...]} (flags, sorted). Required are
    the flags of the release's rendered args; allowed, those plus the ones its template passes only under other
    values (catalog optionalFlags, the --vault-* ones) and the few the binary takes that no chart passes."""
    checked = _checked(container)
    if checked is None:
        return {"missing": [], "unknown": []}
    component, version = checked
    given = _flags(container)
    allowed = catalog.allowed_flags(version, component) | BINARY_ONLY_FLAGS.get(component, set())
    return {"missing": sorted(catalog.required_flags(version, component) - set(given)),
            "unknown": sorted({f for f in given if f not in allowed})}


def fatal_error(container: dict) -> str | None:
    """The error text the container dies with at start-up, or None when its args suit its image."""
    checked = _checked(container)
    if checked is None:
        return None
    if checked[0] == "injector" and "--init-container-image" not in _flags(container) and \
            not _env(container, "OSM_DEFAULT_INIT_CONTAINER_IMAGE"):
        return MISMATCH
    details = mismatch_details(container)
    if details["missing"] or details["unknown"]:
        # Args rendered by another release's chart than the image's: a CLI/image version mismatch, which the
        # guide shows with exactly this error whichever side is newer.
        return MISMATCH
    return None


def fatal_log_line(error: str) -> str:
    if error == MISMATCH:
        return catalog.FATAL_INIT_IMAGE_LINE
    return '{"level":"fatal","error":"%s","reason":"FatalInvalidCLIParameters"}' % error.replace('"', '\\"')
