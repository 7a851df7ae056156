"""CustomResourceDefinitions served dynamically: registration, status conditions, structural schema
defaulting/pruning/validation, a small CEL subset for x-kubernetes-validations, printer columns."""
import json
import re

from .api_types import ResourceInfo, human_duration, now_iso, parse_iso
from . import cel_rules, crd_schema

CRD_GR = ("apiextensions.k8s.io", "customresourcedefinitions")


def install(store):
    store.add_mutator(("apiextensions.k8s.io", "v1", "customresourcedefinitions"), _crd_status)
    store.add_validator(("apiextensions.k8s.io", "v1", "customresourcedefinitions"), _crd_validate)
    store.commit_hooks.append(_on_commit)


def _crd_validate(op, obj, old):
    """The CRD checks of apiextensions' validation.go, in its order: name, scope, each version's schema,
    storage versions, names, the shared schema (crd_schema.py has the schema checks)."""
    causes = []
    spec = obj.get("spec") or {}
    names = spec.get("names") or {}
    name = obj["metadata"].get("name", "")
    if name != f"{names.get('plural', '')}.{spec.get('group', '')}":
        causes.append({"reason": "FieldValueInvalid", "field": "metadata.name",
                       "message": f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group'})
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        causes.append({"reason": "FieldValueNotSupported", "field": "spec.scope",
                       "message": f'Unsupported value: "{spec.get("scope")}": supported values: "Cluster", '
                                  '"Namespaced"'})
    per_version, shared = crd_schema.validate(spec, (old or {}).get("spec") if old is not None else None)
    causes += per_version
    versions = spec.get("versions") or []
    if not versions:
        causes.append({"reason": "FieldValueRequired", "field": "spec.versions", "message": "Required value"})
    elif sum(1 for v in versions if v.get("storage")) != 1:
        causes.append({"reason": "FieldValueInvalid", "field": "spec.versions",
                       "message": "Invalid value: must have exactly one version marked as storage version"})
    if not names.get("kind"):
        causes.append({"reason": "FieldValueRequired", "field": "spec.names.kind", "message": "Required value"})
    return causes + shared


def _crd_status(op, obj, old):
    spec = obj.setdefault("spec", {})
    names = dict(spec.get("names") or {})
    names.setdefault("singular", names.get("kind", "").lower())
    names.setdefault("listKind", names.get("kind", "") + "List")
    spec["names"] = names
    for v in spec.get("versions") or []:
        v.setdefault("served", True)
    spec.setdefault("conversion", {"strategy": "None"})
    now = now_iso()
    status = obj.setdefault("status", {})
    conds = {c.get("type"): c for c in status.get("conditions") or []}
    for t, reason, msg in (("NamesAccepted", "NoConflicts", "no conflicts found"),
                           ("Established", "InitialNamesAccepted", "the initial names have been accepted")):
        if t not in conds or conds[t].get("status") != "True":
            conds[t] = {"type": t, "status": "True", "reason": reason, "message": msg, "lastTransitionTime": now}
    status["conditions"] = list(conds.values())
    status["acceptedNames"] = {k: v for k, v in names.items() if k in (
        "plural", "singular", "kind", "listKind", "shortNames", "categories")}
    stored = list(status.get("storedVersions") or [])
    for v in spec.get("versions") or []:
        if v.get("storage") and v["name"] not in stored:
            stored.append(v["name"])
    status["storedVersions"] = stored


def _info_from(crd):
    spec = crd["spec"]
    names = spec["names"]
    versions = [v["name"] for v in spec["versions"] if v.get("served", True)]
    subs = set()
    for v in spec["versions"]:
        for s in (v.get("subresources") or {}):
            subs.add(s)
    return ResourceInfo(spec["group"], versions, names["plural"], names.get("singular") or names["kind"].lower(),
                        names["kind"], spec.get("scope") == "Namespaced", list(names.get("shortNames") or []),
                        list(names.get("categories") or []), subs, crd=crd)


def _on_commit(store, type_, info, obj, old):
    """Lock held: serve (or stop serving) the resource a CRD defines, synchronously with its commit."""
    if info.gr != CRD_GR:
        return
    spec = obj.get("spec") or {}
    gr = (spec.get("group"), (spec.get("names") or {}).get("plural"))
    if type_ == "DELETED":
        store.unregister(gr)
        objs = store._objs.get(gr)
        if objs is not None:
            objs.clear()
        return
    new = _info_from(obj)
    store.register(new)


def version_schema(info, version=None):
    for v in info.crd["spec"]["versions"]:
        if v["name"] == (version or info.storage_version):
            return ((v.get("schema") or {}).get("openAPIV3Schema")) or {}
    return {}


def version_def(info, version):
    for v in info.crd["spec"]["versions"]:
        if v["name"] == version:
            return v
    return {}


# ------------------------------------------------------------------ defaulting and pruning

def default_and_prune(info, obj):
    version = obj.get("apiVersion", "").rpartition("/")[2] or info.storage_version
    schema = version_schema(info, version if version in info.versions else None)
    if not schema:
        return
    for k, v in list(obj.items()):
        if k in ("apiVersion", "kind", "metadata"):
            continue
        props = schema.get("properties") or {}
        if k not in props:
            if not schema.get("x-kubernetes-preserve-unknown-fields"):
                obj.pop(k)
            continue
        obj[k] = _walk_default(v, props[k])
    for k, s in (schema.get("properties") or {}).items():
        if k not in obj and "default" in s and k not in ("metadata", "apiVersion", "kind"):
            obj[k] = json.loads(json.dumps(s["default"]))
            obj[k] = _walk_default(obj[k], s)


def _walk_default(v, s):
    if isinstance(v, dict) and (s.get("type") == "object" or "properties" in s):
        props = s.get("properties")
        addl = s.get("additionalProperties")
        if props is not None or addl is not None:
            for k in list(v.keys()):
                if props and k in props:
                    v[k] = _walk_default(v[k], props[k])
                elif isinstance(addl, dict):
                    v[k] = _walk_default(v[k], addl)
                elif addl is True or s.get("x-kubernetes-preserve-unknown-fields"):
                    pass
                else:
                    v.pop(k)
        for k, ps in (props or {}).items():
            if k not in v and "default" in ps:
                v[k] = _walk_default(json.loads(json.dumps(ps["default"])), ps)
    elif isinstance(v, list) and isinstance(s.get("items"), dict):
        return [_walk_default(i, s["items"]) for i in v]
    return v


# ------------------------------------------------------------------ validation

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool}


def _tname(v):
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


def _fmt(v):
    return json.dumps(v) if isinstance(v, (str, int, float, bool)) and not isinstance(v, dict) else f'"{_tname(v)}"'


def validate(info, obj, old):
    version = obj.get("apiVersion", "").rpartition("/")[2]
    schema = version_schema(info, version if version in info.versions else None)
    causes = []
    if not schema:
        return causes
    top = dict(schema)
    props = dict(top.get("properties") or {})
    props.pop("metadata", None)
    top["properties"] = props
    top.pop("required", None) if False else None
    body = {k: v for k, v in obj.items() if k != "metadata"}
    _validate(body, top, "", causes, old if old is not None else None, old is not None, full=obj)
    return causes


def _validate(v, s, path, causes, old, has_old, full=None):
    def add(reason, msg):
        causes.append({"reason": reason, "message": msg, "field": path.lstrip(".") or "<root>"})

    where = path.lstrip(".")
    if v is None:
        if s.get("nullable"):
            return
    t = s.get("type")
    if s.get("x-kubernetes-int-or-string"):
        if not isinstance(v, (int, str)) or isinstance(v, bool):
            add("FieldValueTypeInvalid", f"Invalid value: {_fmt(v)}: {where} in body must be of type "
                                         f"int-or-string: {_fmt(_tname(v))}")
            return
    elif t:
        ok = True
        if t == "integer":
            ok = isinstance(v, int) and not isinstance(v, bool)
        elif t == "number":
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
        elif t in _TYPES:
            ok = isinstance(v, _TYPES[t]) and not (t != "boolean" and isinstance(v, bool))
        if not ok:
            add("FieldValueTypeInvalid", f"Invalid value: {_fmt(v)}: {where} in body must be of type {t}: "
                                         f'"{_tname(v)}"')
            return
    if "enum" in s and v not in s["enum"]:
        add("FieldValueNotSupported", f"Unsupported value: {_fmt(v)}: supported values: " +
            ", ".join(json.dumps(e) for e in s["enum"]))
    if isinstance(v, str):
        if "pattern" in s and not re.search(s["pattern"], v):
            add("FieldValueInvalid", f"Invalid value: {_fmt(v)}: {where} in body should match '{s['pattern']}'")
        if "maxLength" in s and len(v) > s["maxLength"]:
            # field.TooLong since kubernetes#128553 (v1.32) merged TooLongMaxLength into it
            n = s["maxLength"]
            add("FieldValueTooLong", f"Too long: may not be more than {n} {'byte' if n == 1 else 'bytes'}")
        if "minLength" in s and len(v) < s["minLength"]:
            add("FieldValueInvalid", f"Invalid value: {_fmt(v)}: {where} in body should be at least "
                                     f"{s['minLength']} chars long")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if "minimum" in s and (v < s["minimum"] or (s.get("exclusiveMinimum") is True and v == s["minimum"])):
            add("FieldValueInvalid", f"Invalid value: {v}: {where} in body should be greater than or equal to "
                                     f"{s['minimum']}")
        if "maximum" in s and (v > s["maximum"] or (s.get("exclusiveMaximum") is True and v == s["maximum"])):
            add("FieldValueInvalid", f"Invalid value: {v}: {where} in body should be less than or equal to "
                                     f"{s['maximum']}")
    if isinstance(v, dict):
        for r in s.get("required") or []:
            if r not in v:
                causes.append({"reason": "FieldValueRequired", "message": "Required value",
                               "field": f"{where}.{r}".lstrip(".")})
        props = s.get("properties") or {}
        addl = s.get("additionalProperties")
        for k, c in v.items():
            sub = props.get(k) if k in props else (addl if isinstance(addl, dict) else None)
            if sub is not None:
                o = old.get(k) if isinstance(old, dict) else None
                _validate(c, sub, f"{path}.{k}", causes, o, isinstance(old, dict) and k in old)
        if "maxProperties" in s and len(v) > s["maxProperties"]:
            add("TooMany", f"Too many: {len(v)}: must have at most {s['maxProperties']} items")
    if isinstance(v, list):
        if "maxItems" in s and len(v) > s["maxItems"]:
            add("FieldValueTooMany", f"Too many: {len(v)}: must have at most {s['maxItems']} items")
        if "minItems" in s and len(v) < s["minItems"]:
            add("FieldValueInvalid", f"Invalid value: {len(v)}: {where} in body should have at least "
                                     f"{s['minItems']} items")
        if isinstance(s.get("items"), dict):
            for i, c in enumerate(v):
                _validate(c, s["items"], f"{path}[{i}]", causes, None, False)
    # A rule at the root sees the whole object (apiVersion, kind, metadata); its errors have no field path,
    # which the real server prints as <nil>.
    causes += cel_rules.node_errors(s, full if full is not None else v, old if has_old else None,
                                    where or "<nil>", is_root=full is not None)


# ------------------------------------------------------------------ printer columns

def printer_columns(info, version):
    v = version_def(info, version)
    cols = v.get("additionalPrinterColumns")
    if cols is None:
        cols = info.crd["spec"].get("additionalPrinterColumns")  # v1beta1 style, tolerated
    out = [("Name", "string", 0, lambda o, n: o["metadata"]["name"], "Name must be unique within a namespace.")]
    if not cols:
        out.append(("Age", "date", 0, lambda o, n: human_duration(n - parse_iso(
            o["metadata"].get("creationTimestamp", ""))), "CreationTimestamp"))
        return out
    for c in cols:
        path = c.get("jsonPath", "")
        typ = c.get("type", "string")

        def cell(o, n, path=path, typ=typ):
            vals = jsonpath(o, path)
            if not vals:
                return None
            val = vals[0] if len(vals) == 1 else ",".join(str(x) for x in vals)
            if typ == "date" and isinstance(val, str):
                return human_duration(n - parse_iso(val))
            if typ == "string" and not isinstance(val, str):
                return json.dumps(val) if isinstance(val, (dict, list, bool)) else str(val)
            return val
        out.append((c.get("name", ""), typ, c.get("priority", 0), cell, c.get("description", "")))
    return out


def jsonpath(obj, path):
    """A JSONPath subset: .a.b, .a[0], .a[*].b, .a[?(@.k=="v")].b; returns the list of matches."""
    path = path.strip()
    if path.startswith("{") and path.endswith("}"):
        path = path[1:-1]
    if path.startswith("$"):
        path = path[1:]
    tokens = re.findall(r"\.([^.\[\]]+)|\[([^\]]*)\]", path)
    cur = [obj]
    for name, idx in tokens:
        nxt = []
        for c in cur:
            if name:
                if isinstance(c, dict) and name in c:
                    nxt.append(c[name])
            elif idx == "*":
                if isinstance(c, list):
                    nxt.extend(c)
                elif isinstance(c, dict):
                    nxt.extend(c.values())
            elif idx.startswith("?"):
                m = re.match(r"\?\(@\.([\w.]+)\s*==\s*['\"](.*)['\"]\)", idx)
                if m and isinstance(c, list):
                    for it in c:
                        vals = jsonpath(it, "." + m.group(1))
                        if vals and str(vals[0]) == m.group(2):
                            nxt.append(it)
            else:
                try:
                    if isinstance(c, list):
                        nxt.append(c[int(idx)])
                except (ValueError, IndexError):
                    pass
        cur = nxt
    return cur
