"""Built-in kinds: the resource registry, defaulting, minimal validation and Table columns of built-ins."""
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


@dataclass
class ResourceInfo:
    group: str
    versions: list
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    subresources: set = field(default_factory=set)
    verbs: list = field(default_factory=lambda: list(VERBS))
    crd: dict | None = None          # the CustomResourceDefinition serving this resource
    columns: list | None = None      # built-ins: [(name, type, priority, fn(obj, now) -> cell)]
    view_of: tuple | None = None     # (group, plural) this resource is stored as (events.k8s.io → core)

    @property
    def gr(self):
        return (self.group, self.plural)

    @property
    def storage_version(self):
        if self.crd:
            for v in self.crd["spec"]["versions"]:
                if v.get("storage"):
                    return v["name"]
        return self.versions[0]

    def api_version(self, version=None):
        v = version or self.storage_version
        return f"{self.group}/{v}" if self.group else v

    def group_resource(self):
        return f"{self.plural}.{self.group}" if self.group else self.plural


def now_iso(t=None) -> str:
    return datetime.fromtimestamp(t if t is not None else time.time(), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(s: str) -> float:
    try:
        return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    except (TypeError, ValueError):
        return time.time()


def human_duration(seconds: float) -> str:
    """Kubernetes' duration.HumanDuration, as kubectl shows AGE."""
    s = int(max(seconds, 0))
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if h < 24 * 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 365 * 2:
        return f"{d}d"
    return f"{d // 365}y{d % 365}d" if d < 365 * 8 else f"{d // 365}y"


def _age(obj, now):
    return human_duration(now - parse_iso(obj.get("metadata", {}).get("creationTimestamp", "")))


def _name(obj, now):
    return obj["metadata"]["name"]


def _g(obj, *path, default=None):
    cur = obj
    for p in path:
        if not isinstance(cur, dict):
            return default
        cur = cur.get(p)
        if cur is None:
            return default
    return cur


def _pod_status(pod):
    """The STATUS column the way kubectl's pod printer derives it."""
    if _g(pod, "metadata", "deletionTimestamp"):
        return "Terminating"
    reason = _g(pod, "status", "reason") or _g(pod, "status", "phase", default="Pending")
    for cs in _g(pod, "status", "initContainerStatuses", default=[]) or []:
        st = cs.get("state", {})
        if "terminated" in st and st["terminated"].get("exitCode", 0) == 0:
            continue
        if "waiting" in st and st["waiting"].get("reason") not in (None, "PodInitializing"):
            return "Init:" + st["waiting"]["reason"]
        if "terminated" in st:
            return "Init:" + (st["terminated"].get("reason") or "Error")
        n = len(_g(pod, "spec", "initContainers", default=[]) or [])
        done = sum(1 for c in pod["status"]["initContainerStatuses"]
                   if c.get("state", {}).get("terminated", {}).get("exitCode", 1) == 0)
        return f"Init:{done}/{n}"
    for cs in _g(pod, "status", "containerStatuses", default=[]) or []:
        st = cs.get("state", {})
        if "waiting" in st and st["waiting"].get("reason"):
            reason = st["waiting"]["reason"]
        elif "terminated" in st and st["terminated"].get("reason"):
            reason = st["terminated"]["reason"]
    return reason


def _pod_ready(pod, now):
    cs = _g(pod, "status", "containerStatuses", default=[]) or []
    n = len(_g(pod, "spec", "containers", default=[]) or [])
    return f"{sum(1 for c in cs if c.get('ready'))}/{n}"


def _pod_restarts(pod, now):
    return sum(c.get("restartCount", 0) for c in _g(pod, "status", "containerStatuses", default=[]) or [])


def _containers(obj, now):
    return ",".join(c.get("name", "") for c in _g(obj, "spec", "template", "spec", "containers", default=[]) or [])


def _images(obj, now):
    return ",".join(c.get("image", "") for c in _g(obj, "spec", "template", "spec", "containers", default=[]) or [])


def _selector(obj, now):
    sel = _g(obj, "spec", "selector", default={}) or {}
    ml = sel.get("matchLabels", sel if "matchExpressions" not in sel else {}) or {}
    return ",".join(f"{k}={v}" for k, v in ml.items()) or "<none>"


def _svc_ports(svc, now):
    out = []
    for p in _g(svc, "spec", "ports", default=[]) or []:
        s = f"{p.get('port')}"
        if p.get("nodePort"):
            s += f":{p['nodePort']}"
        out.append(f"{s}/{p.get('protocol', 'TCP')}")
    return ",".join(out) or "<none>"


def _event_object(ev, now):
    io = ev.get("involvedObject", {})
    return f"{(io.get('kind') or '').lower()}/{io.get('name', '')}"


def _event_last_seen(ev, now):
    ts = ev.get("lastTimestamp") or ev.get("eventTime") or _g(ev, "metadata", "creationTimestamp")
    return human_duration(now - parse_iso((ts or "")[:19] + "Z"))


NAME = ("Name", "string", 0, _name)
AGE = ("Age", "string", 0, _age)

_PRINTERS = {
    ("", "pods"): [NAME, ("Ready", "string", 0, _pod_ready), ("Status", "string", 0, lambda o, n: _pod_status(o)),
                   ("Restarts", "integer", 0, _pod_restarts), AGE,
                   ("IP", "string", 1, lambda o, n: _g(o, "status", "podIP", default="<none>")),
                   ("Node", "string", 1, lambda o, n: _g(o, "spec", "nodeName", default="<none>")),
                   ("Nominated Node", "string", 1, lambda o, n: "<none>"),
                   ("Readiness Gates", "string", 1, lambda o, n: "<none>")],
    ("apps", "deployments"): [
        NAME, ("Ready", "string", 0,
               lambda o, n: f"{_g(o, 'status', 'readyReplicas', default=0)}/{_g(o, 'spec', 'replicas', default=1)}"),
        ("Up-to-date", "integer", 0, lambda o, n: _g(o, "status", "updatedReplicas", default=0)),
        ("Available", "integer", 0, lambda o, n: _g(o, "status", "availableReplicas", default=0)), AGE,
        ("Containers", "string", 1, _containers), ("Images", "string", 1, _images),
        ("Selector", "string", 1, _selector)],
    ("apps", "replicasets"): [
        NAME, ("Desired", "integer", 0, lambda o, n: _g(o, "spec", "replicas", default=1)),
        ("Current", "integer", 0, lambda o, n: _g(o, "status", "replicas", default=0)),
        ("Ready", "integer", 0, lambda o, n: _g(o, "status", "readyReplicas", default=0)), AGE,
        ("Containers", "string", 1, _containers), ("Images", "string", 1, _images),
        ("Selector", "string", 1, _selector)],
    ("apps", "statefulsets"): [
        NAME, ("Ready", "string", 0,
               lambda o, n: f"{_g(o, 'status', 'readyReplicas', default=0)}/{_g(o, 'spec', 'replicas', default=1)}"),
        AGE, ("Containers", "string", 1, _containers), ("Images", "string", 1, _images)],
    ("apps", "daemonsets"): [
        NAME, ("Desired", "integer", 0, lambda o, n: _g(o, "status", "desiredNumberScheduled", default=0)),
        ("Current", "integer", 0, lambda o, n: _g(o, "status", "currentNumberScheduled", default=0)),
        ("Ready", "integer", 0, lambda o, n: _g(o, "status", "numberReady", default=0)),
        ("Up-to-date", "integer", 0, lambda o, n: _g(o, "status", "updatedNumberScheduled", default=0)),
        ("Available", "integer", 0, lambda o, n: _g(o, "status", "numberAvailable", default=0)),
        ("Node Selector", "string", 0, lambda o, n: ",".join(
            f"{k}={v}" for k, v in (_g(o, "spec", "template", "spec", "nodeSelector", default={}) or {}).items())
         or "<none>"), AGE,
        ("Containers", "string", 1, _containers), ("Images", "string", 1, _images)],
    ("", "namespaces"): [NAME, ("Status", "string", 0, lambda o, n: _g(o, "status", "phase", default="Active")), AGE],
    ("", "services"): [
        NAME, ("Type", "string", 0, lambda o, n: _g(o, "spec", "type", default="ClusterIP")),
        ("Cluster-IP", "string", 0, lambda o, n: _g(o, "spec", "clusterIP", default="<none>")),
        ("External-IP", "string", 0, lambda o, n: "<none>"), ("Port(s)", "string", 0, _svc_ports), AGE,
        ("Selector", "string", 1, lambda o, n: ",".join(
            f"{k}={v}" for k, v in (_g(o, "spec", "selector", default={}) or {}).items()) or "<none>")],
    ("", "configmaps"): [NAME, ("Data", "integer", 0, lambda o, n: len(o.get("data") or {}) + len(
        o.get("binaryData") or {})), AGE],
    ("", "secrets"): [NAME, ("Type", "string", 0, lambda o, n: o.get("type", "Opaque")),
                      ("Data", "integer", 0, lambda o, n: len(o.get("data") or {})), AGE],
    ("", "serviceaccounts"): [NAME, ("Secrets", "integer", 0, lambda o, n: len(o.get("secrets") or [])), AGE],
    ("", "nodes"): [NAME, ("Status", "string", 0, lambda o, n: "Ready"),
                    ("Roles", "string", 0, lambda o, n: "control-plane"), AGE,
                    ("Version", "string", 0, lambda o, n: _g(o, "status", "nodeInfo", "kubeletVersion", default=""))],
    ("", "events"): [("Last Seen", "string", 0, _event_last_seen), ("Type", "string", 0, lambda o, n: o.get("type")),
                     ("Reason", "string", 0, lambda o, n: o.get("reason")),
                     ("Object", "string", 0, _event_object), ("Message", "string", 0, lambda o, n: o.get("message"))],
    ("coordination.k8s.io", "leases"): [
        NAME, ("Holder", "string", 0, lambda o, n: _g(o, "spec", "holderIdentity", default="")), AGE],
    ("apiextensions.k8s.io", "customresourcedefinitions"): [
        NAME, ("Created At", "date", 0, lambda o, n: _g(o, "metadata", "creationTimestamp"))],
}


def _r(group, version, plural, singular, kind, namespaced, short=(), cats=(), subs=(), verbs=None):
    info = ResourceInfo(group, [version], plural, singular, kind, namespaced, list(short), list(cats), set(subs))
    if verbs is not None:
        info.verbs = verbs
    info.columns = _PRINTERS.get((group, plural))
    return info


def builtin_resources() -> list:
    all_ = ("all",)
    return [
        _r("", "v1", "namespaces", "namespace", "Namespace", False, ("ns",), subs=("status", "finalize")),
        _r("", "v1", "pods", "pod", "Pod", True, ("po",), all_, ("status", "log", "eviction")),
        _r("", "v1", "services", "service", "Service", True, ("svc",), all_, ("status",)),
        _r("", "v1", "configmaps", "configmap", "ConfigMap", True, ("cm",)),
        _r("", "v1", "secrets", "secret", "Secret", True),
        _r("", "v1", "serviceaccounts", "serviceaccount", "ServiceAccount", True, ("sa",), subs=("token",)),
        _r("", "v1", "events", "event", "Event", True, ("ev",)),
        _r("", "v1", "nodes", "node", "Node", False, ("no",), subs=("status",)),
        _r("", "v1", "endpoints", "endpoints", "Endpoints", True, ("ep",)),
        _r("apps", "v1", "deployments", "deployment", "Deployment", True, ("deploy",), all_, ("status", "scale")),
        _r("apps", "v1", "replicasets", "replicaset", "ReplicaSet", True, ("rs",), all_, ("status", "scale")),
        _r("apps", "v1", "statefulsets", "statefulset", "StatefulSet", True, ("sts",), all_, ("status", "scale")),
        _r("apps", "v1", "daemonsets", "daemonset", "DaemonSet", True, ("ds",), all_, ("status",)),
        _r("apps", "v1", "controllerrevisions", "controllerrevision", "ControllerRevision", True),
        _r("coordination.k8s.io", "v1", "leases", "lease", "Lease", True),
        _r("events.k8s.io", "v1", "events", "event", "Event", True, ("ev",)),
        _r("rbac.authorization.k8s.io", "v1", "roles", "role", "Role", True),
        _r("rbac.authorization.k8s.io", "v1", "rolebindings", "rolebinding", "RoleBinding", True),
        _r("rbac.authorization.k8s.io", "v1", "clusterroles", "clusterrole", "ClusterRole", False),
        _r("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "clusterrolebinding", "ClusterRoleBinding",
           False),
        _r("apiextensions.k8s.io", "v1", "customresourcedefinitions", "customresourcedefinition",
           "CustomResourceDefinition", False, ("crd", "crds"), ("api-extensions",), ("status",)),
        _r("authorization.k8s.io", "v1", "selfsubjectaccessreviews", "selfsubjectaccessreview",
           "SelfSubjectAccessReview", False, verbs=["create"]),
        _r("authorization.k8s.io", "v1", "subjectaccessreviews", "subjectaccessreview", "SubjectAccessReview",
           False, verbs=["create"]),
        _r("authorization.k8s.io", "v1", "selfsubjectrulesreviews", "selfsubjectrulesreview",
           "SelfSubjectRulesReview", False, verbs=["create"]),
        _r("authentication.k8s.io", "v1", "selfsubjectreviews", "selfsubjectreview", "SelfSubjectReview", False,
           verbs=["create"]),
    ]


# ---------------------------------------------------------------- defaulting (what the real API server fills in)

def _default_container(c):
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    img = c.get("image", "")
    tag = img.rsplit("/", 1)[-1]
    c.setdefault("imagePullPolicy", "Always" if (":" not in tag or tag.endswith(":latest")) and "@" not in img
                 else "IfNotPresent")
    c.setdefault("resources", {})
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")


def default_pod_spec(spec):
    for c in spec.get("containers") or []:
        _default_container(c)
    for c in spec.get("initContainers") or []:
        _default_container(c)
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")


def _default_template(obj):
    tpl = obj.setdefault("spec", {}).setdefault("template", {})
    tpl.setdefault("metadata", {}).setdefault("creationTimestamp", None)
    default_pod_spec(tpl.setdefault("spec", {}))


_next_ip = [10]      # 10.96.0.1 is the kubernetes service's
_next_node_port = [30000]


def apply_defaults(info: ResourceInfo, obj: dict, op: str) -> None:
    """Fills the defaults the real API server sets, so that clients see the same shapes."""
    gr = info.gr
    spec = obj.get("spec")
    if gr == ("apps", "deployments"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        st = spec.setdefault("strategy", {"type": "RollingUpdate"})
        st.setdefault("type", "RollingUpdate")
        if st["type"] == "RollingUpdate":
            ru = st.setdefault("rollingUpdate", {})
            ru.setdefault("maxSurge", "25%")
            ru.setdefault("maxUnavailable", "25%")
        _default_template(obj)
    elif gr == ("apps", "replicasets"):
        obj.setdefault("spec", {}).setdefault("replicas", 1)
        _default_template(obj)
    elif gr == ("apps", "statefulsets"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("revisionHistoryLimit", 10)
        us = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
        if us.get("type") == "RollingUpdate":
            us.setdefault("rollingUpdate", {"partition": 0})
        _default_template(obj)
    elif gr == ("apps", "daemonsets"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("revisionHistoryLimit", 10)
        us = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
        if us.get("type") == "RollingUpdate":
            us.setdefault("rollingUpdate", {"maxUnavailable": 1, "maxSurge": 0})
        _default_template(obj)
    elif gr == ("", "pods"):
        default_pod_spec(obj.setdefault("spec", {}))
        if op == "CREATE":
            st = obj.setdefault("status", {})
            st.setdefault("phase", "Pending")
            st.setdefault("qosClass", "BestEffort")
    elif gr == ("", "namespaces"):
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
        obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    elif gr == ("", "services"):
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if op == "CREATE" and "clusterIP" not in spec:
            n = _next_ip[0]
            _next_ip[0] += 1
            spec["clusterIP"] = f"10.96.{(n >> 8) & 255}.{n & 255}"
        if "clusterIP" in spec:
            spec.setdefault("clusterIPs", [spec["clusterIP"]])
        for p in spec.get("ports") or []:
            p.setdefault("protocol", "TCP")
            p.setdefault("targetPort", p.get("port"))
            if spec["type"] in ("NodePort", "LoadBalancer") and not p.get("nodePort"):
                p["nodePort"] = _next_node_port[0]
                _next_node_port[0] += 1
        obj.setdefault("status", {}).setdefault("loadBalancer", {})
    elif gr == ("", "secrets"):
        obj.setdefault("type", "Opaque")
    elif gr == ("", "events"):
        obj.setdefault("type", "Normal")
    del spec


def validate_builtin(info: ResourceInfo, obj: dict) -> list:
    """Minimal validation of built-ins; returns field causes."""
    causes = []
    gr = info.gr

    def req(path, val):
        if val in (None, "", [], {}):
            causes.append({"reason": "FieldValueRequired", "message": "Required value", "field": path})

    if gr == ("", "pods"):
        req("spec.containers", _g(obj, "spec", "containers"))
        for i, c in enumerate(_g(obj, "spec", "containers", default=[]) or []):
            req(f"spec.containers[{i}].name", c.get("name"))
            req(f"spec.containers[{i}].image", c.get("image"))
    elif gr in (("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"), ("apps", "daemonsets")):
        req("spec.selector", _g(obj, "spec", "selector"))
        req("spec.template.spec.containers", _g(obj, "spec", "template", "spec", "containers"))
        for i, c in enumerate(_g(obj, "spec", "template", "spec", "containers", default=[]) or []):
            req(f"spec.template.spec.containers[{i}].name", c.get("name"))
            req(f"spec.template.spec.containers[{i}].image", c.get("image"))
        sel = _g(obj, "spec", "selector")
        if sel:
            from .selectors import parse_label_selector
            labels = _g(obj, "spec", "template", "metadata", "labels", default={}) or {}
            if not parse_label_selector(sel)(labels):
                causes.append({"reason": "FieldValueInvalid", "field": "spec.template.metadata.labels",
                               "message": f"Invalid value: {_show(labels)}: "
                                          "`selector` does not match template `labels`"})
        r = _g(obj, "spec", "replicas")
        if isinstance(r, int) and r < 0:
            causes.append({"reason": "FieldValueInvalid", "field": "spec.replicas",
                           "message": f"Invalid value: {r}: must be greater than or equal to 0"})
    return causes


# ---------------------------------------------------------------- metadata and immutability (all kinds)

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_PATH_SEGMENT_KINDS = {"roles", "rolebindings", "clusterroles", "clusterrolebindings"}


def validate_metadata(info: ResourceInfo, obj: dict) -> list:
    md = obj.get("metadata") or {}
    name = md.get("name") or ""
    causes = []
    if name:
        if info.plural in _PATH_SEGMENT_KINDS and info.group == "rbac.authorization.k8s.io":
            ok = name not in (".", "..") and "/" not in name and "%" not in name
            msg = 'may not contain "/" or "%"'
        elif info.gr == ("", "namespaces"):
            ok = len(name) <= 63 and bool(_LABEL.match(name))
            msg = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                   "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
        else:
            ok = len(name) <= 253 and bool(_SUBDOMAIN.match(name))
            msg = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
        if not ok:
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.name",
                           "message": f'Invalid value: "{name}": {msg}'})
    for k, v in (md.get("labels") or {}).items():
        prefix, _, key = k.rpartition("/")
        if not key or len(key) > 63 or not _QUALIFIED.match(key) or (prefix and not _SUBDOMAIN.match(prefix)):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                           "message": f'Invalid value: "{k}": name part must consist of alphanumeric characters, '
                                      "'-', '_' or '.', and must start and end with an alphanumeric character"})
        if not isinstance(v, str) or len(v) > 63 or not _LABEL_VALUE.match(v):
            causes.append({"reason": "FieldValueInvalid", "field": "metadata.labels",
                           "message": f'Invalid value: "{v}": a valid label must be an empty string or consist of '
                                      "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                                      "alphanumeric character"})
    return causes


def validate_update(info: ResourceInfo, obj: dict, old: dict) -> list:
    """Fields the real API server refuses to change."""
    causes = []
    gr = info.gr

    def immutable(path, new_v, old_v):
        if new_v != old_v:
            causes.append({"reason": "FieldValueInvalid", "field": path,
                           "message": f"Invalid value: {_show(new_v)}: field is immutable"})
    if _g(old, "metadata", "deletionTimestamp"):
        added = set(_g(obj, "metadata", "finalizers", default=[]) or []) - set(
            _g(old, "metadata", "finalizers", default=[]) or [])
        if added:
            causes.append({"reason": "FieldValueForbidden", "field": "metadata.finalizers",
                           "message": "Forbidden: no new finalizers can be added if the object is being deleted, "
                                      f"found new finalizers {sorted(added)!r}".replace("'", '"')})
    if gr in (("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"), ("apps", "daemonsets")):
        immutable("spec.selector", _g(obj, "spec", "selector"), _g(old, "spec", "selector"))
    if gr == ("", "services") and _g(old, "spec", "clusterIP") and _g(obj, "spec", "clusterIP") not in (None, ""):
        immutable("spec.clusterIP", _g(obj, "spec", "clusterIP"), _g(old, "spec", "clusterIP"))
    if gr in (("", "configmaps"), ("", "secrets")) and old.get("immutable"):
        for f in ("data", "binaryData", "stringData"):
            if obj.get(f) != old.get(f) and f != "stringData":
                causes.append({"reason": "FieldValueForbidden", "field": f,
                               "message": "Forbidden: field is immutable when `immutable` is set"})
        if obj.get("immutable") is not True:
            causes.append({"reason": "FieldValueForbidden", "field": "immutable",
                           "message": "Forbidden: field is immutable when `immutable` is set"})
    return causes


def _show(v):
    import json
    return json.dumps(v, separators=(",", ":")) if not isinstance(v, str) else f'"{v}"'
