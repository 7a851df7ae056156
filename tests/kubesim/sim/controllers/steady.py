"""Creates a Deployment already in its steady state (ReplicaSet and Ready pods with full status), for seeding."""
import copy

from . import cache as cache_mod
from . import util

_status_kept_on_create = None  # learned once: does store.create keep .status? (else patch_status after)


def _create(store, gvr, obj, field_manager=None):
    global _status_kept_on_create
    status = obj.get("status")
    create_ref = getattr(store, "create_ref", None)
    # create_ref stores our dict without copying it in or out: seeding 10,000 workloads must take seconds
    if create_ref:
        out = create_ref(gvr, obj, field_manager=field_manager, copy_in=False) if field_manager else \
            create_ref(gvr, obj, copy_in=False)
    else:
        out = store.create(gvr, obj)
    if status is not None and _status_kept_on_create is not True:
        kept = out.get("status") == status if _status_kept_on_create is None else False
        if _status_kept_on_create is None:
            _status_kept_on_create = kept
        if not kept:
            out = store.patch_status(gvr, out["metadata"].get("namespace"), out["metadata"]["name"], status)
    cache_mod.for_store(store).observe(gvr, out)
    return out


def deployment_status(replicas: int, rs_name: str, ts: str, generation: int = 1) -> dict:
    return {"observedGeneration": generation, "replicas": replicas, "updatedReplicas": replicas,
            "readyReplicas": replicas, "availableReplicas": replicas,
            "conditions": [
                {"type": "Available", "status": "True", "lastUpdateTime": ts, "lastTransitionTime": ts,
                 "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
                {"type": "Progressing", "status": "True", "lastUpdateTime": ts, "lastTransitionTime": ts,
                 "reason": "NewReplicaSetAvailable",
                 "message": f'ReplicaSet "{rs_name}" has successfully progressed.'}]}


def create_deployment(store, deploy: dict, prepare=None, field_manager=None) -> dict:
    """Creates deploy (spec only) plus its ReplicaSet and Ready pods; returns the stored Deployment.
    field_manager: who the Deployment's fields belong to in managedFields (e.g. helm for the control plane)."""
    ts = util.now()
    deploy = copy.deepcopy(deploy)
    spec = deploy["spec"]
    replicas = spec.get("replicas", 1)
    spec.setdefault("replicas", replicas)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault("strategy", {"type": "RollingUpdate",
                                 "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    md = deploy["metadata"]
    md.setdefault("annotations", {})[util.REVISION_ANN] = "1"
    h = util.template_hash(spec["template"])
    rs_name = f"{md['name']}-{h}"
    deploy["status"] = deployment_status(replicas, rs_name, ts)
    d = _create(store, util.GVR_DEPLOY, deploy, field_manager)

    tmpl = copy.deepcopy(spec["template"])
    tmpl.setdefault("metadata", {}).setdefault("labels", {})[util.HASH_LABEL] = h
    sel = copy.deepcopy(spec["selector"])
    sel.setdefault("matchLabels", {})[util.HASH_LABEL] = h
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
          "metadata": {"name": rs_name, "namespace": md["namespace"],
                       "labels": dict(tmpl["metadata"]["labels"]),
                       "annotations": {util.REVISION_ANN: "1", "deployment.kubernetes.io/desired-replicas":
                                       str(replicas), "deployment.kubernetes.io/max-replicas":
                                       str(replicas + util.resolve_int_or_percent("25%", replicas, True))},
                       "ownerReferences": [util.owner_ref(d, "Deployment")]},
          "spec": {"replicas": replicas, "selector": sel, "template": tmpl},
          "status": {"replicas": replicas, "fullyLabeledReplicas": replicas, "readyReplicas": replicas,
                     "availableReplicas": replicas, "observedGeneration": 1}}
    r = _create(store, util.GVR_RS, rs)
    for _ in range(replicas):
        create_running_pod(store, r, "ReplicaSet", ts, prepare=prepare)
    return d


def create_running_pod(store, owner: dict, owner_kind: str, ts: str, name: str | None = None,
                       prepare=None) -> dict:
    """prepare(pod) may change the pod before it is stored (e.g. inject the sidecar as admission would)."""
    tmpl = owner["spec"]["template"]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name or f"{owner['metadata']['name']}-{util.rand_suffix()}",
                        "namespace": owner["metadata"]["namespace"],
                        "labels": dict((tmpl.get("metadata") or {}).get("labels") or {}),
                        "ownerReferences": [util.owner_ref(owner, owner_kind)]},
           "spec": copy.deepcopy(tmpl.get("spec") or {})}
    ann = (tmpl.get("metadata") or {}).get("annotations")
    if ann:
        pod["metadata"]["annotations"] = dict(ann)
    if prepare:
        prepare(pod)
    pod["spec"]["nodeName"] = util.NODE_NAME
    pod["spec"].setdefault("restartPolicy", "Always")
    pod["spec"].setdefault("schedulerName", "default-scheduler")
    pod["spec"].setdefault("terminationGracePeriodSeconds", 30)
    # The status needs the uid; a placeholder is replaced once the store assigned one.
    pod["status"] = util.running_pod_status({"metadata": {"name": pod["metadata"]["name"], "uid":
                                                          pod["metadata"]["name"], "creationTimestamp": ts},
                                             "spec": pod["spec"]}, ts)
    return _create(store, util.GVR_POD, pod)
