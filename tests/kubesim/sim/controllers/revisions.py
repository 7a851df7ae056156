"""ControllerRevisions of StatefulSets and DaemonSets, which `kubectl rollout history/undo` read."""
import logging

from . import util

log = logging.getLogger("kubesim.revisions")


def ensure(mgr, owner: dict, kind: str, name: str, template: dict) -> int:
    """Makes the ControllerRevision `name` (holding `template`) the newest of owner; returns its revision."""
    store = mgr.store
    md = owner["metadata"]
    try:
        revs = [r for r in store.list_refs(util.GVR_CR, md["namespace"])[0]
                if any(ref.get("uid") == md["uid"] for ref in r["metadata"].get("ownerReferences") or [])] \
            if hasattr(store, "list_refs") else \
            [r for r in store.list(util.GVR_CR, md["namespace"])
             if any(ref.get("uid") == md["uid"] for ref in r["metadata"].get("ownerReferences") or [])]
    except Exception as e:  # noqa: BLE001 - the store may not serve ControllerRevisions
        log.debug("controllerrevisions: %s", e)
        return 0
    top = max([r.get("revision", 0) for r in revs] or [0])
    mine = next((r for r in revs if r["metadata"]["name"] == name), None)
    if mine is not None:
        if mine.get("revision", 0) == top:
            return top
        new = util.clone(mine)
        new["revision"] = top + 1
        try:
            util.s_update(store, util.GVR_CR, new)
        except Exception as e:  # noqa: BLE001
            log.debug("controllerrevision %s: %s", name, e)
        return top + 1
    tmpl = util.clone(template)
    tmpl["$patch"] = "replace"
    labels = dict((template.get("metadata") or {}).get("labels") or {})
    cr = {"apiVersion": "apps/v1", "kind": "ControllerRevision",
          "metadata": {"name": name, "namespace": md["namespace"], "labels": labels,
                       "ownerReferences": [util.owner_ref(owner, kind)]},
          "data": {"spec": {"template": tmpl}}, "revision": top + 1}
    try:
        util.s_create(store, util.GVR_CR, cr)
    except Exception as e:  # noqa: BLE001
        log.debug("controllerrevision %s: %s", name, e)
    return top + 1
