"""Server-side apply and managedFields (FieldsV1): field sets, Update ownership, Apply merges, conflicts,
force, and removal of fields a manager stops applying."""
import json

from .api_types import now_iso
from .errors import ApiException
from .patch import merge_key

_META_TRACKED = ("labels", "annotations", "finalizers", "ownerReferences")


def _key_elem(key, item):
    return "k:" + json.dumps({key: item.get(key)}, separators=(",", ":"))


def field_paths(obj, skip_status=False):
    """The set of leaf paths (tuples of FieldsV1 elements) set in obj; keyed-list items are paths too."""
    out = set()

    def walk(v, path, field):
        if isinstance(v, dict):
            if not v:
                out.add(path)
                return
            for k, c in v.items():
                walk(c, path + ("f:" + k,), k)
        elif isinstance(v, list):
            key = merge_key(field, v) if v and all(isinstance(i, dict) for i in v) else None
            if key is None:
                out.add(path)
                return
            for item in v:
                p = path + (_key_elem(key, item),)
                out.add(p)
                for k, c in item.items():
                    walk(c, p + ("f:" + k,), k)
        else:
            out.add(path)

    for k, v in obj.items():
        if k in ("apiVersion", "kind"):
            continue
        if k == "status" and skip_status:
            continue
        if k == "metadata":
            for mk in _META_TRACKED:
                if mk in v:
                    walk(v[mk], ("f:metadata", "f:" + mk), mk)
            continue
        walk(v, ("f:" + k,), k)
    return out


def paths_to_fields(paths):
    tree = {}
    for p in sorted(paths, key=len):
        node = tree
        for el in p:
            node = node.setdefault(el, {})
    # nodes that are in the set and have children carry "."
    for p in paths:
        node = tree
        for el in p:
            node = node[el]
        if node and "." not in node:
            node["."] = {}
    return tree


def fields_to_paths(tree, prefix=()):
    out = set()
    for el, sub in (tree or {}).items():
        if el == ".":
            out.add(prefix)
            continue
        p = prefix + (el,)
        if not sub:
            out.add(p)
        else:
            out |= fields_to_paths(sub, p)
    return out


def value_at(obj, path):
    cur = obj
    field = None
    for el in path:
        if el.startswith("f:"):
            if not isinstance(cur, dict):
                return _MISSING
            field = el[2:]
            if field not in cur:
                return _MISSING
            cur = cur[field]
        elif el.startswith("k:"):
            want = json.loads(el[2:])
            if not isinstance(cur, list):
                return _MISSING
            cur = next((i for i in cur if isinstance(i, dict) and all(i.get(k) == v for k, v in want.items())),
                       _MISSING)
            if cur is _MISSING:
                return _MISSING
        else:
            return _MISSING
    return cur


_MISSING = object()


def _remove_path(obj, path):
    parent = value_at(obj, path[:-1]) if len(path) > 1 else obj
    el = path[-1]
    if el.startswith("f:") and isinstance(parent, dict):
        parent.pop(el[2:], None)
    elif el.startswith("k:") and isinstance(parent, list):
        want = json.loads(el[2:])
        for i, it in enumerate(parent):
            if isinstance(it, dict) and all(it.get(k) == v for k, v in want.items()):
                parent.pop(i)
                break


def path_str(path):
    s = ""
    for el in path:
        if el.startswith("f:"):
            s += "." + el[2:]
        else:
            want = json.loads(el[2:])
            s += "[" + ",".join(f"{k}={json.dumps(v)}" for k, v in want.items()) + "]"
    return s


def _entries(obj):
    return obj.setdefault("metadata", {}).setdefault("managedFields", [])


def _set_entry(obj, manager, operation, api_version, paths, subresource=None):
    entries = _entries(obj)
    for e in entries:
        if e.get("manager") == manager and e.get("operation") == operation and \
                e.get("subresource") == subresource:
            entry = e
            break
    else:
        entry = {"manager": manager, "operation": operation, "apiVersion": api_version}
        if subresource:
            entry["subresource"] = subresource
        entries.append(entry)
    entry["apiVersion"] = api_version
    entry["time"] = now_iso()
    entry["fieldsType"] = "FieldsV1"
    entry["fieldsV1"] = paths_to_fields(paths)
    if not paths:
        entries.remove(entry)


def _subtract_from_others(obj, manager, operation, paths, keep_apply_equal_to=None):
    for e in list(_entries(obj)):
        if e.get("manager") == manager and e.get("operation") == operation:
            continue
        own = fields_to_paths(e.get("fieldsV1"))
        left = own - paths
        if left != own:
            if left:
                e["fieldsV1"] = paths_to_fields(left)
            else:
                _entries(obj).remove(e)


def record_update(obj, old, manager, operation, api_version, subresource=None):
    """An Update-operation write by manager: the fields it changed become its own and no one else's."""
    md = obj.setdefault("metadata", {})
    if md.get("managedFields") is None:
        md["managedFields"] = []
    new_paths = field_paths(obj, skip_status=subresource != "status")
    if subresource == "scale":
        new_paths = {p for p in new_paths if p[:2] == ("f:spec", "f:replicas")}
    if subresource == "status":
        new_paths = {p for p in new_paths if p and p[0] == "f:status"}
    if old is None:
        changed = new_paths
    else:
        changed = {p for p in new_paths if value_at(old, p) != value_at(obj, p)}
    if not changed:
        if not md["managedFields"]:
            md.pop("managedFields")
        return
    _subtract_from_others(obj, manager, "Update", changed)
    mine = set()
    for e in md["managedFields"]:
        if e.get("manager") == manager and e.get("operation") == "Update" and e.get("subresource") == subresource:
            mine = fields_to_paths(e.get("fieldsV1"))
    mine = {p for p in mine if value_at(obj, p) is not _MISSING} | changed
    _set_entry(obj, manager, "Update", api_version, mine, subresource)


def _apply_merge(live, applied, field=None):
    if isinstance(applied, dict) and isinstance(live, dict):
        out = dict(live)
        for k, v in applied.items():
            out[k] = _apply_merge(live.get(k), v, k)
        return out
    if isinstance(applied, list) and isinstance(live, list):
        key = merge_key(field, applied + live) if applied and all(isinstance(i, dict) for i in applied) else None
        if key is None:
            return applied
        out = list(live)
        for item in applied:
            idx = next((n for n, c in enumerate(out) if isinstance(c, dict) and c.get(key) == item.get(key)), None)
            if idx is None:
                out.append(item)
            else:
                out[idx] = _apply_merge(out[idx], item, field)
        return out
    return applied


def server_side_apply(live, applied, manager, api_version, force=False, subresource=None):
    """Returns the new object after manager applies `applied` onto `live` (None: create)."""
    if not manager:
        raise ApiException(400, "BadRequest", "PATCH, application/apply-patch+yaml requires fieldManager to be set")
    applied = json.loads(json.dumps(applied))
    applied.get("metadata", {}).pop("managedFields", None)
    applied_paths = field_paths(applied, skip_status=subresource != "status")
    if subresource == "status":
        applied_paths = {p for p in applied_paths if p and p[0] == "f:status"}
    if live is None:
        obj = applied
        obj.setdefault("metadata", {})["managedFields"] = []
        _set_entry(obj, manager, "Apply", api_version, applied_paths, subresource)
        return obj
    obj = json.loads(json.dumps(live))
    md = obj.setdefault("metadata", {})
    entries = md.setdefault("managedFields", [])
    # conflicts: another manager owns a field we set, with a different value
    conflicts = {}
    for e in entries:
        if e.get("manager") == manager and e.get("operation") == "Apply":
            continue
        own = fields_to_paths(e.get("fieldsV1"))
        for p in applied_paths & own:
            if value_at(applied, p) != value_at(live, p) and not isinstance(value_at(applied, p), (dict,)) :
                conflicts.setdefault(e.get("manager"), (e.get("apiVersion"), []))[1].append(p)
    if conflicts and not force:
        causes, lines = [], []
        for mgr, (av, paths) in conflicts.items():
            for p in sorted(paths):
                causes.append({"reason": "FieldManagerConflict", "message": f'conflict with "{mgr}" using {av}',
                               "field": path_str(p)})
                lines.append((mgr, av, path_str(p)))
        n = len(causes)
        if n == 1:
            msg = f'Apply failed with 1 conflict: conflict with "{lines[0][0]}" using {lines[0][1]}: {lines[0][2]}'
        else:
            msg = f"Apply failed with {n} conflicts: " + "\n".join(
                f'conflicts with "{m}" using {a}:\n- {p}' for m, a, p in lines)
        raise ApiException(409, "Conflict", msg, causes=causes)
    previously = set()
    for e in entries:
        if e.get("manager") == manager and e.get("operation") == "Apply" and e.get("subresource") == subresource:
            previously = fields_to_paths(e.get("fieldsV1"))
    merged = _apply_merge({k: v for k, v in obj.items()}, {k: v for k, v in applied.items() if k != "metadata"})
    amd = applied.get("metadata", {})
    mmd = merged["metadata"]
    for mk in ("labels", "annotations"):
        if mk in amd:
            mmd[mk] = dict(mmd.get(mk) or {}, **(amd[mk] or {}))
    if "finalizers" in amd:
        mmd["finalizers"] = list(dict.fromkeys((mmd.get("finalizers") or []) + list(amd["finalizers"] or [])))
    if "ownerReferences" in amd:
        mmd["ownerReferences"] = _apply_merge(mmd.get("ownerReferences") or [], amd["ownerReferences"],
                                              "ownerReferences")
    # forced fields leave their previous owners
    if force and conflicts:
        _subtract_from_others(merged, manager, "Apply", {p for _, ps in conflicts.values() for p in ps})
    # fields this manager applied before and no longer applies are removed, unless someone else owns them
    others = set()
    for e in merged["metadata"].get("managedFields", []):
        if not (e.get("manager") == manager and e.get("operation") == "Apply"):
            others |= fields_to_paths(e.get("fieldsV1"))
    kept = applied_paths | others
    removed = []
    for p in sorted(previously - kept, key=len):   # items before their fields, so keys still match
        if any(p[:len(r)] == r for r in removed):
            continue
        if any(q[:len(p)] == p and q != p for q in kept):
            continue
        _remove_path(merged, p)
        removed.append(p)
    if previously == applied_paths and _without_managed(merged) == _without_managed(live):
        return json.loads(json.dumps(live))   # a no-op apply changes nothing, not even the entry's time
    _set_entry(merged, manager, "Apply", api_version, applied_paths, subresource)
    return merged


def _without_managed(obj):
    md = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return dict(obj, metadata=md)
