"""Wires the controllers to the store: one event callback, a dirty set flushed once per dispatcher turn."""
import logging
import os

from . import cache as cache_mod
from . import util

log = logging.getLogger("kubesim.controllers")


class Manager:
    def __init__(self, store, ready_delay: float, node_cpu: float):
        from .daemonset import DaemonSetController
        from .deployment import DeploymentController
        from .pods import PodLifecycle, Scheduler
        from .replicaset import ReplicaSetController
        from .statefulset import StatefulSetController
        self.store = store
        self.ready_delay = float(ready_delay)
        self.cache = cache_mod.for_store(store)
        self.scheduler = Scheduler(float(node_cpu))
        # Per-container kubelet events (Pulled/Created/Started); off with KUBESIM_CONTAINER_EVENTS=0 for benchmarks.
        self.container_events = os.environ.get("KUBESIM_CONTAINER_EVENTS", "1") != "0"
        self.pods = PodLifecycle(self)
        self.deployments = DeploymentController(self)
        self.replicasets = ReplicaSetController(self)
        self.statefulsets = StatefulSetController(self)
        self.daemonsets = DaemonSetController(self)
        self._dirty = {}          # (gvr, uid) -> None, insertion-ordered
        self._flush_scheduled = False
        self._soon = []

    def start(self):
        from ..mesh import injector
        injector.install(self.store)
        self.store.add_mutator(util.GVR_POD, self.scheduler.admit)
        # Objects stored before we subscribed (seeding) are known through the shared cache or a first list.
        list_refs = getattr(self.store, "list_refs", None)
        for gvr in self.cache.KINDS:
            # read-only references are enough: the controllers never change cached objects in place
            objs = list_refs(gvr)[0] if list_refs else self.store.list(gvr)
            for obj in objs:
                self.cache.observe(gvr, obj)
        for pod in self.cache.all(util.GVR_POD):
            if pod["spec"].get("nodeName") and util.pod_active(pod):
                self.scheduler.account((pod["metadata"]["namespace"], pod["metadata"]["name"]),
                                       util.pod_cpu_request(pod))
        try:
            # read-only references when the store offers them: we never change what we are given
            self.store.subscribe(self.on_event, copy=False)
        except TypeError:
            self.store.subscribe(self.on_event)
        for gvr in (util.GVR_DEPLOY, util.GVR_RS, util.GVR_STS, util.GVR_DS):
            for obj in self.cache.all(gvr):
                self.mark(gvr, obj["metadata"]["uid"])
        for pod in self.cache.all(util.GVR_POD):
            self.pods.on_event("ADDED", pod, None)

    # ------------------------------------------------------------------ events
    def on_event(self, type_, gvr, obj, old):
        gvr = (gvr[0], "v1", gvr[2]) if gvr[0] in ("", "apps") else gvr
        if gvr not in self.cache.objs:
            return
        deleted = type_ == "DELETED"
        changed = self.cache.observe(gvr, obj, deleted=deleted)
        uid = obj["metadata"]["uid"]
        owner = util.controller_uid(obj)
        if gvr == util.GVR_POD:
            self.pods.on_event(type_, obj, old)
            if changed:
                self.mark_owner(obj)
            return
        if not changed:
            return  # our own write, already acted upon where it was made
        if gvr == util.GVR_RS and owner:
            self.mark(util.GVR_DEPLOY, owner)
        if not deleted:
            self.mark(gvr, uid)

    def mark_owner(self, obj):
        owner = util.controller_uid(obj)
        if owner:
            for ogvr in (util.GVR_RS, util.GVR_STS, util.GVR_DS):
                if self.cache.by_uid(ogvr, owner) is not None:
                    self.mark(ogvr, owner)
                    return

    def mark(self, gvr, uid):
        self._dirty[(gvr, uid)] = None
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.store.call_soon(self.flush)

    def soon(self, fn):
        if fn not in self._soon:
            self._soon.append(fn)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.store.call_soon(self.flush)

    def flush(self):
        self._flush_scheduled = False
        soon, self._soon = self._soon, []
        for fn in soon:
            self._run(fn)
        dirty, self._dirty = self._dirty, {}
        # Children before parents: ReplicaSets settle their pods, then Deployments read their status.
        order = {util.GVR_RS: 0, util.GVR_STS: 1, util.GVR_DS: 1, util.GVR_DEPLOY: 2}
        for gvr, uid in sorted(dirty, key=lambda k: order.get(k[0], 3)):
            obj = self.cache.by_uid(gvr, uid)
            if obj is None:
                continue
            ctl = {util.GVR_DEPLOY: self.deployments, util.GVR_RS: self.replicasets,
                   util.GVR_STS: self.statefulsets, util.GVR_DS: self.daemonsets}.get(gvr)
            if ctl is not None:
                self._run(lambda: ctl.reconcile(obj))

    @staticmethod
    def _run(fn):
        try:
            fn()
        except Exception:  # noqa: BLE001 - one object's failure must not stop the others
            log.exception("controller failed")

    def later_call(self, seconds, fn):
        self.store.call_later(seconds, lambda: self.soon(fn))

    def later(self, seconds, gvr, uid):
        self.store.call_later(seconds, lambda: self.mark(gvr, uid))

    def pod_ready(self, pod):
        from .. import mesh
        try:
            mesh.on_pod_ready(self.store, pod)
        except Exception:  # noqa: BLE001
            log.exception("mesh effect of a Ready pod failed")
