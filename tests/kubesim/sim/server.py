"""The HTTPS API server: TLS connections, routing, authentication, faults, RBAC, the verbs, request stats.
Tables, list/watch and subresources live in tables.py, watch.py and subresources.py (handler mixins)."""
import collections
import json
import logging
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import discovery, rbac
from . import field_validation as fv
from . import apply as applymod
from . import patch as patchmod
from .errors import ApiException, not_found
from .store import clone
from .subresources import SubresourceMixin
from .tables import TablesMixin
from .watch import ListWatchMixin

log = logging.getLogger("kubesim.server")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with getattr(self, "lock", threading.Lock()):
            self.total = 0
            self.by_verb = collections.Counter()
            self.by_resource = collections.Counter()
            self.by_code = collections.Counter()
            self.requests = collections.Counter()       # "verb resource"
            self.detailed = collections.Counter()       # "verb resource code"

    def record(self, verb, resource, code):
        with self.lock:
            self.total += 1
            self.by_verb[verb] += 1
            self.by_code[str(code)] += 1
            if resource:
                self.by_resource[resource] += 1
            key = f"{verb} {resource}" if resource else verb
            self.requests[key] += 1
            self.detailed[f"{key} {code}"] += 1

    def snapshot(self):
        with self.lock:
            return {"total": self.total, "by_verb": dict(self.by_verb), "by_resource": dict(self.by_resource),
                    "by_code": dict(self.by_code), "requests": dict(self.requests),
                    "by_verb_resource_code": dict(self.detailed)}


class Api:
    """Everything the handler needs: the store, faults, stats, RBAC switch."""

    def __init__(self, store, faults, rbac_enabled, port_ref):
        self.store = store
        self.faults = faults
        self.rbac = rbac_enabled
        self.stats = Stats()
        self.port_ref = port_ref
        self.stopping = threading.Event()


class Request:
    """A parsed resource request."""

    def __init__(self):
        self.group = ""
        self.version = ""
        self.resource = ""
        self.namespace = None
        self.name = None
        self.sub = None
        self.verb = ""
        self.info = None


def _json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


class Handler(TablesMixin, ListWatchMixin, SubresourceMixin, BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubesim"
    sys_version = ""
    api: Api = None
    ssl_ctx: ssl.SSLContext = None
    timeout = 600

    def setup(self):
        # Headers and body go out in separate writes: without NODELAY, Nagle and delayed ACKs add 40 ms each.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.settimeout(30)
        try:
            self.request = self.ssl_ctx.wrap_socket(self.request, server_side=True)
        except (ssl.SSLError, OSError):
            self.request.close()
            raise
        self.request.settimeout(self.timeout)
        super().setup()

    def log_message(self, fmt, *args):
        pass

    def handle(self):
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, socket.timeout, OSError):
            pass

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass
        try:
            self.request.close()   # the TLS wrapper; socketserver only knows the raw socket
        except OSError:
            pass

    # ------------------------------------------------------------------ plumbing
    def _send(self, code, body: bytes, ctype="application/json", headers=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        for w in getattr(self, "warnings", None) or []:
            self.send_header("Warning", '299 - "' + w.replace('"', '\\"') + '"')
        self.warnings = None
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, code, obj, headers=None, ctype="application/json"):
        self._send(code, _json_bytes(obj), ctype, headers)

    def _body(self):
        if self._body_cache is not None:  # read once per request
            return self._body_cache
        self._body_cache = self._read_body()
        return self._body_cache

    def _read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline().strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
            return data
        return self.rfile.read(n) if n else b""

    def _json_body(self):
        raw = self._body()
        if not raw:
            return None
        if "protobuf" in (self.headers.get("Content-Type") or ""):
            from . import protobuf
            try:
                return protobuf.decode(raw)
            except protobuf.ProtoError as e:
                raise ApiException(415, "UnsupportedMediaType", str(e))
        try:
            return json.loads(raw)
        except ValueError:   # YAML bodies (apply-patch+yaml) are accepted only in their JSON form
            raise ApiException(400, "BadRequest", "the body of the request was in an unknown format")

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("GET")

    # ------------------------------------------------------------------ entry
    def _dispatch(self, method):
        self._body_cache = None
        api = self.api
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        self.q = {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        if path.startswith("/kubesim/") or path == "/kubesim":
            return self._kubesim(method, path)
        verb, resource, code = method.lower(), "", 500
        self.warnings = None
        try:
            user = self._authenticate()
            req = self._parse(method, path)
            if req is not None:
                verb = req.verb
                resource = req.resource + (f"/{req.sub}" if req.sub else "")
            delay = api.faults.latency(verb, resource) if api.faults.faults else 0
            if delay:
                time.sleep(delay)
            if req is None:
                if api.rbac and not rbac.allowed(api.store, user, {"verb": verb, "path": path}):
                    raise ApiException(403, "Forbidden", f'forbidden: User "{user["username"]}" cannot get path '
                                                         f'"{path}"')
                code = self._nonresource(path)
                return
            if api.faults.faults:
                api.faults.check_error(verb, resource)
            if api.rbac and not user.get("admin"):
                attrs = {"verb": verb, "group": req.group, "resource": req.resource, "subresource": req.sub,
                         "namespace": req.namespace, "name": req.name}
                if not rbac.allowed(api.store, user, attrs):
                    raise rbac.forbidden(user, attrs)
            self.user = user
            code = self._resource(method, req)
        except ApiException as e:
            code = e.code
            # A request refused before its body was read (403, a fault) must still consume it: on a keep-alive
            # connection the leftover bytes would otherwise be parsed as the next request.
            try:
                self._body()
            except (ValueError, OSError):
                self.close_connection = True
            self._send_json(e.code, e.status(), e.headers)
        except (BrokenPipeError, ConnectionError, ssl.SSLError):
            code = 499
        except Exception as e:  # noqa: BLE001 - a server bug answers 500, never kills the connection thread
            log.exception("internal error on %s %s", method, self.path)
            code = 500
            self._send_json(500, ApiException(500, "InternalError", f"kubesim internal error: {e}").status())
        finally:
            api.stats.record(verb, resource, code)

    def _authenticate(self):
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            return rbac.authenticate_token(self.api.store, auth[7:].strip())
        try:
            cert = self.request.getpeercert()
        except (ValueError, AttributeError):
            cert = None
        user = rbac.ADMIN if cert else rbac.ANONYMOUS
        return self._impersonate(user) if self.headers.get("Impersonate-User") else user

    def _impersonate(self, user):
        """kubectl --as/--as-group: the admin (or anyone RBAC lets impersonate) acts as that user."""
        name = self.headers.get("Impersonate-User")
        groups = self.headers.get_all("Impersonate-Group") or []
        if self.api.rbac and not user.get("admin") and not rbac.allowed(
                self.api.store, user, {"verb": "impersonate", "group": "", "resource": "users", "name": name}):
            raise ApiException(403, "Forbidden", f'users "{name}" is forbidden: User "{user["username"]}" cannot '
                                                 f'impersonate resource "users" in API group "" at the cluster scope')
        groups = list(groups)
        if name.startswith("system:serviceaccount:"):
            ns = name.split(":")[2]
            groups += ["system:serviceaccounts", f"system:serviceaccounts:{ns}"]
        groups.append("system:authenticated")
        return {"username": name, "groups": groups, "admin": "system:masters" in groups}

    def _kubesim(self, method, path):
        api = self.api
        if path == "/kubesim/stats" and method == "GET":
            return self._send_json(200, api.stats.snapshot())
        if path == "/kubesim/stats/reset" and method == "POST":
            api.stats.reset()
            return self._send_json(200, {"reset": True})
        if path == "/kubesim/compact" and method == "POST":
            api.store.compact()
            return self._send_json(200, {"compactedAt": api.store.resource_version})
        if path == "/kubesim/healthz":
            return self._send(200, b"ok", "text/plain")
        return self._send_json(404, not_found("kubesim", path).status())

    # ------------------------------------------------------------------ non-resource
    def _nonresource(self, path):
        store = self.api.store
        accept = self.headers.get("Accept", "")
        if path == "/version":
            self._send_json(200, discovery.VERSION)
        elif path in ("/healthz", "/livez", "/readyz"):
            self._send(200, b"ok", "text/plain")
        elif path == "/api":
            if discovery.wants_aggregated(accept):
                self._send_json(200, discovery.aggregated(store, True), ctype=discovery.AGG_CT)
            else:
                self._send_json(200, discovery.api_versions(self.api.port_ref[0]))
        elif path == "/apis":
            if discovery.wants_aggregated(accept):
                self._send_json(200, discovery.aggregated(store, False), ctype=discovery.AGG_CT)
            else:
                self._send_json(200, discovery.api_group_list(store))
        elif path == "/openapi/v2":
            from . import openapi_v2
            self._send(200, openapi_v2.document(discovery.VERSION["gitVersion"]), openapi_v2.CONTENT_TYPE)
        elif path == "/openapi/v3":
            self._send_json(200, discovery.openapi_v3_root(store))
        elif path.startswith("/openapi/v3/"):
            rest = path[len("/openapi/v3/"):].split("/")
            d = None
            if rest[0] == "api" and len(rest) == 2:
                d = discovery.openapi_v3_gv(store, "", rest[1])
            elif rest[0] == "apis" and len(rest) == 3:
                d = discovery.openapi_v3_gv(store, rest[1], rest[2])
            if d is None:
                raise ApiException(404, "NotFound", "the server could not find the requested resource")
            self._send_json(200, d)
        elif path == "/api/v1":
            self._send_json(200, discovery.resource_list(store, "", "v1"))
        elif path.startswith("/apis/") and path.count("/") == 2:
            d = discovery.api_group(store, path.split("/")[2])
            if d is None:
                raise ApiException(404, "NotFound", "the server could not find the requested resource")
            self._send_json(200, d)
        elif path.startswith("/apis/") and path.count("/") == 3:
            _, _, g, v = path.split("/")
            d = discovery.resource_list(store, g, v)
            if d is None:
                raise ApiException(404, "NotFound", "the server could not find the requested resource")
            self._send_json(200, d)
        else:
            raise ApiException(404, "NotFound", "the server could not find the requested resource")
        return 200

    # ------------------------------------------------------------------ parsing
    def _parse(self, method, path):
        """Returns a Request for resource paths, None for everything else."""
        segs = [s for s in path.split("/") if s]
        if len(segs) >= 3 and segs[0] == "api" and segs[1] == "v1":
            group, version, rest = "", "v1", segs[2:]
        elif len(segs) >= 4 and segs[0] == "apis":
            group, version, rest = segs[1], segs[2], segs[3:]
        else:
            return None
        r = Request()
        r.group, r.version = group, version
        if rest[0] == "namespaces" and len(rest) >= 3 and not (len(rest) == 3 and rest[2] in ("status", "finalize")):
            r.namespace = rest[1]
            rest = rest[2:]
        r.resource = rest[0]
        r.name = rest[1] if len(rest) > 1 else None
        r.sub = "/".join(rest[2:]) if len(rest) > 2 else None
        store = self.api.store
        info = store.resources.get((group, r.resource))
        if info is None or version not in info.versions:
            raise ApiException(404, "NotFound", "the server could not find the requested resource")
        r.info = info
        if info.namespaced and r.namespace is None and r.name is not None:
            raise ApiException(404, "NotFound", "the server could not find the requested resource")
        if not info.namespaced and r.namespace is not None:
            raise ApiException(404, "NotFound", "the server could not find the requested resource")
        if r.sub and r.sub not in info.subresources:
            raise ApiException(404, "NotFound", "the server could not find the requested resource")
        watch = self.q.get("watch") in ("true", "1")
        r.verb = {"GET": ("watch" if watch else "list") if r.name is None else "get",
                  "POST": "create", "PUT": "update", "PATCH": "patch",
                  "DELETE": "deletecollection" if r.name is None else "delete"}[method]
        return r

    # ------------------------------------------------------------------ resource verbs
    def _gvr(self, req):
        return (req.group, req.version, req.resource)

    def _resource(self, method, req):
        store = self.api.store
        info = req.info
        if req.verb not in info.verbs and not (req.sub and req.verb in ("create", "get", "update", "patch")):
            raise ApiException(405, "MethodNotAllowed", f"the server does not allow this method on the requested "
                                                        f"resource")
        gvr = self._gvr(req)
        dry = self.q.get("dryRun") == "All"
        if req.verb == "get":
            obj = store.get_ref(gvr, req.namespace, req.name)
            if obj is None:
                raise not_found(info.plural, req.name, info.group)
            if req.sub == "scale":
                return self._ok(200, self._scale_of(info, obj))
            if req.sub == "log":
                return self._log(obj)
            return self._ok(200, obj, table=True)
        if req.verb == "list":
            return self._list(req)
        if req.verb == "watch":
            return self._watch(req)
        if req.verb == "create":
            body = self._json_body()
            if not isinstance(body, dict):
                raise ApiException(400, "BadRequest", "the body of the request was in an unknown format")
            if req.sub:
                return self._create_sub(req, body)
            if info.group in ("authorization.k8s.io", "authentication.k8s.io"):
                return self._review(req, body)
            md = body.setdefault("metadata", {})
            if info.namespaced and req.namespace is None:
                raise ApiException(405, "MethodNotAllowed", "the server does not allow this method on the requested "
                                                            "resource")
            if info.namespaced:
                if md.get("namespace") and md["namespace"] != req.namespace:
                    raise ApiException(400, "BadRequest", "the namespace of the provided object does not match "
                                                          "the namespace sent on the request")
                md["namespace"] = req.namespace
            self._check_kind(info, body, req)
            self._field_validation(info, body, req)
            obj = store.create_ref(gvr, body, field_manager=self._manager(), dry_run=dry, copy_in=False)
            return self._ok(201, obj)
        if req.verb == "update":
            body = self._json_body()
            if not isinstance(body, dict):
                raise ApiException(400, "BadRequest", "the body of the request was in an unknown format")
            if req.sub == "scale":
                return self._update_scale(req, lambda scale: body)
            md = body.setdefault("metadata", {})
            if md.get("name") and md["name"] != req.name:
                raise ApiException(400, "BadRequest", "the name of the object does not match the name on the URL")
            md["name"] = req.name
            if info.namespaced:
                md["namespace"] = req.namespace
            self._check_kind(info, body, req)
            self._field_validation(info, body, req)
            with store.lock:
                exists = store.get_ref(gvr, req.namespace, req.name) is not None
                if not exists and req.sub is None:   # PUT creates when the object does not exist
                    md.pop("resourceVersion", None)
                    obj = store.create_ref(gvr, body, field_manager=self._manager(), dry_run=dry, copy_in=False)
                    return self._ok(201, obj)
                obj = store.update_ref(gvr, body, subresource=req.sub, field_manager=self._manager(), dry_run=dry)
            return self._ok(200, obj)
        if req.verb == "patch":
            return self._patch(req, dry)
        if req.verb == "delete":
            return self._delete(req, dry)
        if req.verb == "deletecollection":
            items, _ = store.list_refs(gvr, req.namespace, self.q.get("labelSelector"), self.q.get("fieldSelector"))
            opts = self._json_body() or {}
            for o in items:
                try:
                    store.delete_ref(gvr, o["metadata"].get("namespace"), o["metadata"]["name"],
                                     opts.get("propagationPolicy") or self.q.get("propagationPolicy"))
                except ApiException:
                    pass
            return self._ok(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"})
        raise ApiException(405, "MethodNotAllowed", "method not allowed")

    def _check_kind(self, info, body, req):
        kind = body.get("kind")
        if kind and kind != info.kind:
            raise ApiException(400, "BadRequest", f'the kind in the data ({kind}) does not match "{info.kind}"')
        if info.crd is not None:
            body["apiVersion"] = info.api_version(req.version)

    def _field_validation(self, info, obj, req):
        """Create and update: undeclared fields refused (Strict), warned of (Warn, the default) or dropped
        (handlers/create.go and update.go decode with the strict serializer unless fieldValidation=Ignore)."""
        self.warnings = fv.check_decoded(info, req.version, obj, fv.directive(self.q)) or None

    def _manager(self):
        m = self.q.get("fieldManager")
        if m:
            return m
        ua = self.headers.get("User-Agent", "")
        return ua.split("/")[0] if ua else "unknown"

    def _ok(self, code, obj, table=False):
        if table and self._accepts_table():
            obj = self._table(self._req_info_for(obj), [obj], obj.get("metadata", {}).get("resourceVersion"))
        elif table and self._accepts_metadata():
            obj = partial_metadata(obj)
        self._send_json(code, obj)
        return code


    # ------------------------------------------------------------------ patch
    def _patch(self, req, dry):
        store = self.api.store
        info = req.info
        gvr = self._gvr(req)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        body = self._json_body()
        manager = self._manager()
        if req.sub == "scale":
            def apply_scale(scale):
                if ctype == "application/json-patch+json":
                    return patchmod.json_patch(scale, body)
                return patchmod.merge_patch(scale, body)
            return self._update_scale(req, apply_scale)
        with store.lock:
            live = store.get_ref(gvr, req.namespace, req.name)
            if ctype == "application/apply-patch+yaml":
                if not isinstance(body, dict):
                    raise ApiException(400, "BadRequest", "apply patch must be an object")
                # structured-merge-diff types the patch whatever fieldValidation says (structuredmerge.go Apply)
                typed = fv.typed_patch_error(info, req.version, body)
                if typed is not None:
                    raise typed
                force = self.q.get("force") in ("true", "1")
                if live is None:
                    body.setdefault("metadata", {})["name"] = req.name
                    if info.namespaced:
                        body["metadata"]["namespace"] = req.namespace
                    self._check_kind(info, body, req)
                    new = applymod.server_side_apply(None, body, self.q.get("fieldManager"),
                                                     info.api_version(req.version), force, req.sub)
                    obj = store.create_ref(gvr, new, dry_run=dry, copy_in=False)
                    return self._ok(201, obj)
                new = applymod.server_side_apply(live, body, self.q.get("fieldManager"),
                                                 info.api_version(req.version), force, req.sub)
                new["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
                obj = store.update_ref(gvr, new, subresource=req.sub, dry_run=dry, operation="Apply")
                return self._ok(200, obj)
            if live is None:
                raise not_found(info.plural, req.name, info.group)
            if ctype == "application/json-patch+json":
                new = patchmod.json_patch(live, body)
            elif ctype == "application/merge-patch+json":
                new = patchmod.merge_patch(clone(live), body)
            elif ctype == "application/strategic-merge-patch+json":
                if info.crd is not None:
                    raise ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown "
                                                                    "format - accepted media types include: "
                                                                    "application/json-patch+json, "
                                                                    "application/merge-patch+json, "
                                                                    "application/apply-patch+yaml")
                new = patchmod.strategic_merge(clone(live), body)
            else:
                raise ApiException(415, "UnsupportedMediaType", f"unsupported patch type {ctype!r}")
            if not isinstance(new, dict):
                raise ApiException(422, "Invalid", "patch produced a non-object")
            self.warnings = fv.check_patched(info, req.version, live, new, body, ctype, fv.directive(self.q)) or None
            new = clone(new)
            nmd = new.setdefault("metadata", {})
            if nmd.get("name") != req.name:
                nmd["name"] = req.name
            if info.namespaced:
                nmd["namespace"] = req.namespace
            # a patch carrying a resourceVersion is a precondition; otherwise none
            want = (body or {}).get("metadata", {}).get("resourceVersion") if isinstance(body, dict) else None
            if not want:
                nmd["resourceVersion"] = live["metadata"]["resourceVersion"]
            obj = store.update_ref(gvr, new, subresource=req.sub, field_manager=manager, dry_run=dry)
        return self._ok(200, obj)

    # ------------------------------------------------------------------ delete
    def _delete(self, req, dry):
        store = self.api.store
        info = req.info
        opts = self._json_body() or {}
        prop = opts.get("propagationPolicy") or self.q.get("propagationPolicy")
        if not prop and opts.get("orphanDependents") is True:
            prop = "Orphan"
        obj = store.delete_ref(self._gvr(req), req.namespace, req.name, prop or "Background",
                               opts.get("preconditions"), dry)
        still = store.get_ref(self._gvr(req), req.namespace, req.name)
        if still is not None or info.gr in (("", "pods"), ("", "namespaces")):
            # 202 when a foreground deletion is still waiting for dependents, like the real server
            return self._ok(202 if still is not None and prop == "Foreground" else 200, obj)
        md = obj["metadata"]
        return self._ok(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                              "details": {"name": md["name"], "group": info.group, "kind": info.plural,
                                          "uid": md.get("uid")}})


def partial_metadata(obj):
    """meta.k8s.io/v1 PartialObjectMetadata: what metadata-only clients ask for."""
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 2048
    allow_reuse_address = True


def make_server(api: Api, port: int, certfile: str, keyfile: str, cafile: str) -> Server:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile, keyfile)
    ctx.load_verify_locations(cafile)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.set_alpn_protocols(["http/1.1"])
    handler = type("BoundHandler", (Handler,), {"api": api, "ssl_ctx": ctx})
    srv = Server(("127.0.0.1", port), handler)
    api.port_ref[0] = srv.server_address[1]
    return srv
