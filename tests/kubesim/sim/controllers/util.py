"""Small helpers shared by the controllers and the mesh seeding: hashes, names, quantities, pod status."""
import datetime
import hashlib
import json
import random
import threading

GVR_DEPLOY = ("apps", "v1", "deployments")
GVR_RS = ("apps", "v1", "replicasets")
GVR_STS = ("apps", "v1", "statefulsets")
GVR_DS = ("apps", "v1", "daemonsets")
GVR_POD = ("", "v1", "pods")
GVR_NS = ("", "v1", "namespaces")
GVR_CRD = ("apiextensions.k8s.io", "v1", "customresourcedefinitions")
GVR_CR = ("apps", "v1", "controllerrevisions")

NODE_NAME = "kubesim-node"
HASH_LABEL = "pod-template-hash"
REVISION_ANN = "deployment.kubernetes.io/revision"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # the alphabet Kubernetes uses for generated names and hashes
_rand = random.Random()
_rand_lock = threading.Lock()


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(s: str) -> float:
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


def rand_suffix(n: int = 5) -> str:
    with _rand_lock:
        return "".join(_rand.choice(_SAFE) for _ in range(n))


def safe_encode(value: int, length: int = 10) -> str:
    out = []
    for _ in range(length):
        out.append(_SAFE[value % len(_SAFE)])
        value //= len(_SAFE)
    return "".join(out).rstrip(_SAFE[0]) or _SAFE[0]


def template_hash(template: dict, collision_count: int = 0) -> str:
    """A stable hash of a pod template without its pod-template-hash label (the Deployment's RS suffix)."""
    t = strip_hash(template)
    digest = hashlib.sha1(json.dumps(t, sort_keys=True, separators=(",", ":")).encode()).digest()
    return safe_encode(int.from_bytes(digest[:8], "big") + collision_count, 10)[:10]


def strip_hash(template: dict) -> dict:
    """The template without its pod-template-hash label and null creationTimestamp, for comparisons.
    Shares everything but the metadata path with the input (no deep copy: this runs on every reconcile)."""
    t = dict(template or {})
    md = t.get("metadata")
    if md is None:
        return t
    md = dict(md)
    labels = md.get("labels")
    if labels and HASH_LABEL in labels:
        labels = dict(labels)
        del labels[HASH_LABEL]
        if labels:
            md["labels"] = labels
        else:
            del md["labels"]
    md.pop("creationTimestamp", None)
    if md:
        t["metadata"] = md
    else:
        del t["metadata"]
    return t


def parse_cpu(q) -> float:
    if q is None:
        return 0.0
    s = str(q).strip()
    try:
        if s.endswith("m"):
            return float(s[:-1]) / 1000.0
        return float(s)
    except ValueError:
        return 0.0


def pod_cpu_request(pod: dict) -> float:
    spec = pod.get("spec") or {}
    main = sum(parse_cpu(((c.get("resources") or {}).get("requests") or {}).get("cpu"))
               for c in spec.get("containers") or [])
    init = max([parse_cpu(((c.get("resources") or {}).get("requests") or {}).get("cpu"))
                for c in spec.get("initContainers") or []] or [0.0])
    return max(main, init)


def owner_ref(obj: dict, kind: str, api_version: str = "apps/v1") -> dict:
    return {"apiVersion": api_version, "kind": kind, "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def controller_uid(obj: dict) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref.get("uid")
    return None


def resolve_int_or_percent(value, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    s = str(value)
    if s.endswith("%"):
        pct = int(s[:-1])
        q = total * pct
        return -(-q // 100) if round_up else q // 100
    return int(s)


def image_id(image: str) -> str:
    name = image.split("@", 1)[0]
    repo = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
    if "/" not in repo:
        repo = "library/" + repo
    if repo.count("/") < 2 or "." not in repo.split("/", 1)[0]:
        repo = "docker.io/" + repo
    return f"{repo}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def container_id(pod_uid: str, name: str, restarts: int) -> str:
    return "containerd://" + hashlib.sha256(f"{pod_uid}/{name}/{restarts}".encode()).hexdigest()


def pod_ip(uid: str) -> str:
    h = int(hashlib.md5(uid.encode()).hexdigest()[:6], 16)
    return f"10.244.{(h >> 8) % 250 + 1}.{h % 250 + 2}"


def cond(ctype: str, status: str, ts: str, reason: str | None = None, message: str | None = None) -> dict:
    c = {"type": ctype, "status": status, "lastProbeTime": None, "lastTransitionTime": ts}
    if reason:
        c["reason"] = reason
    if message:
        c["message"] = message
    return c


def running_pod_status(pod: dict, ts: str, ready: bool = True, start: str | None = None) -> dict:
    """Status of a scheduled pod whose containers all run (ready or not), as the kubelet reports it."""
    spec = pod.get("spec") or {}
    uid = pod["metadata"].get("uid", pod["metadata"]["name"])
    start = start or ts
    init_statuses = [{"name": c["name"], "image": c.get("image", ""), "imageID": image_id(c.get("image", "")),
                      "containerID": container_id(uid, c["name"], 0), "ready": True, "restartCount": 0,
                      "started": False,
                      "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": start,
                                               "finishedAt": start,
                                               "containerID": container_id(uid, c["name"], 0)}}}
                     for c in spec.get("initContainers") or []]
    statuses = [{"name": c["name"], "image": c.get("image", ""), "imageID": image_id(c.get("image", "")),
                 "containerID": container_id(uid, c["name"], 0), "ready": ready, "restartCount": 0,
                 "started": True, "state": {"running": {"startedAt": start}}}
                for c in spec.get("containers") or []]
    rs = "True" if ready else "False"
    conds = [cond("PodReadyToStartContainers", "True", start), cond("Initialized", "True", start),
             cond("Ready", rs, ts, None if ready else "ContainersNotReady",
                  None if ready else "containers with unready status: [%s]" % " ".join(
                      s["name"] for s in statuses)),
             cond("ContainersReady", rs, ts, None if ready else "ContainersNotReady",
                  None if ready else "containers with unready status: [%s]" % " ".join(
                      s["name"] for s in statuses)),
             cond("PodScheduled", "True", pod["metadata"].get("creationTimestamp") or start)]
    out = {"phase": "Running", "conditions": conds, "hostIP": "10.0.0.10", "hostIPs": [{"ip": "10.0.0.10"}],
           "podIP": pod_ip(uid), "podIPs": [{"ip": pod_ip(uid)}], "startTime": start,
           "containerStatuses": statuses, "qosClass": qos_class(spec)}
    if init_statuses:
        out["initContainerStatuses"] = init_statuses
    return out


def qos_class(spec: dict) -> str:
    cs = spec.get("containers") or []
    if not any((c.get("resources") or {}).get("requests") or (c.get("resources") or {}).get("limits")
               for c in cs):
        return "BestEffort"
    guaranteed = all((c.get("resources") or {}).get("limits") and
                     ((c.get("resources") or {}).get("requests") or {}) in (
                         {}, (c.get("resources") or {}).get("limits")) for c in cs)
    return "Guaranteed" if guaranteed else "Burstable"


def pod_is_ready(pod: dict) -> bool:
    for c in (pod.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True"
    return False


def pod_active(pod: dict) -> bool:
    md = pod.get("metadata") or {}
    phase = (pod.get("status") or {}).get("phase")
    return not md.get("deletionTimestamp") and phase not in ("Succeeded", "Failed")


# --- store writes without needless copies ------------------------------------------------------------------
# SIM-CORE's store offers *_ref variants that take ownership of the object passed and return the stored object
# itself. The controllers pass freshly built or copied dicts and treat what they get back as read-only, so the
# copies of the plain methods (in and out) are pure overhead on every write of a large rollout.

def clone(obj):
    return json.loads(json.dumps(obj))


def s_create(store, gvr, obj: dict) -> dict:
    f = getattr(store, "create_ref", None)
    return f(gvr, obj, copy_in=False) if f else store.create(gvr, obj)


def s_update(store, gvr, obj: dict) -> dict:
    f = getattr(store, "update_ref", None)
    return f(gvr, obj) if f else store.update(gvr, obj)


def s_status(store, gvr, ns, name, status: dict) -> dict:
    """Replaces .status (no resourceVersion check), like store.patch_status."""
    f = getattr(store, "update_ref", None)
    if f is None:
        return store.patch_status(gvr, ns, name, status)
    md = {"name": name}
    if ns:
        md["namespace"] = ns
    return f(gvr, {"metadata": md, "status": status}, subresource="status", check_rv=False)


def s_get(store, gvr, ns, name):
    """A read-only view of a stored object (no copy when the store offers get_ref)."""
    f = getattr(store, "get_ref", None)
    return f(gvr, ns, name) if f else store.get(gvr, ns, name)
