"""Subresources for the request handler: scale, pods/log (with follow), serviceaccounts/token,
pods/eviction, and the access reviews."""
from . import crd as crdmod
from . import rbac
from .api_types import now_iso
from .errors import ApiException, not_found
from .store import clone


class SubresourceMixin:
    # ------------------------------------------------------------------ scale
    def _scale_paths(self, info):
        if info.crd is not None:
            v = crdmod.version_def(info, info.storage_version)
            sc = (v.get("subresources") or {}).get("scale") or {}
            return (sc.get("specReplicasPath", ".spec.replicas"), sc.get("statusReplicasPath", ".status.replicas"),
                    sc.get("labelSelectorPath"))
        return (".spec.replicas", ".status.replicas", None)

    def _scale_of(self, info, obj):
        spec_p, status_p, sel_p = self._scale_paths(info)
        md = obj["metadata"]
        spec_r = crdmod.jsonpath(obj, spec_p)
        st_r = crdmod.jsonpath(obj, status_p)
        sel = ""
        if sel_p:
            s = crdmod.jsonpath(obj, sel_p)
            sel = s[0] if s else ""
        else:
            ml = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
            sel = ",".join(f"{k}={v}" for k, v in ml.items())
        status = {"replicas": st_r[0] if st_r else 0}
        if sel:
            status["selector"] = sel
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {"name": md["name"], "namespace": md.get("namespace"), "uid": md["uid"],
                             "resourceVersion": md["resourceVersion"],
                             "creationTimestamp": md.get("creationTimestamp")},
                "spec": {"replicas": spec_r[0] if spec_r else 0}, "status": status}

    def _update_scale(self, req, fn):
        store = self.api.store
        info = req.info
        gvr = self._gvr(req)
        with store.lock:
            live = store.get_ref(gvr, req.namespace, req.name)
            if live is None:
                raise not_found(info.plural, req.name, info.group)
            scale = fn(self._scale_of(info, live))
            replicas = (scale.get("spec") or {}).get("replicas")
            if not isinstance(replicas, int) or replicas < 0:
                raise ApiException(422, "Invalid", f'Scale.autoscaling "{req.name}" is invalid: spec.replicas: '
                                                   f"Invalid value: {replicas}: must be greater than or equal to 0",
                                   causes=[{"reason": "FieldValueInvalid", "field": "spec.replicas",
                                            "message": f"Invalid value: {replicas}"}])
            want_rv = (scale.get("metadata") or {}).get("resourceVersion")
            new = clone(live)
            cur = new
            parts = self._scale_paths(info)[0].strip(".").split(".")
            for p in parts[:-1]:
                cur = cur.setdefault(p, {})
            cur[parts[-1]] = replicas
            if want_rv:
                new["metadata"]["resourceVersion"] = want_rv
            obj = store.update_ref(gvr, new, field_manager=self._manager(), manager_subresource="scale")
            return self._ok(200, self._scale_of(info, obj))

    # ------------------------------------------------------------------ subresource creates and reviews
    def _create_sub(self, req, body):
        store = self.api.store
        if req.sub == "token" and req.resource == "serviceaccounts":
            sa = store.get_ref(self._gvr(req), req.namespace, req.name)
            if sa is None:
                raise not_found("serviceaccounts", req.name)
            spec = body.get("spec") or {}
            token, exp = rbac.issue_token(sa, spec.get("audiences"), spec.get("expirationSeconds") or 3600)
            out = {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
                   "metadata": {"name": req.name, "namespace": req.namespace, "creationTimestamp": None},
                   "spec": {"audiences": spec.get("audiences") or ["https://kubernetes.default.svc"],
                            "expirationSeconds": spec.get("expirationSeconds") or 3600,
                            "boundObjectRef": spec.get("boundObjectRef")},
                   "status": {"token": token, "expirationTimestamp": now_iso(exp)}}
            return self._ok(201, out)
        if req.sub == "eviction" and req.resource == "pods":
            store.delete_ref(("", "v1", "pods"), req.namespace, req.name)
            return self._ok(201, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
        raise ApiException(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _review(self, req, body):
        store = self.api.store
        user = self.user
        out = clone(body)
        out.setdefault("metadata", {})["creationTimestamp"] = None
        spec = body.get("spec") or {}
        if req.resource == "selfsubjectreviews":
            out["status"] = {"userInfo": {"username": user["username"], "groups": user["groups"]}}
            return self._ok(201, out)
        if req.resource == "selfsubjectrulesreviews":
            if user.get("admin") or not self.api.rbac:
                rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
                nonres = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]
            else:
                rules, nonres = rbac.rules_for(store, user, spec.get("namespace"))
            out["status"] = {"resourceRules": rules, "nonResourceRules": nonres, "incomplete": False}
            return self._ok(201, out)
        subject = user
        if req.resource == "subjectaccessreviews":
            subject = {"username": spec.get("user", ""), "groups": spec.get("groups") or [],
                       "admin": "system:masters" in (spec.get("groups") or [])}
        ra = spec.get("resourceAttributes")
        nra = spec.get("nonResourceAttributes")
        if ra:
            attrs = {"verb": ra.get("verb", ""), "group": ra.get("group", ""), "resource": ra.get("resource", ""),
                     "subresource": ra.get("subresource") or None, "namespace": ra.get("namespace") or None,
                     "name": ra.get("name") or None}
        else:
            attrs = {"verb": (nra or {}).get("verb", ""), "path": (nra or {}).get("path", "")}
        ok = (not self.api.rbac) or rbac.allowed(store, subject, attrs)
        out["status"] = {"allowed": bool(ok)}
        if ok and self.api.rbac and not subject.get("admin"):
            out["status"]["reason"] = "RBAC: allowed by binding"
        return self._ok(201, out)

    # ------------------------------------------------------------------ logs
    def _log(self, pod):
        md = pod["metadata"]
        containers = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
        inits = [c["name"] for c in (pod.get("spec") or {}).get("initContainers") or []]
        c = self.q.get("container")
        if not c:
            if len(containers) != 1:
                raise ApiException(400, "BadRequest", f"a container name must be specified for pod {md['name']}, "
                                                      f"choose one of: [{' '.join(containers)}]")
            c = containers[0]
        if c not in containers + inits:
            raise ApiException(400, "BadRequest", f"container {c} is not valid for pod {md['name']}")
        key = (md.get("namespace"), md["name"], c)
        store = self.api.store
        text = store.pod_logs.get(key, "")
        tail = self.q.get("tailLines")
        if tail:
            lines = text.splitlines(True)
            text = "".join(lines[-int(tail):]) if int(tail) > 0 else ""
        if self.q.get("follow") not in ("true", "1"):
            self._send(200, text.encode(), "text/plain")
            return 200
        # follow: stream what is appended until the pod goes away (or the client leaves)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        sent = len(store.pod_logs.get(key, ""))
        if text:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(text.encode()), text.encode()))
        uid = md.get("uid")
        while not self.api.stopping.wait(0.25):
            cur = store.pod_logs.get(key, "")
            if len(cur) > sent:
                data = cur[sent:].encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                sent = len(cur)
            live = store.get_ref(("", "v1", "pods"), md.get("namespace"), md["name"])
            if live is None or live["metadata"].get("uid") != uid:
                break
        self.wfile.write(b"0\r\n\r\n")
        return 200
