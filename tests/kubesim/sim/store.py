"""The object store: resources by group/resource and namespace, one resourceVersion counter, admission,
watch history and fan-out, a dispatcher thread for subscribers and timers, events and pod logs."""
import collections
import heapq
import itertools
import json
import logging
import os
import queue
import threading
import time
import uuid

from . import api_types
from .api_types import ResourceInfo, now_iso
from .errors import ApiException, already_exists, conflict, invalid, not_found  # noqa: F401 (re-exported)
from .events import core_event_to_events_v1, events_v1_to_core_event
from .selectors import parse_field_selector, parse_label_selector

log = logging.getLogger("kubesim.store")

HISTORY = int(os.environ.get("KUBESIM_WATCH_HISTORY", "20000"))


def clone(obj):
    """Deep copy of a JSON-shaped value (faster than copy.deepcopy for our dicts)."""
    return json.loads(json.dumps(obj))


class WatchEvent:
    __slots__ = ("type", "rv", "obj", "old", "gr", "ns", "cache")

    def __init__(self, type_, rv, obj, old, gr, ns):
        self.type, self.rv, self.obj, self.old, self.gr, self.ns = type_, rv, obj, old, gr, ns
        self.cache = None  # (key, serialized line) shared by all watchers of the same view


class Watcher:
    """One watch stream's queue; the store puts events in, the HTTP thread takes them out."""

    def __init__(self, gr, ns):
        self.gr = gr
        self.ns = ns
        self.q = queue.SimpleQueue()

    def put(self, ev):
        self.q.put(ev)


class Store:
    def __init__(self):
        self.lock = threading.RLock()
        self.resources = {}            # (group, plural) -> ResourceInfo
        self._objs = {}                # (group, plural) -> {ns: {name: obj}}
        self._rv = 1
        self._history = {}             # gr -> deque of WatchEvent
        self._compacted = {}           # gr -> rv below which history is gone
        self._last_change = {}         # gr -> rv of its last change
        self._watchers = collections.defaultdict(set)
        self._subscribers = []
        self._mutators = collections.defaultdict(list)
        self._validators = collections.defaultdict(list)
        self._owners = collections.defaultdict(set)   # owner uid -> {(gr, ns, name)}
        self._event_keys = {}
        self.pod_logs = {}
        self.rbac_enabled = False
        self._dq = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._timers = []
        self._seq = itertools.count()
        self.commit_hooks = []         # fn(store, type, info, obj, old), lock held: crd.py serves CRDs
        for info in api_types.builtin_resources():
            self.register(info)
        self.resources[("events.k8s.io", "events")].view_of = ("", "events")
        from . import crd
        crd.install(self)
        self._dispatcher = threading.Thread(target=self._dispatch_loop, name="kubesim-dispatcher", daemon=True)
        self._dispatcher.start()

    # ------------------------------------------------------------------ registry
    def register(self, info: ResourceInfo):
        with self.lock:
            self.resources[info.gr] = info
            self._objs.setdefault(info.gr, {})
            self._history.setdefault(info.gr, collections.deque())
            self._compacted.setdefault(info.gr, 0)

    def unregister(self, gr):
        with self.lock:
            self.resources.pop(gr, None)

    def info(self, gvr) -> ResourceInfo:
        info = self.resources.get((gvr[0], gvr[2]))
        if info is None or (gvr[1] and gvr[1] not in info.versions):
            raise ApiException(404, "NotFound", f"the server could not find the requested resource "
                                                f"({gvr[2]}.{gvr[0]}/{gvr[1]})")
        return info

    def gvr_for(self, api_version: str, kind: str):
        group, _, version = api_version.rpartition("/")
        with self.lock:
            for info in self.resources.values():
                if info.group == group and info.kind == kind and version in info.versions:
                    return (group, version, info.plural)
        raise ApiException(404, "NotFound", f'no matches for kind "{kind}" in version "{api_version}"')

    def find_resource(self, name: str):
        """kubectl-style lookup by plural, singular, short name or kind; returns ResourceInfo or None."""
        n = name.lower()
        for info in list(self.resources.values()):
            if n in (info.plural, info.singular, info.kind.lower()) or n in info.short_names:
                return info
        return None

    # ------------------------------------------------------------------ helpers
    def _storage(self, info):
        """Resolves a view resource (events.k8s.io) to the one that stores its objects."""
        if info.view_of:
            return self.resources[info.view_of]
        return info

    def _present(self, info, obj, version=None):
        """The stored object as seen through info/version (apiVersion of a CRD version, events view)."""
        if obj is None:
            return None
        if info.view_of == ("", "events"):
            return core_event_to_events_v1(obj)
        av = info.api_version(version) if version else None
        if av and obj.get("apiVersion") != av:
            obj = dict(obj)
            obj["apiVersion"] = av
        return obj

    def _next_rv(self):
        self._rv += 1
        return self._rv

    @property
    def resource_version(self) -> int:
        return self._rv

    def _bucket(self, gr, ns):
        return self._objs[gr].setdefault(ns or "", {})

    def _commit(self, type_, info, obj, old):
        """Stores obj (already carrying its new resourceVersion), records history, fans out. Lock held."""
        gr = info.gr
        md = obj["metadata"]
        ns = md.get("namespace", "")
        bucket = self._bucket(gr, ns)
        if type_ == "DELETED":
            bucket.pop(md["name"], None)
        else:
            bucket[md["name"]] = obj
        rv = int(md["resourceVersion"])
        # owner index for garbage collection
        if old is not None:
            for ref in old["metadata"].get("ownerReferences") or []:
                self._owners[ref.get("uid")].discard((gr, ns, md["name"]))
        if type_ != "DELETED":
            for ref in md.get("ownerReferences") or []:
                self._owners[ref.get("uid")].add((gr, ns, md["name"]))
        for hook in self.commit_hooks:
            hook(self, type_, info, obj, old)
        ev = WatchEvent(type_, rv, obj, old, gr, ns)
        hist = self._history[gr]
        hist.append(ev)
        if len(hist) > HISTORY:
            self._compacted[gr] = hist.popleft().rv
        self._last_change[gr] = rv
        for w in self._watchers.get(gr, ()):
            if w.ns is None or w.ns == ns:
                w.put(ev)
        with self._cond:
            self._dq.append(("event", type_, info, obj, old))
            self._cond.notify()

    # ------------------------------------------------------------------ dispatcher
    def _dispatch_loop(self):
        while True:
            with self._cond:
                while not self._dq:
                    timeout = None
                    if self._timers:
                        timeout = self._timers[0][0] - time.monotonic()
                        if timeout <= 0:
                            break
                    self._cond.wait(timeout)
                due = []
                now = time.monotonic()
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers)[2])
                item = self._dq.popleft() if self._dq else None
            for fn in due:
                self._safe(fn)
            if item is None:
                continue
            if item[0] == "call":
                self._safe(item[1])
                continue
            _, type_, info, obj, old = item
            gvr = (info.group, info.storage_version, info.plural)
            try:
                from . import gc
                gc.on_event(self, type_, info, obj, old)
            except Exception:  # noqa: BLE001 - a GC bug must not stop the dispatcher
                log.exception("gc failed")
            for cb in list(self._subscribers):
                self._safe(lambda: cb(type_, gvr, clone(obj), clone(old) if old is not None else None))

    @staticmethod
    def _safe(fn):
        try:
            fn()
        except Exception:  # noqa: BLE001
            log.exception("dispatcher callback failed")

    def subscribe(self, callback) -> None:
        with self.lock:
            self._subscribers.append(callback)

    def call_later(self, seconds: float, fn) -> None:
        with self._cond:
            heapq.heappush(self._timers, (time.monotonic() + max(0.0, seconds), next(self._seq), fn))
            self._cond.notify()

    def call_soon(self, fn) -> None:
        with self._cond:
            self._dq.append(("call", fn))
            self._cond.notify()

    def add_mutator(self, gvr, fn) -> None:
        with self.lock:
            self._mutators[(gvr[0], gvr[2])].append(fn)

    def add_validator(self, gvr, fn) -> None:
        """fn(op, obj, old) -> list of causes (validating admission)."""
        with self.lock:
            self._validators[(gvr[0], gvr[2])].append(fn)

    # ------------------------------------------------------------------ admission
    def _admit(self, info, op, obj, old):
        for fn in self._mutators.get(info.gr, ()):
            fn(op, obj, old)
        api_types.apply_defaults(info, obj, op)
        causes = []
        if info.crd is not None:
            from . import crd
            crd.default_and_prune(info, obj)
            causes += crd.validate(info, obj, old)
        else:
            causes += api_types.validate_builtin(info, obj)
        causes += api_types.validate_metadata(info, obj)
        if old is not None:
            causes += api_types.validate_update(info, obj, old)
        for fn in self._validators.get(info.gr, ()):
            causes += fn(op, obj, old) or []
        md = obj["metadata"]
        if not md.get("name"):
            causes.append({"reason": "FieldValueRequired", "message": "name or generateName is required",
                           "field": "metadata.name"})
        if causes:
            raise invalid(info.kind, md.get("name", ""), causes, info.group)

    # ------------------------------------------------------------------ reads
    def _get_ref(self, info, ns, name):
        return self._objs[info.gr].get(ns or "", {}).get(name)

    def get(self, gvr, ns, name):
        with self.lock:
            info = self.info(gvr)
            st = self._storage(info)
            obj = self._get_ref(st, ns if st.namespaced else "", name)
            return clone(self._present(info, obj, gvr[1])) if obj is not None else None

    def get_ref(self, gvr, ns, name):
        """Like get, without the copy: the caller must not mutate the result."""
        with self.lock:
            info = self.info(gvr)
            st = self._storage(info)
            return self._present(info, self._get_ref(st, ns if st.namespaced else "", name), gvr[1])

    def _iter_refs(self, st, ns):
        objs = self._objs[st.gr]
        if ns:
            return list(objs.get(ns, {}).values())
        out = []
        for b in objs.values():
            out.extend(b.values())
        return out

    def list_refs(self, gvr, ns=None, label_selector=None, field_selector=None):
        """Sorted (namespace, name) list of stored objects, not copied; plus the list resourceVersion."""
        with self.lock:
            info = self.info(gvr)
            st = self._storage(info)
            items = self._iter_refs(st, ns if st.namespaced else None)
            rv = self._rv
        lmatch = parse_label_selector(label_selector)
        fmatch = parse_field_selector(field_selector) if field_selector else None
        out = []
        for o in items:
            md = o["metadata"]
            if not lmatch(md.get("labels")):
                continue
            p = self._present(info, o, gvr[1])
            if fmatch and not fmatch(p):
                continue
            out.append(p)
        out.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return out, rv

    def list(self, gvr, ns=None, label_selector=None):
        return clone(self.list_refs(gvr, ns, label_selector)[0])

    def count(self, gvr, ns=None) -> int:
        with self.lock:
            st = self._storage(self.info(gvr))
            return len(self._iter_refs(st, ns))

    # ------------------------------------------------------------------ writes
    def _check_namespace(self, info, ns):
        if not info.namespaced:
            return
        if not ns:
            raise ApiException(400, "BadRequest", "the namespace of the provided object does not match the "
                                                  "namespace sent on the request")
        nsobj = self._objs[("", "namespaces")].get("", {}).get(ns)
        if nsobj is None:
            raise not_found("namespaces", ns)
        if nsobj["metadata"].get("deletionTimestamp"):
            raise ApiException(403, "Forbidden", f"unable to create new content in namespace {ns} because it is "
                                                 "being terminated",
                               details={"name": ns, "kind": "namespaces",
                                        "causes": [{"reason": "NamespaceTerminating"}]})

    def create(self, gvr, obj: dict, field_manager: str | None = None, dry_run: bool = False,
               copy_in: bool = True) -> dict:
        return clone(self.create_ref(gvr, obj, field_manager, dry_run, copy_in))

    def create_ref(self, gvr, obj, field_manager=None, dry_run=False, copy_in=True):
        if copy_in:
            obj = clone(obj)
        with self.lock:
            info = self.info(gvr)
            if info.view_of == ("", "events"):
                info = self.resources[("", "events")]
                obj = events_v1_to_core_event(obj)
            md = obj.setdefault("metadata", {})
            obj["apiVersion"] = info.api_version()
            obj["kind"] = info.kind
            if not info.namespaced:
                md.pop("namespace", None)
            elif not md.get("namespace"):
                md["namespace"] = "default"
            ns = md.get("namespace", "")
            if not md.get("name") and md.get("generateName"):
                for _ in range(100):
                    cand = md["generateName"] + uuid.uuid4().hex[:5]
                    if self._get_ref(info, ns, cand) is None:
                        md["name"] = cand
                        break
            self._check_namespace(info, ns)
            self._admit(info, "CREATE", obj, None)
            if self._get_ref(info, ns, md["name"]) is not None:
                raise already_exists(info.plural, md["name"], info.group)
            md["uid"] = str(uuid.uuid4())
            md["creationTimestamp"] = now_iso()
            md["generation"] = 1
            for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
                md.pop(k, None)
            if field_manager:
                from . import apply as applymod
                applymod.record_update(obj, None, field_manager, "Update", info.api_version())
            if dry_run:
                md["resourceVersion"] = str(self._rv)
                return obj
            md["resourceVersion"] = str(self._next_rv())
            self._commit("ADDED", info, obj, None)
            return self._present(self.info(gvr), obj, gvr[1])

    def update(self, gvr, obj: dict, subresource: str | None = None, field_manager: str | None = None,
               dry_run: bool = False) -> dict:
        return clone(self.update_ref(gvr, clone(obj), subresource, field_manager, dry_run))

    def update_ref(self, gvr, obj, subresource=None, field_manager=None, dry_run=False, operation="Update",
                   check_rv=True, manager_subresource=None):
        """Full replace of obj (owned by the caller, will be stored). Returns the stored object."""
        with self.lock:
            view = self.info(gvr)
            info = self._storage(view)
            if view.view_of == ("", "events"):
                obj = events_v1_to_core_event(obj)
            md = obj.setdefault("metadata", {})
            ns = md.get("namespace", "") if info.namespaced else ""
            name = md.get("name", "")
            old = self._get_ref(info, ns, name)
            if old is None:
                raise not_found(info.plural, name, info.group)
            want_rv = md.get("resourceVersion")
            if check_rv and want_rv and want_rv != old["metadata"]["resourceVersion"]:
                raise conflict(info.plural, name, info.group)
            obj["apiVersion"] = info.api_version()
            obj["kind"] = info.kind
            has_status = "status" in info.subresources
            if subresource == "status":
                new = clone(old)
                if "status" in obj:
                    new["status"] = obj["status"]
                else:
                    new.pop("status", None)
                if "managedFields" in md:   # server-side apply to /status computed them
                    new["metadata"]["managedFields"] = md["managedFields"]
                obj = new
                md = obj["metadata"]
            else:
                if has_status:
                    if "status" in old:
                        obj["status"] = clone(old["status"])
                    else:
                        obj.pop("status", None)
                omd = old["metadata"]
                for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                          "generation"):
                    if k in omd:
                        md[k] = omd[k]
                    else:
                        md.pop(k, None)
                if info.namespaced:
                    md["namespace"] = ns
                else:
                    md.pop("namespace", None)
            if "managedFields" not in md and "managedFields" in old["metadata"]:
                md["managedFields"] = clone(old["metadata"]["managedFields"])
            self._admit(info, "UPDATE", obj, old)
            # generation: bumped when anything but metadata and status changed
            if _spec_part(obj) != _spec_part(old):
                md["generation"] = old["metadata"].get("generation", 1) + 1
            else:
                md["generation"] = old["metadata"].get("generation", 1)
            if field_manager:
                from . import apply as applymod
                applymod.record_update(obj, old, field_manager, operation, info.api_version(),
                                       subresource=manager_subresource or subresource)
            md["resourceVersion"] = old["metadata"]["resourceVersion"]
            if obj == old:   # a no-op write changes nothing, not even the resourceVersion
                return self._present(view, old, gvr[1])
            if dry_run:
                return self._present(view, obj, gvr[1])
            if md.get("deletionTimestamp") and not md.get("finalizers"):
                md["resourceVersion"] = str(self._next_rv())
                self._commit("DELETED", info, obj, old)
                return self._present(view, obj, gvr[1])
            md["resourceVersion"] = str(self._next_rv())
            self._commit("MODIFIED", info, obj, old)
            return self._present(view, obj, gvr[1])

    def patch_status(self, gvr, ns, name, status: dict) -> dict:
        with self.lock:
            info = self._storage(self.info(gvr))
            old = self._get_ref(info, ns if info.namespaced else "", name)
            if old is None:
                raise not_found(info.plural, name, info.group)
            return clone(self.update_ref(gvr, {"metadata": dict(old["metadata"]), "status": clone(status)},
                                         subresource="status", check_rv=False))

    def delete(self, gvr, ns, name, propagation: str = "Background", preconditions: dict | None = None,
               dry_run: bool = False) -> dict | None:
        r = self.delete_ref(gvr, ns, name, propagation, preconditions, dry_run)
        return clone(r) if r is not None else None

    def delete_ref(self, gvr, ns, name, propagation="Background", preconditions=None, dry_run=False):
        with self.lock:
            view = self.info(gvr)
            info = self._storage(view)
            ns = ns if info.namespaced else ""
            old = self._get_ref(info, ns, name)
            if old is None:
                raise not_found(info.plural, name, info.group)
            pre = preconditions or {}
            if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
                raise conflict(info.plural, name, info.group)
            if pre.get("resourceVersion") and pre["resourceVersion"] != old["metadata"]["resourceVersion"]:
                raise conflict(info.plural, name, info.group)
            if dry_run:
                return self._present(view, old, gvr[1])
            propagation = propagation or "Background"
            obj = clone(old)
            md = obj["metadata"]
            fins = list(md.get("finalizers") or [])
            if info.gr == ("", "namespaces"):
                if not md.get("deletionTimestamp"):
                    md["deletionTimestamp"] = now_iso()
                    md["deletionGracePeriodSeconds"] = 0
                    obj.setdefault("status", {})["phase"] = "Terminating"
                    md["resourceVersion"] = str(self._next_rv())
                    self._commit("MODIFIED", info, obj, old)
                    from . import gc
                    self.call_soon(lambda: gc.finish_namespace(self, name))
                    return self._present(view, obj, gvr[1])
                return self._present(view, old, gvr[1])
            if propagation == "Foreground" and "foregroundDeletion" not in fins and \
                    self._owners.get(md["uid"]):
                fins.append("foregroundDeletion")
            if propagation == "Orphan":
                self._orphan(md["uid"])
            if fins:
                changed = fins != (md.get("finalizers") or []) or not md.get("deletionTimestamp")
                if not changed:
                    return self._present(view, old, gvr[1])
                md["finalizers"] = fins
                md.setdefault("deletionTimestamp", now_iso())
                md.setdefault("deletionGracePeriodSeconds", 0)
                md["resourceVersion"] = str(self._next_rv())
                self._commit("MODIFIED", info, obj, old)
                if "foregroundDeletion" in fins:
                    from . import gc
                    self.call_soon(lambda: gc.foreground(self, info, ns, name))
                return self._present(view, obj, gvr[1])
            md["resourceVersion"] = str(self._next_rv())
            md.setdefault("deletionTimestamp", now_iso())
            self._commit("DELETED", info, obj, old)
            return self._present(view, obj, gvr[1])

    def _orphan(self, uid):
        for gr, ns, name in list(self._owners.get(uid, ())):
            info = self.resources.get(gr)
            dep = self._get_ref(info, ns, name) if info else None
            if dep is None:
                continue
            new = clone(dep)
            new["metadata"]["ownerReferences"] = [r for r in new["metadata"].get("ownerReferences", [])
                                                  if r.get("uid") != uid]
            if not new["metadata"]["ownerReferences"]:
                del new["metadata"]["ownerReferences"]
            new["metadata"]["resourceVersion"] = str(self._next_rv())
            self._commit("MODIFIED", info, new, dep)

    def dependents(self, uid):
        with self.lock:
            return list(self._owners.get(uid, ()))

    def exists_uid(self, gr, ns, name, uid) -> bool:
        info = self.resources.get(gr)
        o = self._get_ref(info, ns, name) if info else None
        return o is not None and o["metadata"].get("uid") == uid

    # ------------------------------------------------------------------ watch
    def watch(self, gvr, ns, since_rv):
        """Registers a watcher. Returns (watcher, backlog events, gone: bool). since_rv None: from now."""
        with self.lock:
            info = self._storage(self.info(gvr))
            w = Watcher(info.gr, ns if info.namespaced else None)
            backlog = []
            if since_rv is not None:
                if since_rv < self._compacted.get(info.gr, 0):
                    return None, [], True
                for ev in self._history[info.gr]:
                    if ev.rv > since_rv and (w.ns is None or ev.ns == w.ns):
                        backlog.append(ev)
            self._watchers[info.gr].add(w)
            return w, backlog, False

    def unwatch(self, w):
        with self.lock:
            self._watchers[w.gr].discard(w)

    def last_change(self, gvr) -> int:
        with self.lock:
            info = self._storage(self.info(gvr))
            return self._last_change.get(info.gr, 0)

    def compact(self):
        """Drops all watch history (a test hook for 410 Gone)."""
        with self.lock:
            for gr, hist in self._history.items():
                hist.clear()
                self._compacted[gr] = self._rv
            self._compacted_all = self._rv

    # ------------------------------------------------------------------ events and logs
    def record_event(self, involved: dict, reason: str, message: str, type: str = "Normal",
                     component: str = "kubesim") -> None:
        md = involved.get("metadata", {})
        ns = md.get("namespace") or "default"
        key = (md.get("uid"), reason, message, type)
        now = now_iso()
        gvr = ("", "v1", "events")
        with self.lock:
            existing = self._event_keys.get(key)
            if existing:
                ev = self._get_ref(self.resources[("", "events")], ns, existing)
                if ev is not None:
                    new = clone(ev)
                    new["count"] = new.get("count", 1) + 1
                    new["lastTimestamp"] = now
                    self.update_ref(gvr, new, check_rv=False)
                    return
            name = f"{md.get('name', 'unknown')}.{uuid.uuid4().hex[:16]}"
            ev = {"metadata": {"name": name, "namespace": ns},
                  "involvedObject": {"kind": involved.get("kind"), "namespace": md.get("namespace"),
                                     "name": md.get("name"), "uid": md.get("uid"),
                                     "apiVersion": involved.get("apiVersion"),
                                     "resourceVersion": md.get("resourceVersion")},
                  "reason": reason, "message": message, "type": type,
                  "source": {"component": component}, "firstTimestamp": now, "lastTimestamp": now, "count": 1,
                  "reportingComponent": component, "reportingInstance": ""}
            if not md.get("namespace"):
                ev["involvedObject"].pop("namespace")
            try:
                self.create_ref(gvr, ev, copy_in=False)
            except ApiException:
                return
            self._event_keys[key] = name


def _spec_part(obj):
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}
