"""DaemonSet controller: one pod on the single node, RollingUpdate (maxUnavailable/maxSurge) or OnDelete."""
import logging

from . import revisions, util
from .replicaset import new_pod

log = logging.getLogger("kubesim.daemonset")
REV_LABEL = "controller-revision-hash"
DS_KIND = {"apiVersion": "apps/v1", "kind": "DaemonSet"}


class DaemonSetController:
    def __init__(self, mgr):
        self.mgr = mgr
        self.store = mgr.store
        self.cache = mgr.cache

    def reconcile(self, ds):
        md = ds["metadata"]
        if md.get("deletionTimestamp"):
            return
        rev = util.template_hash(ds["spec"].get("template"))
        revisions.ensure(self.mgr, ds, "DaemonSet", f"{md['name']}-{rev}", ds["spec"].get("template") or {})
        pods = [p for p in self.cache.owned(util.GVR_POD, md["uid"]) if util.pod_active(p)]
        new = [p for p in pods if (p["metadata"].get("labels") or {}).get(REV_LABEL) == rev]
        old = [p for p in pods if p not in new]
        strategy = ds["spec"].get("updateStrategy") or {}
        surge = util.resolve_int_or_percent(((strategy.get("rollingUpdate") or {}).get("maxSurge") or 0), 1, True)
        if not pods:
            self._create(ds, rev)
        elif strategy.get("type", "RollingUpdate") == "RollingUpdate" and old:
            if surge > 0:
                if not new:
                    self._create(ds, rev)
                elif all(util.pod_is_ready(p) for p in new):
                    for p in old:
                        self._delete(ds, p)
            else:
                for p in old:
                    self._delete(ds, p)
                if not new:
                    self._create(ds, rev)
        for p in new[1:]:
            self._delete(ds, p)
        self._sync_status(ds, rev)

    def _create(self, ds, rev):
        name = f"{ds['metadata']['name']}-{util.rand_suffix()}"
        pod = new_pod(ds, "DaemonSet", name, {REV_LABEL: rev,
                                               "pod-template-generation": str(ds["metadata"].get("generation", 1))})
        try:
            out = util.s_create(self.store, util.GVR_POD, pod)
        except Exception as e:  # noqa: BLE001
            log.debug("create %s: %s", name, e)
            self.mgr.later(2.0, util.GVR_DS, ds["metadata"]["uid"])
            return
        self.cache.observe(util.GVR_POD, out)
        self._event(ds, "SuccessfulCreate", f"Created pod: {name}")

    def _delete(self, ds, pod):
        try:
            self.store.delete(util.GVR_POD, pod["metadata"]["namespace"], pod["metadata"]["name"])
        except Exception:  # noqa: BLE001
            pass
        self.cache.observe(util.GVR_POD, pod, deleted=True)
        self.mgr.mark(util.GVR_DS, util.controller_uid(pod))
        self._event(ds, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")

    def _sync_status(self, ds, rev):
        pods = [p for p in self.cache.owned(util.GVR_POD, ds["metadata"]["uid"]) if util.pod_active(p)]
        ready = sum(1 for p in pods if util.pod_is_ready(p))
        updated = sum(1 for p in pods if (p["metadata"].get("labels") or {}).get(REV_LABEL) == rev)
        status = {"currentNumberScheduled": min(1, len(pods)), "desiredNumberScheduled": 1,
                  "numberMisscheduled": 0, "numberReady": min(1, ready),
                  "observedGeneration": ds["metadata"].get("generation", 1),
                  "updatedNumberScheduled": min(1, updated), "numberAvailable": min(1, ready)}
        if not ready:
            del status["numberAvailable"]
            status["numberUnavailable"] = 1
        if not updated:
            del status["updatedNumberScheduled"]
        if status == (ds.get("status") or {}):
            return
        try:
            out = util.s_status(self.store, util.GVR_DS, ds["metadata"]["namespace"], ds["metadata"]["name"], status)
            self.cache.observe(util.GVR_DS, out)
        except Exception as e:  # noqa: BLE001
            log.debug("ds status: %s", e)

    def _event(self, ds, reason, message):
        try:
            self.store.record_event(dict(DS_KIND, metadata=ds["metadata"]), reason, message, "Normal",
                                    "daemonset-controller")
        except Exception:  # noqa: BLE001
            pass
