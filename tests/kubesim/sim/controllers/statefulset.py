"""StatefulSet controller: ordinal pods, OrderedReady/Parallel, RollingUpdate (partition) and OnDelete,
status currentRevision/updateRevision/updatedReplicas as `kubectl rollout status` reads them."""
import logging

from . import revisions, util
from .replicaset import new_pod

log = logging.getLogger("kubesim.statefulset")
REV_LABEL = "controller-revision-hash"
STS_KIND = {"apiVersion": "apps/v1", "kind": "StatefulSet"}


def _ordinal(pod, name) -> int:
    try:
        return int(pod["metadata"]["name"][len(name) + 1:])
    except ValueError:
        return -1


class StatefulSetController:
    def __init__(self, mgr):
        self.mgr = mgr
        self.store = mgr.store
        self.cache = mgr.cache

    def reconcile(self, sts):
        md = sts["metadata"]
        if md.get("deletionTimestamp"):
            return
        name = md["name"]
        spec = sts["spec"]
        replicas = spec.get("replicas", 1)
        update_rev = f"{name}-{util.template_hash(spec.get('template'))}"
        revisions.ensure(self.mgr, sts, "StatefulSet", update_rev, spec.get("template") or {})
        old = sts.get("status") or {}
        current_rev = old.get("currentRevision") or update_rev
        pods = {_ordinal(p, name): p for p in self.cache.owned(util.GVR_POD, md["uid"]) if util.pod_active(p)}
        parallel = spec.get("podManagementPolicy") == "Parallel"
        strategy = spec.get("updateStrategy") or {}
        # scale up, in order
        for i in range(replicas):
            if i in pods:
                if not parallel and not util.pod_is_ready(pods[i]):
                    break
                continue
            rev = update_rev if strategy.get("type") == "OnDelete" or i >= self._partition(sts) else current_rev
            if rev != update_rev and current_rev == update_rev:
                rev = update_rev
            p = self._create(sts, i, rev)
            if p is not None:
                pods[i] = p
            if not parallel:
                break
        # scale down, highest first
        for i in sorted((o for o in pods if o >= replicas), reverse=True):
            if not parallel and any(not util.pod_is_ready(pods[j]) for j in pods if j < i and j < replicas):
                break
            self._delete(sts, pods.pop(i))
            if not parallel:
                break
        # rolling update: highest ordinal first, one at a time, only when all are ready
        if strategy.get("type", "RollingUpdate") == "RollingUpdate" and len(pods) == replicas and \
                all(util.pod_is_ready(p) for p in pods.values()):
            for i in sorted(pods, reverse=True):
                if i < self._partition(sts):
                    break
                if (pods[i]["metadata"].get("labels") or {}).get(REV_LABEL) != update_rev:
                    self._delete(sts, pods.pop(i))
                    break
        self._sync_status(sts, update_rev, current_rev)

    def _partition(self, sts):
        return ((sts["spec"].get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition", 0) or 0

    def _create(self, sts, i, rev):
        name = f"{sts['metadata']['name']}-{i}"
        pod = new_pod(sts, "StatefulSet", name, {REV_LABEL: rev, "statefulset.kubernetes.io/pod-name": name,
                                                 "apps.kubernetes.io/pod-index": str(i)})
        if sts["spec"].get("serviceName"):
            pod["spec"]["hostname"] = name
            pod["spec"]["subdomain"] = sts["spec"]["serviceName"]
        try:
            out = util.s_create(self.store, util.GVR_POD, pod)
        except Exception as e:  # noqa: BLE001
            log.debug("create %s: %s", name, e)
            self.mgr.later(2.0, util.GVR_STS, sts["metadata"]["uid"])
            return None
        self.cache.observe(util.GVR_POD, out)
        self._event(sts, "SuccessfulCreate", f"create Pod {name} in StatefulSet {sts['metadata']['name']} successful")
        return out

    def _delete(self, sts, pod):
        try:
            self.store.delete(util.GVR_POD, pod["metadata"]["namespace"], pod["metadata"]["name"])
        except Exception:  # noqa: BLE001
            pass
        self.cache.observe(util.GVR_POD, pod, deleted=True)
        self.mgr.mark(util.GVR_STS, util.controller_uid(pod))
        self._event(sts, "SuccessfulDelete",
                    f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} successful")

    def _sync_status(self, sts, update_rev, current_rev):
        pods = [p for p in self.cache.owned(util.GVR_POD, sts["metadata"]["uid"]) if util.pod_active(p)]
        replicas = sts["spec"].get("replicas", 1)
        updated = sum(1 for p in pods if (p["metadata"].get("labels") or {}).get(REV_LABEL) == update_rev)
        ready = sum(1 for p in pods if util.pod_is_ready(p))
        if updated == replicas and ready == replicas and len(pods) == replicas:
            current_rev = update_rev
        current = sum(1 for p in pods if (p["metadata"].get("labels") or {}).get(REV_LABEL) == current_rev)
        status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(pods),
                  "readyReplicas": ready, "currentReplicas": current, "updatedReplicas": updated,
                  "availableReplicas": ready, "currentRevision": current_rev, "updateRevision": update_rev,
                  "collisionCount": 0}
        for k in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[k]:
                del status[k]
        if status == (sts.get("status") or {}):
            return
        try:
            out = util.s_status(self.store, util.GVR_STS, sts["metadata"]["namespace"], sts["metadata"]["name"], status)
            self.cache.observe(util.GVR_STS, out)
        except Exception as e:  # noqa: BLE001
            log.debug("sts status: %s", e)

    def _event(self, sts, reason, message):
        try:
            self.store.record_event(dict(STS_KIND, metadata=sts["metadata"]), reason, message, "Normal",
                                    "statefulset-controller")
        except Exception:  # noqa: BLE001
            pass
