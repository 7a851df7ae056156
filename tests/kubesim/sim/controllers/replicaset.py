"""ReplicaSet controller: keeps spec.replicas active pods and reports replicas/ready/available."""
import logging

from . import util

log = logging.getLogger("kubesim.replicaset")
RS_KIND = {"apiVersion": "apps/v1", "kind": "ReplicaSet"}


def new_pod(owner: dict, owner_kind: str, name: str, extra_labels: dict | None = None) -> dict:
    tmpl = owner["spec"].get("template") or {}
    tmd = tmpl.get("metadata") or {}
    labels = dict(tmd.get("labels") or {})
    labels.update(extra_labels or {})
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": owner["metadata"]["namespace"], "labels": labels,
                        "ownerReferences": [util.owner_ref(owner, owner_kind)]},
           "spec": util.clone(tmpl.get("spec") or {})}
    if tmd.get("annotations"):
        pod["metadata"]["annotations"] = dict(tmd["annotations"])
    return pod


def delete_rank(pod: dict):
    """Pods deleted first: unscheduled, pending, not ready, then the youngest (as the real controller ranks)."""
    st = pod.get("status") or {}
    return (1 if pod["spec"].get("nodeName") else 0,
            {"Pending": 0, "Unknown": 1, "Running": 2}.get(st.get("phase"), 0),
            1 if util.pod_is_ready(pod) else 0,
            sum(c.get("restartCount", 0) for c in st.get("containerStatuses") or []) * -1,
            # younger first: invert creation order
            "".join(chr(255 - ord(ch)) for ch in pod["metadata"].get("creationTimestamp", "")))


def pod_available(pod: dict, min_ready: int, now: float) -> bool:
    if not util.pod_is_ready(pod):
        return False
    if min_ready <= 0:
        return True
    for c in pod["status"].get("conditions") or []:
        if c.get("type") == "Ready":
            return util.parse_time(c["lastTransitionTime"]) + min_ready <= now
    return False


class ReplicaSetController:
    def __init__(self, mgr):
        self.mgr = mgr
        self.store = mgr.store
        self.cache = mgr.cache

    def reconcile(self, rs: dict):
        md = rs["metadata"]
        if md.get("deletionTimestamp"):
            return
        uid = md["uid"]
        pods = [p for p in self.cache.owned(util.GVR_POD, uid) if util.pod_active(p)]
        want = rs["spec"].get("replicas", 1)
        diff = len(pods) - want
        if diff < 0:
            for _ in range(-diff):
                self._create_pod(rs)
        elif diff > 0:
            for pod in sorted(pods, key=delete_rank)[:diff]:
                self._delete_pod(rs, pod)
        self.sync_status(rs)

    def _create_pod(self, rs):
        for _ in range(5):
            name = f"{rs['metadata']['name']}-{util.rand_suffix()}"
            try:
                pod = util.s_create(self.store, util.GVR_POD, new_pod(rs, "ReplicaSet", name))
            except Exception as e:  # noqa: BLE001
                if getattr(e, "code", None) == 409:
                    continue
                log.info("create pod for %s: %s", rs["metadata"]["name"], e)
                self._event(rs, "FailedCreate", f"Error creating: {getattr(e, 'message', e)}", "Warning")
                self.mgr.later(2.0, util.GVR_RS, rs["metadata"]["uid"])  # the real controller retries too
                return
            self.cache.observe(util.GVR_POD, pod)
            self._event(rs, "SuccessfulCreate", f"Created pod: {name}")
            return

    def _delete_pod(self, rs, pod):
        md = pod["metadata"]
        try:
            gone = self.store.delete(util.GVR_POD, md["namespace"], md["name"])
        except Exception as e:  # noqa: BLE001 - already gone
            log.debug("delete pod %s: %s", md["name"], e)
            gone = None
        if gone is None or not (gone.get("metadata") or {}).get("finalizers"):
            self.cache.observe(util.GVR_POD, pod, deleted=True)
        else:
            self.cache.observe(util.GVR_POD, gone)
        self._event(rs, "SuccessfulDelete", f"Deleted pod: {md['name']}")

    def sync_status(self, rs):
        import time
        now = time.time()
        pods = [p for p in self.cache.owned(util.GVR_POD, rs["metadata"]["uid"]) if util.pod_active(p)]
        min_ready = rs["spec"].get("minReadySeconds", 0) or 0
        sel_labels = (rs["spec"].get("template") or {}).get("metadata", {}).get("labels") or {}
        ready = sum(1 for p in pods if util.pod_is_ready(p))
        avail = sum(1 for p in pods if pod_available(p, min_ready, now))
        if min_ready and ready > avail:
            self.mgr.later(min_ready, util.GVR_RS, rs["metadata"]["uid"])
        status = {"replicas": len(pods),
                  "fullyLabeledReplicas": sum(1 for p in pods if all(
                      (p["metadata"].get("labels") or {}).get(k) == v for k, v in sel_labels.items())),
                  "readyReplicas": ready, "availableReplicas": avail,
                  "observedGeneration": rs["metadata"].get("generation", 1)}
        if not ready:
            del status["readyReplicas"]
        if not avail:
            del status["availableReplicas"]
        if status == (rs.get("status") or {}):
            return
        try:
            new = util.s_status(self.store, util.GVR_RS, rs["metadata"]["namespace"], rs["metadata"]["name"], status)
        except Exception as e:  # noqa: BLE001
            log.debug("rs status %s: %s", rs["metadata"]["name"], e)
            return
        self.cache.observe(util.GVR_RS, new)
        owner = util.controller_uid(new)
        if owner:
            self.mgr.mark(util.GVR_DEPLOY, owner)

    def _event(self, rs, reason, message, type_="Normal"):
        try:
            self.store.record_event(dict(RS_KIND, metadata=rs["metadata"]), reason, message, type_,
                                    "replicaset-controller")
        except Exception:  # noqa: BLE001
            pass
