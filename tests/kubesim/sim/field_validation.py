"""Field validation as a kube-apiserver v1.32 does it, for custom and built-in kinds alike, against one schema
walk (CRD structural schemas; builtin_schema.py for the built-ins):

- create, update and the JSON/merge/strategic patches decode strictly under fieldValidation=Strict or Warn (Warn is
  the server's default): undeclared fields are `unknown field "spec.x"` errors (Strict) or warnings (Warn), and are
  dropped from a built-in object as Go's decoding drops them (a custom object's are pruned by crd.py);
- server-side apply first types the apply patch with structured-merge-diff, whatever fieldValidation says: an
  undeclared field fails the request (`.spec.x: field not declared in schema`).
"""
import json

from . import builtin_schema
from . import crd as crdmod
from .errors import ApiException


# ------------------------------------------------------------------ schemas

def schema_for(info, version):
    """The root schema objects of this resource are checked against, or None (kinds kubesim has no schema of)."""
    if info.crd is None:
        return builtin_schema.kind_schema(info.group, version, info.kind)
    schema = crdmod.version_schema(info, version if version in info.versions else None)
    if not schema:
        return None
    # apiextensions publishes every custom resource with ObjectMeta for metadata and apiVersion/kind declared,
    # whatever the CRD's own schema says of them.
    root = dict(schema)
    props = dict(root.get("properties") or {})
    props.update(apiVersion={"type": "string"}, kind={"type": "string"}, metadata=builtin_schema.object_meta())
    root["properties"] = props
    root["type"] = "object"
    return root


_OPEN = "open"      # an object whose undeclared fields are kept (x-kubernetes-preserve-unknown-fields)


def _shape(s):
    """("any" | "scalar" | "list" | "map" | "struct", schema, open) of a schema node."""
    s = builtin_schema.resolve(s)
    if not isinstance(s, dict):
        return "any", {}, True
    if s.get("x-kubernetes-int-or-string"):
        return "scalar", s, False
    t = s.get("type")
    preserve = bool(s.get("x-kubernetes-preserve-unknown-fields"))
    if t == "array":
        return "list", s, False
    props, addl = s.get("properties"), s.get("additionalProperties")
    if t == "object" or props is not None or addl is not None:
        if props is None and isinstance(addl, dict):
            return "map", s, False
        if props is None and (addl is True or preserve):
            return "any", s, True
        if s.get("x-kubernetes-embedded-resource"):
            s = dict(s, properties=dict(props or {}, apiVersion={"type": "string"}, kind={"type": "string"},
                                        metadata=builtin_schema.object_meta()))
        return "struct", s, preserve or addl is True
    if t is None:
        return "any", s, True
    return "scalar", s, False


def _struct_child(s, key):
    props = s.get("properties") or {}
    if key in props:
        return props[key]
    addl = s.get("additionalProperties")
    return addl if isinstance(addl, dict) else None


# ------------------------------------------------------------------ strict decoding (create, update, patch)

def unknown_fields(schema, obj):
    """Paths of the fields the schema does not declare, as strict decoding names them: spec.template.spec.x,
    spec.containers[0].y. In document order."""
    out = []

    def walk(v, s, path):
        shape, s, is_open = _shape(s)
        if shape == "struct" and isinstance(v, dict):
            for k, c in v.items():
                child = _struct_child(s, k)
                here = f"{path}.{k}" if path else k
                if child is not None:
                    walk(c, child, here)
                elif not is_open:
                    out.append(here)
        elif shape == "map" and isinstance(v, dict):
            for k, c in v.items():
                walk(c, s["additionalProperties"], f"{path}.{k}" if path else k)
        elif shape == "list" and isinstance(v, list) and s.get("items") is not None:
            for i, c in enumerate(v):
                walk(c, s["items"], f"{path}[{i}]")

    walk(obj, schema, "")
    return out


def drop_unknown(schema, obj):
    """Removes what unknown_fields reports, as decoding into the Go type does for a built-in kind."""
    def walk(v, s):
        shape, s, is_open = _shape(s)
        if shape == "struct" and isinstance(v, dict):
            for k in list(v):
                child = _struct_child(s, k)
                if child is not None:
                    walk(v[k], child)
                elif not is_open:
                    del v[k]
        elif shape == "map" and isinstance(v, dict):
            for c in v.values():
                walk(c, s["additionalProperties"])
        elif shape == "list" and isinstance(v, list) and s.get("items") is not None:
            for c in v:
                walk(c, s["items"])

    walk(obj, schema)


# ------------------------------------------------------------------ structured-merge-diff typing (apply)

def _key_value(v):
    return json.dumps(v, separators=(",", ":"))


def typed_errors(schema, obj):
    """What structured-merge-diff's typing of an apply patch reports, as (path, message) pairs: an undeclared
    field (the first of its object, where SMD stops walking that object), a list-map item without a key and no
    default for it, duplicate keys. Paths are SMD's: .spec.template.spec.containers[name="operator"].x,
    [containerPort=8080,protocol="TCP"] (a key's default fills in), [0] in atomic lists."""
    errs = []

    def walk(v, s, path):
        shape, s, is_open = _shape(s)
        if shape == "struct" and isinstance(v, dict):
            for k, c in v.items():
                child = _struct_child(s, k)
                if child is None and not is_open:
                    errs.append((f"{path}.{k}", "field not declared in schema"))
                    return
                if child is not None:
                    walk(c, child, f"{path}.{k}")
        elif shape == "map" and isinstance(v, dict):
            for k, c in v.items():
                walk(c, s["additionalProperties"], f"{path}.{k}")
        elif shape == "list" and isinstance(v, list) and s.get("items") is not None:
            keys = s.get("x-kubernetes-list-map-keys") if s.get("x-kubernetes-list-type") == "map" else None
            item_shape = builtin_schema.resolve(s["items"])
            seen = set()
            for i, c in enumerate(v):
                if keys:
                    if not isinstance(c, dict):
                        what = "a null element" if c is None else "non-map elements"
                        errs.append((path, f"element {i}: associative list with keys may not have {what}"))
                        return
                    parts = []
                    for key in keys:
                        if key in c:
                            parts.append(f"{key}={_key_value(c[key])}")
                            continue
                        default = ((item_shape.get("properties") or {}).get(key) or {}).get("default")
                        if default is None:
                            errs.append((path, f"element {i}: associative list with keys has an element that "
                                               f'omits key field "{key}" (and doesn\'t have default value)'))
                            return
                        parts.append(f"{key}={_key_value(default)}")
                    element = "[" + ",".join(parts) + "]"
                    if element in seen:
                        errs.append((path, f"duplicate entries for key {element}"))
                    seen.add(element)
                else:
                    element = f"[{i}]"
                walk(c, s["items"], path + element)

    walk(obj, schema, "")
    return errs


def typed_patch_error(info, version, body):
    """The error a real server answers an apply patch it cannot type with, or None. structuredmerge.go returns it
    as a plain error, so it reaches the client as a 500 without a reason (kubernetes/kubernetes#122480, #139253):
    kubectl prints `Error from server: failed to create typed patch object (ns/name; apps/v1, Kind=Deployment):
    .spec.x: field not declared in schema`."""
    schema = schema_for(info, version)
    if schema is None or not isinstance(body, dict):
        return None
    errs = typed_errors(schema, body)
    if not errs:
        return None
    lines = [f"{p}: {m}" for p, m in errs]
    detail = lines[0] if len(lines) == 1 else "errors:\n" + "\n".join("  " + line for line in lines)
    md = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    api_version = str(body.get("apiVersion") or "")
    group, _, ver = api_version.rpartition("/")
    gvk = f"{group}/{ver}, Kind={body.get('kind') or ''}"
    return ApiException(500, "", f"failed to create typed patch object ({md.get('namespace') or ''}/"
                                 f"{md.get('name') or ''}; {gvk}): {detail}")


# ------------------------------------------------------------------ the directive

def directive(query):
    """fieldValidation as the server reads it: an absent value is Warn (handlers' fieldValidation())."""
    return query.get("fieldValidation") or "Warn"


def strict_decoding_error(paths):
    return "strict decoding error: " + ", ".join(f'unknown field "{p}"' for p in paths)


def check_decoded(info, version, obj, mode):
    """Create and update: ([warnings]) after dropping what a built-in kind does not declare; raises the 400 a
    strict decode answers. The object is changed in place."""
    schema = schema_for(info, version)
    if schema is None:
        return []
    unknown = unknown_fields(schema, obj) if mode in ("Strict", "Warn") else []
    if unknown and mode == "Strict":
        raise ApiException(400, "BadRequest", f'{info.kind} in version "{version}" cannot be handled as a '
                                              f"{info.kind}: {strict_decoding_error(unknown)}")
    if info.crd is None:
        drop_unknown(schema, obj)
    return [f'unknown field "{p}"' for p in unknown]


def check_patched(info, version, live, patched, patch_body, ctype, mode):
    """JSON, merge and strategic patches: the patched object decodes strictly; Strict refuses with 422 on the field
    `patch` (its value: the patch map as Go's %+v prints it for a strategic patch, the patched object's JSON
    otherwise), as patch.go's applyPatchToObject and jsonPatcher do. Only what the patch brings counts: a stored
    object holds no undeclared field on a real server, but kubesim's own controllers write through the store."""
    schema = schema_for(info, version)
    if schema is None:
        return []
    unknown = []
    if mode in ("Strict", "Warn"):
        before = set(unknown_fields(schema, live))
        unknown = [p for p in unknown_fields(schema, patched) if p not in before]
    if unknown and mode == "Strict":
        if ctype == "application/strategic-merge-patch+json":
            value = go_plus_v(patch_body)
        else:
            value = go_json(patched)
        detail = f"Invalid value: {go_quote(value)}: {strict_decoding_error(unknown)}"
        raise ApiException(422, "Invalid", f' "" is invalid: patch: {detail}',
                           causes=[{"reason": "FieldValueInvalid", "message": detail, "field": "patch"}])
    if info.crd is None and unknown:
        drop_paths(patched, unknown)
    return [f'unknown field "{p}"' for p in unknown]


def drop_paths(obj, paths):
    """Removes the fields unknown_fields named (spec.a[0].b)."""
    import re
    for path in paths:
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
        cur = obj
        for part in parts[:-1]:
            if part.startswith("[") and part[1:-1].isdigit() and isinstance(cur, list):
                cur = cur[int(part[1:-1])]
            elif isinstance(cur, dict):
                cur = cur.get(part)
            if cur is None:
                break
        if isinstance(cur, dict):
            cur.pop(parts[-1], None)


# ------------------------------------------------------------------ Go formatting of the refused value

def go_quote(s):
    """strconv.Quote, for the printable text a JSON document is."""
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif not ch.isprintable():
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x80 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def go_float_v(f):
    """%v of a float64: strconv's shortest 'g' form, in exponent form from an exponent of -5 or 6 digits on."""
    from decimal import Decimal
    if f == 0:
        return "0"
    sign, digits, exp = Decimal(repr(float(f))).normalize().as_tuple()
    d = "".join(map(str, digits))
    dp = len(d) + exp                      # where the decimal point goes
    x = dp - 1
    eprec = len(d) if 6 > len(d) >= dp else 6
    neg = "-" if sign else ""
    if x < -4 or x >= eprec:
        mant = d[0] + ("." + d[1:] if len(d) > 1 else "")
        return f"{neg}{mant}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{d}"
    if dp >= len(d):
        return neg + d + "0" * (dp - len(d))
    return f"{neg}{d[:dp]}.{d[dp:]}"


def go_plus_v(v):
    """fmt's %+v of a value json.Unmarshal made (maps sorted, numbers float64)."""
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go_plus_v(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go_plus_v(x) for x in v) + "]"
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return go_float_v(float(v))
    return str(v)


def go_json(v):
    """encoding/json's Marshal of a map: keys sorted, compact, <>& escaped."""
    text = json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
