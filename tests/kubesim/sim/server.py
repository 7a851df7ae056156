"""The HTTPS API server: routing, verbs, tables, watches (chunked), faults, RBAC and request stats."""
import base64
import collections
import json
import logging
import os
import queue
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import crd as crdmod
from . import discovery, rbac
from . import patch as patchmod
from .api_types import now_iso
from .errors import ApiException, not_found
from .store import clone

log = logging.getLogger("kubesim.server")

BOOKMARK_INTERVAL = float(os.environ.get("KUBESIM_BOOKMARK_INTERVAL", "5"))


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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kubesim"
    sys_version = ""
    api: Api = None
    ssl_ctx: ssl.SSLContext = None
    timeout = 600

    def setup(self):
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
        if cert:
            return rbac.ADMIN
        return rbac.ANONYMOUS

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
            raise ApiException(400, "BadRequest", f"the API version in the data ({body.get('apiVersion')}) does not "
                                                  f"match the expected API version ({info.api_version(req.version)})"
                               if False else f'the kind in the data ({kind}) does not match "{info.kind}"')
        if info.crd is not None:
            body["apiVersion"] = info.api_version(req.version)

    def _field_validation(self, info, obj, req):
        """fieldValidation=Strict rejects fields a CRD schema does not declare; Warn answers a Warning header."""
        mode = self.q.get("fieldValidation", "")
        if info.crd is None or mode not in ("Strict", "Warn"):
            return
        unknown = crdmod.unknown_fields(info, obj, req.version)
        if not unknown:
            return
        if mode == "Strict":
            detail = ", ".join(f'unknown field "{u}"' for u in unknown)
            raise ApiException(400, "BadRequest", f'{info.kind} in version "{req.version}" cannot be handled as a '
                                                  f"{info.kind}: strict decoding error: {detail}")
        self.warnings = [f'unknown field "{u}"' for u in unknown]

    def _manager(self):
        m = self.q.get("fieldManager")
        if m:
            return m
        ua = self.headers.get("User-Agent", "")
        return ua.split("/")[0] if ua else "unknown"

    def _accepts_table(self):
        return "as=Table" in (self.headers.get("Accept") or "")

    def _ok(self, code, obj, table=False):
        if table and self._accepts_table():
            obj = self._table(self._req_info_for(obj), [obj], obj.get("metadata", {}).get("resourceVersion"))
        self._send_json(code, obj)
        return code

    def _req_info_for(self, obj):
        store = self.api.store
        av = obj.get("apiVersion", "")
        g, _, v = av.rpartition("/")
        for info in list(store.resources.values()):
            if info.group == g and info.kind == obj.get("kind") and v in info.versions:
                return (info, v)
        return (None, v)

    # ------------------------------------------------------------------ tables
    def _columns(self, info, version):
        if info is None:
            return [("Name", "string", 0, lambda o, n: o["metadata"]["name"], "")]
        if info.crd is not None:
            return crdmod.printer_columns(info, version)
        cols = info.columns or [("Name", "string", 0, lambda o, n: o["metadata"]["name"]),
                                ("Age", "string", 0, lambda o, n: _age(o, n))]
        return [c + ("",) if len(c) == 4 else c for c in cols]

    def _table(self, info_v, objs, rv, cont=None, remaining=None):
        info, version = info_v
        cols = self._columns(info, version)
        now = time.time()
        include = self.q.get("includeObject", "Metadata")
        rows = []
        for o in objs:
            cells = []
            for c in cols:
                try:
                    cells.append(c[3](o, now))
                except Exception:  # noqa: BLE001 - a malformed object prints an empty cell, like kubectl
                    cells.append(None)
            row = {"cells": cells}
            if include == "Object":
                row["object"] = o
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                 "metadata": o.get("metadata", {})}
            rows.append(row)
        md = {"resourceVersion": str(rv)} if rv else {}
        if cont:
            md["continue"] = cont
        if remaining:
            md["remainingItemCount"] = remaining
        defs = []
        for c in cols:
            d = {"name": c[0], "type": c[1], "format": "name" if c[0] == "Name" else "", "description": c[4] or c[0],
                 "priority": c[2]}
            defs.append(d)
        return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": md, "columnDefinitions": defs,
                "rows": rows}

    # ------------------------------------------------------------------ list
    def _list(self, req):
        store = self.api.store
        info = req.info
        items, rv = store.list_refs(self._gvr(req), req.namespace, self.q.get("labelSelector"),
                                    self.q.get("fieldSelector"))
        cont_tok = self.q.get("continue")
        if cont_tok:
            try:
                tok = json.loads(base64.urlsafe_b64decode(cont_tok + "=" * (-len(cont_tok) % 4)))
                start = tuple(tok["start"])
            except (ValueError, KeyError, TypeError):
                raise ApiException(400, "BadRequest", "continue key is not valid")
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start]
            rv = tok.get("rv", rv)
            if rv < getattr(store, "_compacted_all", 0):
                raise ApiException(410, "Expired", "The provided continue parameter is too old to display a "
                                                   "consistent list result. You can start a new list without the "
                                                   "continue parameter.")
        try:
            limit = int(self.q.get("limit") or 0)
        except ValueError:
            raise ApiException(400, "BadRequest", f"invalid limit: {self.q.get('limit')!r}")
        cont, remaining = None, None
        if limit and len(items) > limit:
            last = items[limit - 1]["metadata"]
            remaining = len(items) - limit
            items = items[:limit]
            cont = base64.urlsafe_b64encode(json.dumps(
                {"rv": rv, "start": [last.get("namespace", ""), last["name"]]}).encode()).decode().rstrip("=")
        if self._accepts_table():
            self._send_json(200, self._table((info, req.version), items, rv, cont, remaining))
            return 200
        md = {"resourceVersion": str(rv)}
        if cont:
            md["continue"] = cont
            md["remainingItemCount"] = remaining
        kind = "EventList" if info.view_of else f"{info.kind}List"
        # Serialise item by item: no copy of the store, one join.
        head = _json_bytes({"kind": kind, "apiVersion": info.api_version(req.version), "metadata": md})[:-1]
        body = head + b',"items":[' + b",".join(_json_bytes(o) for o in items) + b"]}"
        self._send(200, body)
        return 200

    # ------------------------------------------------------------------ watch
    def _watch(self, req):
        api = self.api
        store = api.store
        info = req.info
        resource = req.resource
        rv_param = self.q.get("resourceVersion", "")
        timeout = float(self.q.get("timeoutSeconds") or 1800)
        close_after = api.faults.watch_close(resource) if api.faults.faults else None
        if close_after:
            timeout = min(timeout, close_after)
        bookmarks = self.q.get("allowWatchBookmarks") in ("true", "1")
        initial = self.q.get("sendInitialEvents") == "true"
        lmatch_sel = self.q.get("labelSelector")
        from .selectors import parse_field_selector, parse_label_selector
        lmatch = parse_label_selector(lmatch_sel)
        fsel = self.q.get("fieldSelector")
        fmatch = parse_field_selector(fsel) if fsel else None
        table = self._accepts_table()
        gvr = self._gvr(req)
        since = None
        if rv_param not in ("", "0") and not initial:
            try:
                since = int(rv_param)
            except ValueError:
                raise ApiException(400, "BadRequest", f"invalid resource version: {rv_param}")
        gone = False
        with store.lock:
            if since is not None and api.faults.faults and since < store.last_change(gvr) and \
                    api.faults.gone_on_resume(resource):
                gone = True
                w, backlog = None, []
            else:
                w, backlog, gone = store.watch(gvr, req.namespace, since)
            initial_items = []
            if not gone and since is None:
                initial_items, _ = store.list_refs(gvr, req.namespace, lmatch_sel, fsel)
            start_rv = store.resource_version
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.wfile.flush()

        def chunk(data: bytes):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

        def line(type_, obj):
            if table:
                obj = self._table(self._req_info_for(obj) if obj.get("kind") != "Status" else (None, ""),
                                  [obj], None) if obj.get("kind") not in ("Status",) else obj
            return _json_bytes({"type": type_, "object": obj}) + b"\n"

        try:
            if gone:
                st = ApiException(410, "Expired", f"too old resource version: {rv_param} "
                                                  f"({store.resource_version})").status()
                chunk(_json_bytes({"type": "ERROR", "object": st}) + b"\n")
                self.wfile.flush()
                return 410
            buf = []
            for o in initial_items:
                buf.append(line("ADDED", store._present(info, o, req.version)))
            if initial and bookmarks:
                buf.append(self._bookmark(info, req.version, start_rv, initial_end=True))
            for ev in backlog:
                b = self._event_line(ev, info, req.version, lmatch, fmatch, table, line)
                if b:
                    buf.append(b)
            if buf:
                chunk(b"".join(buf))
            self.wfile.flush()
            deadline = time.monotonic() + timeout
            next_bm = time.monotonic() + BOOKMARK_INTERVAL
            last_rv = max(start_rv, backlog[-1].rv if backlog else 0)
            while not api.stopping.is_set():
                now = time.monotonic()
                if now >= deadline:
                    break
                wait = min(deadline - now, (next_bm - now) if bookmarks else 1.0, 1.0)
                try:
                    ev = w.q.get(timeout=max(wait, 0.001))
                except queue.Empty:
                    if bookmarks and time.monotonic() >= next_bm:
                        chunk(self._bookmark(info, req.version, max(last_rv, store.resource_version)))
                        self.wfile.flush()
                        next_bm = time.monotonic() + BOOKMARK_INTERVAL
                    continue
                out = []
                while ev is not None:
                    b = self._event_line(ev, info, req.version, lmatch, fmatch, table, line)
                    last_rv = ev.rv
                    if b:
                        out.append(b)
                    try:
                        ev = w.q.get_nowait()
                    except queue.Empty:
                        ev = None
                if out:
                    chunk(b"".join(out))
                    self.wfile.flush()
            chunk(b"")
            self.wfile.flush()
        finally:
            if w is not None:
                store.unwatch(w)
        return 200

    def _bookmark(self, info, version, rv, initial_end=False):
        md = {"resourceVersion": str(rv)}
        if initial_end:
            md["annotations"] = {"k8s.io/initial-events-end": "true"}
        return _json_bytes({"type": "BOOKMARK", "object": {"kind": info.kind, "apiVersion": info.api_version(version),
                                                           "metadata": md}}) + b"\n"

    def _event_line(self, ev, info, version, lmatch, fmatch, table, line):
        store = self.api.store
        obj = store._present(info, ev.obj, version)
        now_match = lmatch(obj["metadata"].get("labels")) and (fmatch is None or fmatch(obj))
        type_ = ev.type
        if ev.type == "MODIFIED" and ev.old is not None:
            old = store._present(info, ev.old, version)
            was = lmatch(old["metadata"].get("labels")) and (fmatch is None or fmatch(old))
            if was and not now_match:
                type_ = "DELETED"
            elif now_match and not was:
                type_ = "ADDED"
            elif not now_match:
                return None
        elif not now_match:
            return None
        if not table and type_ == ev.type:
            key = (version, info.gr)
            cache = getattr(ev, "cache", None)
            if cache is not None and cache[0] == key:
                return cache[1]
            b = line(type_, obj)
            try:
                ev.cache = (key, b)
            except AttributeError:
                pass
            return b
        return line(type_, obj)

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
                force = self.q.get("force") in ("true", "1")
                if live is None:
                    body.setdefault("metadata", {})["name"] = req.name
                    if info.namespaced:
                        body["metadata"]["namespace"] = req.namespace
                    self._check_kind(info, body, req)
                    new = patchmod.server_side_apply(None, body, self.q.get("fieldManager"),
                                                     info.api_version(req.version), force, req.sub)
                    obj = store.create_ref(gvr, new, dry_run=dry, copy_in=False)
                    return self._ok(201, obj)
                new = patchmod.server_side_apply(live, body, self.q.get("fieldManager"),
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
            self._field_validation(info, new, req)
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


def _age(o, n):
    from .api_types import human_duration, parse_iso
    return human_duration(n - parse_iso(o.get("metadata", {}).get("creationTimestamp", "")))


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
