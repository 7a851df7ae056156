"""Applies a release's osm-edge CRDs to the store, as the bootstrap's `kubectl apply -f /osm-crds` does."""
from . import catalog

GVR_CRD = ("apiextensions.k8s.io", "v1", "customresourcedefinitions")


def apply_crds(store, version: str, tolerant: bool = False) -> list:
    """Brings every osm-edge CRD of the release to its definition, as `kubectl apply -f /osm-crds` would:
    creates new ones, replaces the spec of existing ones, leaves CRDs the release lacks alone.
    Returns the errors (tolerant) or raises the first."""
    errors = []
    for crd in catalog.crd_objects(version):
        try:
            cur = store.get(GVR_CRD, None, crd["metadata"]["name"])
            if cur is None:
                store.create(GVR_CRD, crd)
                continue
            cur["metadata"].setdefault("labels", {}).update(crd["metadata"]["labels"])
            cur["spec"] = crd["spec"]
            store.update(GVR_CRD, cur)
        except Exception as e:  # noqa: BLE001
            if not tolerant:
                raise
            errors.append(f"{crd['metadata']['name']}: {e}")
    return errors
