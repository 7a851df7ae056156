"""Deployment controller: ReplicaSet per pod template, rolling update / recreate, status and conditions
as `kubectl rollout status` reads them (observedGeneration, replicas, Progressing, Available)."""
import logging
import time

from . import util

log = logging.getLogger("kubesim.deployment")
DEPLOY_KIND = {"apiVersion": "apps/v1", "kind": "Deployment"}
_SKIP_ANN = {"kubectl.kubernetes.io/last-applied-configuration", util.REVISION_ANN,
             "deployment.kubernetes.io/revision-history", "deployment.kubernetes.io/desired-replicas",
             "deployment.kubernetes.io/max-replicas"}


def _rev(rs) -> int:
    try:
        return int((rs["metadata"].get("annotations") or {}).get(util.REVISION_ANN, "0"))
    except ValueError:
        return 0


def _spec_replicas(rs) -> int:
    return rs["spec"].get("replicas", 0) or 0


def _status(rs, key) -> int:
    return (rs.get("status") or {}).get(key, 0) or 0


class DeploymentController:
    def __init__(self, mgr):
        self.mgr = mgr
        self.store = mgr.store
        self.cache = mgr.cache

    # ------------------------------------------------------------------ reconcile
    def reconcile(self, d: dict):
        d = dict(d)  # cached objects are shared: only this shallow copy's top level is ever replaced
        md = d["metadata"]
        if md.get("deletionTimestamp"):
            return
        spec = d["spec"]
        replicas = spec.get("replicas", 1)
        rss = [r for r in self.cache.owned(util.GVR_RS, md["uid"]) if not r["metadata"].get("deletionTimestamp")]
        want_tmpl = util.strip_hash(spec.get("template"))
        new_rs = None
        for r in sorted(rss, key=_rev, reverse=True):
            if util.strip_hash(r["spec"].get("template")) == want_tmpl:
                new_rs = r
                break
        olds = [r for r in rss if r is not new_rs]
        max_old_rev = max([_rev(r) for r in olds] or [0])
        created = False
        if spec.get("paused"):
            if new_rs is not None and not olds and _spec_replicas(new_rs) != replicas:
                new_rs = self._scale(d, new_rs, replicas)
            self._sync_status(d, new_rs, olds, created=False)
            return
        if new_rs is None:
            new_rs = self._create_rs(d, max_old_rev + 1, olds)
            if new_rs is None:
                return
            created = True
        elif _rev(new_rs) <= max_old_rev:
            new_rs = self._set_revision(new_rs, max_old_rev + 1)  # rollout undo: the old template is newest
        self._set_deploy_revision(d, _rev(new_rs))
        strategy = (spec.get("strategy") or {}).get("type", "RollingUpdate")
        if strategy == "Recreate":
            new_rs = self._recreate(d, new_rs, olds, replicas)
        else:
            new_rs = self._rolling(d, new_rs, olds, replicas)
        self._cleanup(d, olds)
        self._sync_status(d, new_rs, olds, created)

    def _create_rs(self, d, revision, olds):
        md = d["metadata"]
        tmpl = util.clone(d["spec"]["template"])
        h = util.template_hash(tmpl)
        tmpl.setdefault("metadata", {}).setdefault("labels", {})[util.HASH_LABEL] = h
        sel = util.clone(d["spec"]["selector"])
        sel.setdefault("matchLabels", {})[util.HASH_LABEL] = h
        replicas = d["spec"].get("replicas", 1)
        surge = self._surge(d, replicas)
        ann = {k: v for k, v in (md.get("annotations") or {}).items() if k not in _SKIP_ANN}
        ann.update({util.REVISION_ANN: str(revision), "deployment.kubernetes.io/desired-replicas": str(replicas),
                    "deployment.kubernetes.io/max-replicas": str(replicas + surge)})
        rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
              "metadata": {"name": f"{md['name']}-{h}", "namespace": md["namespace"],
                           "labels": dict(tmpl["metadata"]["labels"]), "annotations": ann,
                           "ownerReferences": [util.owner_ref(d, "Deployment")]},
              "spec": {"replicas": 0, "minReadySeconds": d["spec"].get("minReadySeconds", 0),
                       "selector": sel, "template": tmpl}}
        old_total = sum(_spec_replicas(o) for o in olds)
        if not old_total:
            rs["spec"]["replicas"] = replicas
        elif (d["spec"].get("strategy") or {}).get("type") != "Recreate":
            rs["spec"]["replicas"] = max(0, min(replicas, replicas + surge - old_total))
        try:
            new = util.s_create(self.store, util.GVR_RS, rs)
        except Exception as e:  # noqa: BLE001
            if getattr(e, "code", None) == 409:
                new = self.store.get(util.GVR_RS, md["namespace"], rs["metadata"]["name"])
                if new is None or util.controller_uid(new) != md["uid"]:
                    log.info("replicaset name %s taken", rs["metadata"]["name"])
                    return None
                self.cache.observe(util.GVR_RS, new)
                return new
            log.info("create replicaset for %s: %s", md["name"], e)
            return None
        self.cache.observe(util.GVR_RS, new)
        self.mgr.mark(util.GVR_RS, new["metadata"]["uid"])
        if new["spec"]["replicas"]:
            self._event(d, "ScalingReplicaSet",
                        f"Scaled up replica set {new['metadata']['name']} from 0 to {new['spec']['replicas']}")
        return new

    def _set_revision(self, rs, revision):
        new = util.clone(rs)
        new["metadata"].setdefault("annotations", {})[util.REVISION_ANN] = str(revision)
        return self._update_rs(new) or rs

    def _set_deploy_revision(self, d, revision):
        ann = d["metadata"].get("annotations") or {}
        if ann.get(util.REVISION_ANN) == str(revision):
            return
        new = util.clone(d)
        new["metadata"].setdefault("annotations", {})[util.REVISION_ANN] = str(revision)
        try:
            out = util.s_update(self.store, util.GVR_DEPLOY, new)
        except Exception as e:  # noqa: BLE001 - a concurrent writer: its event brings us back
            log.debug("deployment revision %s: %s", d["metadata"]["name"], e)
            return
        self.cache.observe(util.GVR_DEPLOY, out)
        d["metadata"] = out["metadata"]  # the reconcile's own shallow copy

    def _update_rs(self, rs):
        try:
            out = util.s_update(self.store, util.GVR_RS, rs)
        except Exception as e:  # noqa: BLE001
            log.debug("replicaset %s: %s", rs["metadata"]["name"], e)
            return None
        self.cache.observe(util.GVR_RS, out)
        return out

    def _scale(self, d, rs, to):
        frm = _spec_replicas(rs)
        if frm == to:
            return rs
        new = util.clone(rs)
        new["spec"]["replicas"] = to
        ann = new["metadata"].setdefault("annotations", {})
        replicas = d["spec"].get("replicas", 1)
        ann["deployment.kubernetes.io/desired-replicas"] = str(replicas)
        ann["deployment.kubernetes.io/max-replicas"] = str(replicas + self._surge(d, replicas))
        out = self._update_rs(new)
        if out is None:
            return rs
        self._event(d, "ScalingReplicaSet",
                    f"Scaled {'up' if to > frm else 'down'} replica set {rs['metadata']['name']} from {frm} to {to}")
        self.mgr.mark(util.GVR_RS, out["metadata"]["uid"])
        return out

    # ------------------------------------------------------------------ strategies
    def _surge(self, d, replicas):
        ru = ((d["spec"].get("strategy") or {}).get("rollingUpdate") or {})
        if (d["spec"].get("strategy") or {}).get("type") == "Recreate":
            return 0
        return util.resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)

    def _max_unavailable(self, d, replicas):
        st = d["spec"].get("strategy") or {}
        if st.get("type") == "Recreate" or replicas == 0:
            return 0
        ru = st.get("rollingUpdate") or {}
        surge = util.resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
        unavail = util.resolve_int_or_percent(ru.get("maxUnavailable", "25%"), replicas, False)
        if surge == 0 and unavail == 0:
            unavail = 1
        return min(unavail, replicas)

    def _recreate(self, d, new_rs, olds, replicas):
        active_olds = [o for o in olds if _spec_replicas(o) > 0]
        for o in active_olds:
            self._scale(d, o, 0)
        if any(_status(o, "replicas") for o in olds) or active_olds:
            return new_rs
        return self._scale(d, new_rs, replicas)

    def _rolling(self, d, new_rs, olds, replicas):
        surge = self._surge(d, replicas)
        max_unavail = self._max_unavailable(d, replicas)
        # scale up the new ReplicaSet within maxSurge
        total = _spec_replicas(new_rs) + sum(_spec_replicas(o) for o in olds)
        if not any(_spec_replicas(o) for o in olds):
            target = replicas
        elif _spec_replicas(new_rs) >= replicas:
            target = replicas
        else:
            room = replicas + surge - total
            target = _spec_replicas(new_rs) + max(0, min(room, replicas - _spec_replicas(new_rs)))
        if target != _spec_replicas(new_rs):
            new_rs = self._scale(d, new_rs, target)
        # scale down old ReplicaSets within maxUnavailable
        olds_active = [o for o in olds if _spec_replicas(o) > 0]
        if not olds_active:
            return new_rs
        all_pods = _spec_replicas(new_rs) + sum(_spec_replicas(o) for o in olds_active)
        min_available = replicas - max_unavail
        new_unavailable = _spec_replicas(new_rs) - _status(new_rs, "availableReplicas")
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return new_rs
        # first the old pods that are not available anyway
        for o in sorted(olds_active, key=_rev):
            if max_scaled_down <= 0:
                break
            unhealthy = _spec_replicas(o) - _status(o, "availableReplicas")
            if unhealthy <= 0:
                continue
            n = min(unhealthy, max_scaled_down)
            o2 = self._scale(d, o, _spec_replicas(o) - n)
            max_scaled_down -= n
            olds_active[olds_active.index(o)] = o2
        available = _status(new_rs, "availableReplicas") + sum(_status(o, "availableReplicas") for o in olds_active)
        budget = min(max_scaled_down, available - min_available)
        for o in sorted(olds_active, key=_rev):
            if budget <= 0:
                break
            n = min(_spec_replicas(o), budget)
            if n > 0:
                self._scale(d, o, _spec_replicas(o) - n)
                budget -= n
        return new_rs

    def _cleanup(self, d, olds):
        limit = d["spec"].get("revisionHistoryLimit", 10)
        if limit is None:
            return
        dead = [o for o in olds if _spec_replicas(o) == 0 and _status(o, "replicas") == 0
                and (self.cache.by_uid(util.GVR_RS, o["metadata"]["uid"]) is not None)]
        extra = len(dead) - limit
        for o in sorted(dead, key=_rev)[:max(0, extra)]:
            try:
                self.store.delete(util.GVR_RS, o["metadata"]["namespace"], o["metadata"]["name"])
                self.cache.observe(util.GVR_RS, o, deleted=True)
            except Exception:  # noqa: BLE001
                pass

    # ------------------------------------------------------------------ status
    def _sync_status(self, d, new_rs, olds, created):
        md = d["metadata"]
        spec = d["spec"]
        replicas = spec.get("replicas", 1)
        # re-read: scaling above changed them
        rss = [r for r in self.cache.owned(util.GVR_RS, md["uid"])]
        new_rs = self.cache.by_uid(util.GVR_RS, new_rs["metadata"]["uid"]) if new_rs else None
        old = d.get("status") or {}
        total = sum(_status(r, "replicas") for r in rss)
        updated = _status(new_rs, "replicas") if new_rs else 0
        ready = sum(_status(r, "readyReplicas") for r in rss)
        available = sum(_status(r, "availableReplicas") for r in rss)
        status = {"observedGeneration": md.get("generation", 1), "replicas": total, "updatedReplicas": updated,
                  "readyReplicas": ready, "availableReplicas": available,
                  "unavailableReplicas": max(0, replicas - available)}
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"):
            if not status[k]:
                del status[k]
        if "collisionCount" in old:
            status["collisionCount"] = old["collisionCount"]
        conds = {c["type"]: dict(c) for c in old.get("conditions") or []}
        ts = util.now()

        def set_cond(ctype, cstatus, reason, message, refresh=False):
            cur = conds.get(ctype)
            if cur and cur.get("status") == cstatus and cur.get("reason") == reason and not refresh:
                if cur.get("message") != message:
                    cur["message"] = message
                return
            conds[ctype] = {"type": ctype, "status": cstatus, "lastUpdateTime": ts,
                            "lastTransitionTime": cur["lastTransitionTime"] if cur and cur.get("status") == cstatus
                            else ts, "reason": reason, "message": message}

        min_avail = replicas - self._max_unavailable(d, replicas)
        if available >= min_avail:
            set_cond("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        else:
            set_cond("Available", "False", "MinimumReplicasUnavailable",
                     "Deployment does not have minimum availability.")
        deadline = spec.get("progressDeadlineSeconds")
        rs_name = new_rs["metadata"]["name"] if new_rs else ""
        complete = new_rs is not None and updated == replicas and available == replicas and total == replicas \
            and _spec_replicas(new_rs) == replicas
        if spec.get("paused"):
            set_cond("Progressing", "Unknown", "DeploymentPaused", "Deployment is paused")
        elif complete:
            set_cond("Progressing", "True", "NewReplicaSetAvailable",
                     f'ReplicaSet "{rs_name}" has successfully progressed.')
        elif created:
            set_cond("Progressing", "True", "NewReplicaSetCreated", f'Created new replica set "{rs_name}"',
                     refresh=True)
        else:
            old_olds = (old.get("replicas", 0) or 0) - (old.get("updatedReplicas", 0) or 0)
            progressing = (updated > (old.get("updatedReplicas", 0) or 0) or (total - updated) < old_olds
                           or ready > (old.get("readyReplicas", 0) or 0)
                           or available > (old.get("availableReplicas", 0) or 0))
            cur = conds.get("Progressing")
            # a new generation (scale, undo to an existing ReplicaSet) starts progressing again at once, so
            # `rollout status` never reads a stale verdict next to the new observedGeneration
            settled = ("NewReplicaSetAvailable", "ProgressDeadlineExceeded")
            restarted = cur is not None and cur.get("reason") in settled \
                and md.get("generation", 1) != old.get("observedGeneration")
            if progressing or cur is None or restarted:
                set_cond("Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.',
                         refresh=True)
            elif deadline is not None and cur.get("reason") != "ProgressDeadlineExceeded":
                last = util.parse_time(cur.get("lastUpdateTime", ts))
                if time.time() >= last + deadline:
                    set_cond("Progressing", "False", "ProgressDeadlineExceeded",
                             f'ReplicaSet "{rs_name}" has timed out progressing.')
        status["conditions"] = [conds[k] for k in ("Available", "Progressing", "ReplicaFailure") if k in conds]
        cur = conds.get("Progressing")
        if deadline is not None and cur is not None and cur.get("status") == "True" and \
                cur.get("reason") != "NewReplicaSetAvailable":
            due = util.parse_time(cur["lastUpdateTime"]) + deadline + 1.0
            self._deadline_timer(md["uid"], due)
        if status == old:
            return
        try:
            new = util.s_status(self.store, util.GVR_DEPLOY, md["namespace"], md["name"], status)
        except Exception as e:  # noqa: BLE001
            log.debug("deployment status %s: %s", md["name"], e)
            return
        self.cache.observe(util.GVR_DEPLOY, new)

    def _deadline_timer(self, uid, due):
        """One pending progress-deadline check per Deployment; an earlier one re-arms itself when it fires."""
        timers = self.__dict__.setdefault("_timers", {})
        if uid in timers and timers[uid] <= due:
            return
        timers[uid] = due

        def fire():
            if timers.get(uid) == due:
                del timers[uid]
            self.mgr.mark(util.GVR_DEPLOY, uid)
        self.store.call_later(max(0.2, due - time.time()), fire)

    def _event(self, d, reason, message, type_="Normal"):
        try:
            self.store.record_event(dict(DEPLOY_KIND, metadata=d["metadata"]), reason, message, type_,
                                    "deployment-controller")
        except Exception:  # noqa: BLE001
            pass
