"""Garbage collection: dependents of deleted owners (background), foreground deletion, namespace teardown."""
import logging

from .errors import ApiException

log = logging.getLogger("kubesim.gc")


def _gvr(info):
    return (info.group, info.storage_version, info.plural)


def on_event(store, type_, info, obj, old):
    """Runs on the dispatcher for every committed change."""
    md = obj["metadata"]
    if type_ == "DELETED":
        _collect_dependents(store, md.get("uid"))
        # a dependent went away: its foreground-deleting owners may now be finished
        for ref in md.get("ownerReferences") or []:
            _maybe_finish_foreground(store, md.get("namespace", ""), ref)


def _collect_dependents(store, uid):
    if not uid:
        return
    for gr, ns, name in store.dependents(uid):
        info = store.resources.get(gr)
        if info is None:
            continue
        with store.lock:
            dep = store._get_ref(info, ns, name)
            if dep is None:
                continue
            refs = dep["metadata"].get("ownerReferences") or []
            alive = [r for r in refs if r.get("uid") != uid and _owner_alive(store, ns, r)]
        try:
            if alive:
                new = dict(dep)
                new["metadata"] = dict(dep["metadata"])
                new["metadata"]["ownerReferences"] = [r for r in refs if r.get("uid") != uid]
                store.update_ref(_gvr(info), new, check_rv=False)
            else:
                store.delete_ref(_gvr(info), ns, name, "Background")
        except ApiException:
            pass


def _owner_alive(store, ns, ref):
    group = ref.get("apiVersion", "").rpartition("/")[0]
    for info in list(store.resources.values()):
        if info.kind == ref.get("kind") and info.group == group and not info.view_of:
            o = store._get_ref(info, ns if info.namespaced else "", ref.get("name"))
            return o is not None and o["metadata"].get("uid") == ref.get("uid")
    return False


def foreground(store, info, ns, name):
    """Deletes the dependents of an owner being deleted in the foreground; finishes when none remain."""
    o = store.get_ref(_gvr(info), ns, name)
    if o is None:
        return
    deps = store.dependents(o["metadata"]["uid"])
    for gr, dns, dname in deps:
        dinfo = store.resources.get(gr)
        if dinfo is None:
            continue
        try:
            store.delete_ref(_gvr(dinfo), dns, dname, "Foreground")
        except ApiException:
            pass
    _maybe_finish_foreground_obj(store, info, o)


def _maybe_finish_foreground(store, ns, ref):
    for info in list(store.resources.values()):
        if info.kind != ref.get("kind"):
            continue
        o = store._get_ref(info, ns if info.namespaced else "", ref.get("name"))
        if o is not None and o["metadata"].get("uid") == ref.get("uid"):
            _maybe_finish_foreground_obj(store, info, o)
            return


def _maybe_finish_foreground_obj(store, info, o):
    md = o["metadata"]
    if "foregroundDeletion" not in (md.get("finalizers") or []):
        return
    if store.dependents(md["uid"]):
        return
    new = dict(o)
    new["metadata"] = dict(md)
    new["metadata"]["finalizers"] = [f for f in md["finalizers"] if f != "foregroundDeletion"]
    try:
        store.update_ref(_gvr(info), new, check_rv=False)
    except ApiException:
        pass


def finish_namespace(store, name):
    """Deletes everything in a terminating namespace; the namespace goes once nothing is left (objects with
    finalizers keep it Terminating until their controllers remove them, as on a real cluster)."""
    remaining = 0
    for info in list(store.resources.values()):
        if not info.namespaced or info.view_of:
            continue
        with store.lock:
            objs = list(store._objs.get(info.gr, {}).get(name, {}).values())
        for o in objs:
            remaining += 1
            if o["metadata"].get("deletionTimestamp"):
                continue
            try:
                store.delete_ref(_gvr(info), name, o["metadata"]["name"], "Background")
            except ApiException:
                pass
    if remaining:
        store.call_later(0.2, lambda: finish_namespace(store, name))
        return
    nsinfo = store.resources[("", "namespaces")]
    with store.lock:
        o = store._get_ref(nsinfo, "", name)
        if o is None:
            return
        new = dict(o)
        new["metadata"] = dict(o["metadata"])
        new["metadata"]["finalizers"] = []
        new["spec"] = {"finalizers": []}
        new["metadata"]["resourceVersion"] = str(store._next_rv())
        store._commit("DELETED", nsinfo, new, o)
