"""Patches: JSON merge (RFC 7386), JSON patch (RFC 6902), strategic merge (keyed lists, directives).
Server-side apply and managedFields are in apply.py."""
import json

from .errors import ApiException


def _bad(msg):
    return ApiException(400, "BadRequest", msg)


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
