"""Authentication (admin client certificate, ServiceAccount bearer tokens) and RBAC authorization."""
import base64
import hashlib
import hmac
import json
import os
import time

from .errors import ApiException

ADMIN = {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"], "admin": True}
ANONYMOUS = {"username": "system:anonymous", "groups": ["system:unauthenticated"], "admin": False}
_KEY = os.urandom(32)


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def issue_token(sa: dict, audiences=None, expiration_seconds=3600) -> tuple:
    """A signed JWT-shaped ServiceAccount token; returns (token, expiry epoch seconds)."""
    now = int(time.time())
    exp = now + int(expiration_seconds or 3600)
    md = sa["metadata"]
    payload = {"iss": "https://kubernetes.default.svc.cluster.local", "aud": audiences or ["https://kubernetes.default.svc"],
               "sub": f"system:serviceaccount:{md['namespace']}:{md['name']}", "iat": now, "nbf": now, "exp": exp,
               "kubernetes.io": {"namespace": md["namespace"],
                                 "serviceaccount": {"name": md["name"], "uid": md["uid"]}}}
    head = _b64(json.dumps({"alg": "HS256", "kid": "kubesim", "typ": "JWT"}).encode())
    body = _b64(json.dumps(payload).encode())
    sig = _b64(hmac.new(_KEY, f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}", exp


def authenticate_token(store, token: str) -> dict:
    try:
        head, body, sig = token.split(".")
        want = _b64(hmac.new(_KEY, f"{head}.{body}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(want, sig):
            raise ValueError("signature")
        payload = json.loads(_unb64(body))
        if payload["exp"] < time.time():
            raise ValueError("expired")
        k = payload["kubernetes.io"]
        sa = store.get_ref(("", "v1", "serviceaccounts"), k["namespace"], k["serviceaccount"]["name"])
        if sa is None or sa["metadata"]["uid"] != k["serviceaccount"]["uid"]:
            raise ValueError("service account gone")
    except (ValueError, KeyError, TypeError):
        raise ApiException(401, "Unauthorized", "Unauthorized")
    ns = k["namespace"]
    return {"username": payload["sub"], "admin": False,
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}", "system:authenticated"]}


def _subject_matches(subj, user):
    kind = subj.get("kind")
    if kind == "User":
        return subj.get("name") == user["username"]
    if kind == "Group":
        return subj.get("name") in user["groups"]
    if kind == "ServiceAccount":
        return user["username"] == f"system:serviceaccount:{subj.get('namespace')}:{subj.get('name')}"
    return False


def _rule_allows(rule, attrs):
    verbs = rule.get("verbs") or []
    if "*" not in verbs and attrs["verb"] not in verbs:
        return False
    if attrs.get("path") is not None:
        for u in rule.get("nonResourceURLs") or []:
            if u == attrs["path"] or (u.endswith("*") and attrs["path"].startswith(u[:-1])):
                return True
        return False
    groups = rule.get("apiGroups")
    if groups is None or ("*" not in groups and attrs["group"] not in groups):
        return False
    res = attrs["resource"] + (f"/{attrs['subresource']}" if attrs.get("subresource") else "")
    resources = rule.get("resources") or []
    if not ("*" in resources or res in resources or
            (attrs.get("subresource") and f"*/{attrs['subresource']}" in resources)):
        return False
    names = rule.get("resourceNames") or []
    if names and attrs.get("name") not in names:
        return False
    return True


def _role_rules(store, ref, ns):
    if ref.get("kind") == "ClusterRole":
        r = store.get_ref(("rbac.authorization.k8s.io", "v1", "clusterroles"), None, ref.get("name"))
    else:
        r = store.get_ref(("rbac.authorization.k8s.io", "v1", "roles"), ns, ref.get("name"))
    return (r or {}).get("rules") or []


def allowed(store, user, attrs) -> bool:
    """attrs: verb, group, resource, subresource, namespace, name; or verb + path for non-resource URLs."""
    if user.get("admin"):
        return True
    if attrs.get("path") is not None and attrs["path"].split("?")[0] in (
            "/api", "/apis", "/version", "/healthz", "/livez", "/readyz") or (
            attrs.get("path") or "").startswith(("/api/", "/apis/", "/openapi")):
        if "system:authenticated" in user["groups"]:
            return True
    if attrs.get("resource") in ("selfsubjectaccessreviews", "selfsubjectrulesreviews", "selfsubjectreviews") and \
            attrs.get("group") in ("authorization.k8s.io", "authentication.k8s.io"):
        return True
    crbs, _ = store.list_refs(("rbac.authorization.k8s.io", "v1", "clusterrolebindings"))
    for b in crbs:
        if any(_subject_matches(s, user) for s in b.get("subjects") or []):
            if any(_rule_allows(r, attrs) for r in _role_rules(store, b.get("roleRef", {}), None)):
                return True
    ns = attrs.get("namespace")
    if ns:
        rbs, _ = store.list_refs(("rbac.authorization.k8s.io", "v1", "rolebindings"), ns)
        for b in rbs:
            if any(_subject_matches(s, user) for s in b.get("subjects") or []):
                if any(_rule_allows(r, attrs) for r in _role_rules(store, b.get("roleRef", {}), ns)):
                    return True
    return False


def rules_for(store, user, ns):
    """(resourceRules, nonResourceRules) the user holds in ns, for SelfSubjectRulesReview."""
    res, nonres = [], []
    bindings = [(b, None) for b in store.list_refs(("rbac.authorization.k8s.io", "v1", "clusterrolebindings"))[0]]
    if ns:
        bindings += [(b, ns) for b in store.list_refs(("rbac.authorization.k8s.io", "v1", "rolebindings"), ns)[0]]
    for b, bns in bindings:
        if not any(_subject_matches(s, user) for s in b.get("subjects") or []):
            continue
        for r in _role_rules(store, b.get("roleRef", {}), bns):
            if r.get("nonResourceURLs"):
                nonres.append({"verbs": r.get("verbs") or [], "nonResourceURLs": r["nonResourceURLs"]})
            else:
                out = {"verbs": r.get("verbs") or [], "apiGroups": r.get("apiGroups") or [],
                       "resources": r.get("resources") or []}
                if r.get("resourceNames"):
                    out["resourceNames"] = r["resourceNames"]
                res.append(out)
    res.append({"verbs": ["create"], "apiGroups": ["authorization.k8s.io"],
                "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]})
    return res, nonres


def forbidden(user, attrs) -> ApiException:
    gr = attrs["resource"] + (f".{attrs['group']}" if attrs.get("group") else "")
    res = attrs["resource"] + (f"/{attrs['subresource']}" if attrs.get("subresource") else "")
    who = f'User "{user["username"]}" cannot {attrs["verb"]} resource "{res}" in API group "{attrs.get("group", "")}"'
    where = f' in the namespace "{attrs["namespace"]}"' if attrs.get("namespace") else " at the cluster scope"
    subject = f'{gr} "{attrs["name"]}"' if attrs.get("name") else gr
    return ApiException(403, "Forbidden", f"{subject} is forbidden: {who}{where}",
                        details={"name": attrs.get("name", ""), "group": attrs.get("group", ""),
                                 "kind": attrs["resource"]})


def default_cluster_roles() -> list:
    ro = ["get", "list", "watch"]
    rw = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]
    return [
        {"metadata": {"name": "cluster-admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                   {"nonResourceURLs": ["*"], "verbs": ["*"]}]},
        {"metadata": {"name": "admin", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": rw}]},
        {"metadata": {"name": "edit", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
         "rules": [{"apiGroups": ["", "apps", "batch", "coordination.k8s.io", "events.k8s.io"],
                    "resources": ["*"], "verbs": rw}]},
        {"metadata": {"name": "view", "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"}},
         "rules": [{"apiGroups": ["", "apps", "batch", "coordination.k8s.io", "events.k8s.io"],
                    "resources": ["*"], "verbs": ro}]},
    ]
