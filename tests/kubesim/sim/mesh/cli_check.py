"""The FatalInvalidCLIParameters rule: a control-plane container whose osm-edge image needs flags its args lack."""
from . import catalog

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
        return "Please specify the init container image using --init-container-image"
    missing = [f for f in catalog.container_args(version, component) if f.startswith("--")
               and f.split("=", 1)[0] not in given]
    if missing:
        # The guide's words: every flag this image needs but was not given is reported as the missing init
        # container image, which is what a CLI/image version mismatch looks like in the field.
        return "Please specify the init container image using --init-container-image"
    unknown = [f for f in given if f not in catalog.allowed_flags(version, component)]
    if unknown:
        return f"unknown flag: {unknown[0]}"
    return None


def fatal_log_line(error: str) -> str:
    if error == "Please specify the init container image using --init-container-image":
        return catalog.FATAL_INIT_IMAGE_LINE
    return '{"level":"fatal","error":"%s","reason":"FatalInvalidCLIParameters"}' % error.replace('"', '\\"')
