"""Patches: JSON merge (RFC 7386), JSON patch (RFC 6902), strategic merge (keyed lists), server-side apply
with managedFields (FieldsV1), conflicts and force."""
import json

from .api_types import now_iso
from .errors import ApiException


def _bad(msg):
    return ApiException(422, "Invalid", msg) if False else ApiException(400, "BadRequest", msg)


# ------------------------------------------------------------------ merge patch

def merge_patch(target, patch):
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# ------------------------------------------------------------------ JSON patch

def _ptr(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise _bad(f"invalid JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _parent(doc, parts, path):
    cur = doc
    for p in parts[:-1]:
        if isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError):
                raise ApiException(422, "Invalid", f"the server rejected our request due to an error in our "
                                                   f"request: path {path!r} does not exist")
        elif isinstance(cur, dict) and p in cur:
            cur = cur[p]
        else:
            raise ApiException(422, "Invalid", f"the server rejected our request due to an error in our request: "
                                               f"doc is missing path: {path!r}")
    return cur


def _get(doc, path):
    parts = _ptr(path)
    if not parts:
        return doc
    par = _parent(doc, parts, path)
    last = parts[-1]
    try:
        return par[int(last)] if isinstance(par, list) else par[last]
    except (KeyError, IndexError, ValueError):
        raise ApiException(422, "Invalid", f"doc is missing path: {path!r}")


def _remove(doc, path):
    parts = _ptr(path)
    par = _parent(doc, parts, path)
    last = parts[-1]
    try:
        if isinstance(par, list):
            return par.pop(int(last))
        return par.pop(last)
    except (KeyError, IndexError, ValueError):
        raise ApiException(422, "Invalid", f"the server rejected our request due to an error in our request: "
                                           f"unable to remove nonexistent key: {last}: missing value")


def _add(doc, path, value):
    parts = _ptr(path)
    if not parts:
        return value
    par = _parent(doc, parts, path)
    last = parts[-1]
    if isinstance(par, list):
        if last == "-":
            par.append(value)
        else:
            try:
                i = int(last)
            except ValueError:
                raise _bad(f"invalid index {last!r}")
            if i > len(par):
                raise ApiException(422, "Invalid", f"index out of range: {path}")
            par.insert(i, value)
    elif isinstance(par, dict):
        par[last] = value
    else:
        raise ApiException(422, "Invalid", f"cannot add at {path}")
    return doc


def json_patch(doc, ops):
    if not isinstance(ops, list):
        raise _bad("json patch must be a list of operations")
    doc = json.loads(json.dumps(doc))
    for op in ops:
        kind = op.get("op")
        path = op.get("path", "")
        if kind == "add":
            doc = _add(doc, path, op.get("value"))
        elif kind == "remove":
            _remove(doc, path)
        elif kind == "replace":
            _get(doc, path)
            if not _ptr(path):
                doc = op.get("value")
            else:
                _remove(doc, path)
                doc = _add(doc, path, op.get("value"))
        elif kind == "move":
            v = _remove(doc, op["from"])
            doc = _add(doc, path, v)
        elif kind == "copy":
            doc = _add(doc, path, json.loads(json.dumps(_get(doc, op["from"]))))
        elif kind == "test":
            if _get(doc, path) != op.get("value"):
                raise ApiException(422, "Invalid", f"the server rejected our request due to an error in our "
                                                   f"request: testing value {path} failed")
        else:
            raise _bad(f"Unexpected kind: {kind}")
    return doc


# ------------------------------------------------------------------ strategic merge

_KEYS = {"containers": "name", "initContainers": "name", "ephemeralContainers": "name", "env": "name",
         "volumes": "name", "imagePullSecrets": "name", "volumeMounts": "mountPath", "conditions": "type",
         "ownerReferences": "uid", "hostAliases": "ip", "ports": None, "topologySpreadConstraints": "topologyKey"}
_SET_LISTS = {"finalizers"}


def merge_key(field, items):
    if field not in _KEYS:
        return None
    k = _KEYS[field]
    if k is None:  # container ports are keyed by containerPort, service ports by port
        sample = next((i for i in items if isinstance(i, dict)), {})
        return "containerPort" if "containerPort" in sample else "port"
    return k


def strategic_merge(target, patch, field=None):
    if not isinstance(patch, dict):
        return patch
    if patch.get("$patch") == "replace":
        return {k: v for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    retain = patch.get("$retainKeys")
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            name = k.split("/", 1)[1]
            out[name] = [x for x in out.get(name) or [] if x not in v]
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list):
            out[k] = _merge_list(out.get(k), v, k)
        elif isinstance(v, dict):
            r = strategic_merge(out.get(k), v, k)
            if r is None:
                out.pop(k, None)
            else:
                out[k] = r
        else:
            out[k] = v
    if retain is not None:
        out = {k: v for k, v in out.items() if k in retain}
    for k, v in patch.items():  # $setElementOrder only reorders: keep the order it gives
        if k.startswith("$setElementOrder/"):
            name = k.split("/", 1)[1]
            if isinstance(out.get(name), list):
                out[name] = _reorder(out[name], v, name)
    return out


def _reorder(items, order, field):
    key = merge_key(field, items)
    if key is None:
        return items
    pos = {json.dumps(o.get(key) if isinstance(o, dict) else o): i for i, o in enumerate(order)}
    return sorted(items, key=lambda it: pos.get(json.dumps(it.get(key) if isinstance(it, dict) else it), 1 << 30))


def _merge_list(cur, patch_items, field):
    cur = list(cur or [])
    if field in _SET_LISTS:
        for x in patch_items:
            if x not in cur:
                cur.append(x)
        return cur
    key = merge_key(field, patch_items + cur)
    if key is None or not all(isinstance(i, dict) for i in patch_items):
        return [i for i in patch_items if not (isinstance(i, dict) and i.get("$patch"))]
    if any(i.get("$patch") == "replace" for i in patch_items):
        return [i for i in patch_items if i.get("$patch") != "replace"]
    for item in patch_items:
        kv = item.get(key)
        idx = next((n for n, c in enumerate(cur) if isinstance(c, dict) and c.get(key) == kv), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                cur.pop(idx)
            continue
        if idx is None:
            cur.append(strategic_merge({}, item, field))
        else:
            cur[idx] = strategic_merge(cur[idx], item, field)
    return cur


# ------------------------------------------------------------------ managed fields (FieldsV1)

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
    for p in sorted(previously - applied_paths - others, key=len, reverse=True):
        if any(q[:len(p)] == p and q != p for q in applied_paths | others):
            continue
        _remove_path(merged, p)
    _set_entry(merged, manager, "Apply", api_version, applied_paths, subresource)
    return merged
