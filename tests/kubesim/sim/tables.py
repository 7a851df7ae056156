"""Table answers (meta.k8s.io/v1) for kubectl get: built-in columns, CRD printer columns, row objects."""
import time

from . import crd as crdmod


class TablesMixin:
    def _accepts_metadata(self):
        return "as=PartialObjectMetadata" in (self.headers.get("Accept") or "")

    def _accepts_table(self):
        return "as=Table" in (self.headers.get("Accept") or "")

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


def _age(o, n):
    from .api_types import human_duration, parse_iso
    return human_duration(n - parse_iso(o.get("metadata", {}).get("creationTimestamp", "")))
