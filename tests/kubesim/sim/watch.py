"""List (paging, selectors, one serialisation pass) and watch (chunked stream, resume, bookmarks, 410,
timeouts, selector transitions, faults) for the request handler."""
import base64
import json
import os
import queue
import time

from .errors import ApiException

BOOKMARK_INTERVAL = float(os.environ.get("KUBESIM_BOOKMARK_INTERVAL", "5"))


def _json_bytes(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


class ListWatchMixin:
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
        if self._accepts_metadata():
            self._send_json(200, {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1", "metadata": md,
                                  "items": [{"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                                             "metadata": o.get("metadata", {})} for o in items]})
            return 200
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
