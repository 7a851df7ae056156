"""An informer-like cache of the objects the controllers own, indexed by owner uid, fed by store events
and by the controllers' own writes (write-through), so a reconcile never lists the store."""
import threading

from . import util


def _rv(obj) -> int:
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except (TypeError, ValueError):
        return 0


class Cache:
    KINDS = (util.GVR_DEPLOY, util.GVR_RS, util.GVR_STS, util.GVR_DS, util.GVR_POD)

    def __init__(self):
        self.lock = threading.RLock()
        self.objs = {g: {} for g in self.KINDS}          # gvr -> uid -> obj
        self.by_key = {g: {} for g in self.KINDS}        # gvr -> (ns, name) -> uid
        self.children = {g: {} for g in self.KINDS}      # gvr -> owner uid -> set(uid)
        self.deleted = set()                             # uids gone for good (tombstones)

    def observe(self, gvr, obj: dict, deleted: bool = False) -> bool:
        """Records obj if newer than what we hold; returns True when the cache changed."""
        if gvr not in self.objs:
            return False
        md = obj.get("metadata") or {}
        uid = md.get("uid")
        if not uid:
            return False
        with self.lock:
            objs = self.objs[gvr]
            cur = objs.get(uid)
            if deleted:
                self.deleted.add(uid)
                if cur is None:
                    return False
                self._unlink(gvr, cur)
                del objs[uid]
                return True
            if uid in self.deleted:
                return False
            if cur is not None and _rv(cur) >= _rv(obj):
                return False  # older, or our own write seen again
            if cur is not None:
                self._unlink(gvr, cur)
            objs[uid] = obj
            self.by_key[gvr][(md.get("namespace"), md.get("name"))] = uid
            owner = util.controller_uid(obj)
            if owner:
                self.children[gvr].setdefault(owner, set()).add(uid)
            return True

    def _unlink(self, gvr, obj):
        md = obj["metadata"]
        key = (md.get("namespace"), md.get("name"))
        if self.by_key[gvr].get(key) == md["uid"]:
            del self.by_key[gvr][key]
        owner = util.controller_uid(obj)
        if owner:
            kids = self.children[gvr].get(owner)
            if kids:
                kids.discard(md["uid"])
                if not kids:
                    del self.children[gvr][owner]

    def get(self, gvr, ns, name):
        with self.lock:
            uid = self.by_key[gvr].get((ns, name))
            return self.objs[gvr].get(uid) if uid else None

    def by_uid(self, gvr, uid):
        with self.lock:
            return self.objs[gvr].get(uid)

    def owned(self, gvr, owner_uid) -> list:
        with self.lock:
            return [self.objs[gvr][u] for u in self.children[gvr].get(owner_uid, ()) if u in self.objs[gvr]]

    def all(self, gvr) -> list:
        with self.lock:
            return list(self.objs[gvr].values())


_caches = {}
_caches_lock = threading.Lock()


def for_store(store) -> Cache:
    """One cache per store, shared by seeding and the controllers."""
    with _caches_lock:
        c = _caches.get(id(store))
        if c is None:
            c = _caches[id(store)] = Cache()
        return c
