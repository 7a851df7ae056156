"""Validates a JSON value against an OpenAPI schema node as kube-openapi's SchemaValidator does, with its
messages (`<name> in body should be ...`) turned into field errors as apiextensions' validation.go does.
CRD admission uses it for every `default`."""
import base64
import ipaddress
import re

from . import field_errors as fe
from .cel_values import go_float_g

_SCHEMA_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}


class _Err:
    """A kube-openapi validation error: code, name (the dotted path below the validated value), value."""
    __slots__ = ("code", "name", "value", "msg", "extra")

    def __init__(self, code, name, value, msg, extra=None):
        self.code, self.name, self.value, self.msg, self.extra = code, name, value, msg, extra


def _schema_type(v):
    if v is None:
        return "null"
    return _SCHEMA_TYPES.get(type(v), "object")


def _num(v):
    return go_float_g(float(v))


def validate(value, schema, path):
    """Field errors for value at field path `path` (e.g. ...properties[x].default), in kube-openapi order."""
    errs = []
    _validate(value, schema, "", errs)
    return [_to_field_error(e, path) for e in errs]


def _to_field_error(e, path):
    """kubeOpenAPIResultToFieldErrors: the error's name, less a leading dot, extends the path."""
    if e.code == "composite":
        return fe.invalid(path, "", e.msg)
    p = fe.child(path, e.name[1:] if e.name.startswith(".") else e.name) if e.name and e.name != "." else path
    if e.code == "required":
        return fe.required(p)
    if e.code == "enum":
        return fe.not_supported(p, e.value, e.extra)
    if e.code == "too_long":
        return fe.too_long(p, e.extra)
    if e.code == "max_items" or e.code == "max_properties":
        return fe.too_many(p, e.value, e.extra)
    if e.code == "type":
        return fe.type_invalid(p, e.value if e.value is not None else "", e.msg)
    return fe.invalid(p, e.value if e.value is not None else "", e.msg)


def _types(s):
    if s.get("x-kubernetes-int-or-string"):
        return ["integer", "string"]
    return [s["type"]] if s.get("type") else []


def _validate(v, s, name, errs):
    types = _types(s)
    if v is None:
        if types and "null" not in types and not s.get("nullable"):
            errs.append(_Err("type", name, "null", f'{name} in body must be of type {",".join(types)}: "null"'))
        _enum(v, s, name, errs)
        return
    _type(v, s, types, name, errs)
    _junctors(v, s, name, errs)
    if isinstance(v, str):
        _string(v, s, name, errs)
        _format(v, s, name, errs)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        _number(v, s, name, errs)
    if isinstance(v, list):
        _slice(v, s, name, errs)
    _enum(v, s, name, errs)
    if isinstance(v, dict):
        _object(v, s, name, errs)


def _type(v, s, types, name, errs):
    if not types:
        return
    st = _schema_type(v)
    if "number" not in types and "integer" not in types and s.get("format") and isinstance(v, (str, list)):
        return
    float_int = st == "number" and float(v).is_integer() and "integer" in types
    int_float = st == "integer" and "number" in types
    if st not in types and not float_int and not int_float:
        errs.append(_Err("type", name, st, f'{name} in body must be of type {",".join(types)}: "{st}"'))


def _junctors(v, s, name, errs):
    def sub_errs(sub):
        out = []
        _validate(v, sub, name, out)
        return out
    for sub in s.get("allOf") or []:
        errs.extend(sub_errs(sub))
    if s.get("anyOf"):
        results = [sub_errs(sub) for sub in s["anyOf"]]
        if not any(not r for r in results):
            errs.append(_Err("composite", name, None, f"{name} must validate at least one schema (anyOf)"))
            errs.extend(results[0])
    if s.get("oneOf"):
        ok = sum(1 for sub in s["oneOf"] if not sub_errs(sub))
        if ok != 1:
            more = "Found none valid" if ok == 0 else f"Found {ok} valid alternatives"
            errs.append(_Err("composite", name, None, f"{name} must validate one and only one schema (oneOf). {more}"))
    if isinstance(s.get("not"), dict) and not sub_errs(s["not"]):
        errs.append(_Err("composite", name, None, f"{name} must not validate the schema (not)"))


def _string(v, s, name, errs):
    if "maxLength" in s and len(v) > s["maxLength"]:
        errs.append(_Err("too_long", name, v, "", s["maxLength"]))
    if "minLength" in s and len(v) < s["minLength"]:
        errs.append(_Err("too_short", name, v, f"{name} in body should be at least {s['minLength']} chars long"))
    if s.get("pattern"):
        try:
            ok = re.search(s["pattern"], v) is not None
        except re.error:
            ok = True   # refused at CRD admission already
        if not ok:
            errs.append(_Err("pattern", name, v, f"{name} in body should match '{s['pattern']}'"))


_UUID = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
_FORMATS = {
    "date-time": lambda x: re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?", x),
    "datetime": lambda x: _FORMATS["date-time"](x),
    "date": lambda x: re.fullmatch(r"\d{4}-\d{2}-\d{2}", x),
    "duration": lambda x: re.fullmatch(r"(\s*[+-]?\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h|d|w)\s*)+|0", x),
    "byte": lambda x: _b64(x),
    "uuid": lambda x: re.fullmatch(_UUID, x),
    "uuid3": lambda x: re.fullmatch(_UUID, x), "uuid4": lambda x: re.fullmatch(_UUID, x),
    "uuid5": lambda x: re.fullmatch(_UUID, x),
    "ipv4": lambda x: _ip(x, ipaddress.IPv4Address),
    "ipv6": lambda x: _ip(x, ipaddress.IPv6Address),
    "cidr": lambda x: _ip(x, ipaddress.ip_network),
    "hostname": lambda x: len(x) <= 255 and re.fullmatch(
        r"([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*\.?", x),
    "mac": lambda x: re.fullmatch(r"([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}", x),
    "hexcolor": lambda x: re.fullmatch(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})", x),
    "email": lambda x: re.fullmatch(r"[^@\s]+@[^@\s]+", x),
}


def _b64(x):
    try:
        base64.b64decode(x, validate=True)
        return True
    except ValueError:
        return False


def _ip(x, ctor):
    try:
        ctor(x)
        return True
    except ValueError:
        return False


def _format(v, s, name, errs):
    check = _FORMATS.get(s.get("format"))
    if check and not check(v):
        errs.append(_Err("type", name, v, f'{name} in body must be of type {s["format"]}: "{v}"'))


def _number(v, s, name, errs):
    if "multipleOf" in s and s["multipleOf"] and (v / s["multipleOf"]) != int(v / s["multipleOf"]):
        errs.append(_Err("multiple", name, v, f"{name} in body should be a multiple of {_num(s['multipleOf'])}"))
    if "maximum" in s:
        ex = s.get("exclusiveMaximum") is True
        if v > s["maximum"] or (ex and v == s["maximum"]):
            rel = "less than" if ex else "less than or equal to"
            errs.append(_Err("max", name, v, f"{name} in body should be {rel} {_num(s['maximum'])}"))
    if "minimum" in s:
        ex = s.get("exclusiveMinimum") is True
        if v < s["minimum"] or (ex and v == s["minimum"]):
            rel = "greater than" if ex else "greater than or equal to"
            errs.append(_Err("min", name, v, f"{name} in body should be {rel} {_num(s['minimum'])}"))


def _slice(v, s, name, errs):
    if "minItems" in s and len(v) < s["minItems"]:
        errs.append(_Err("min_items", name, len(v), f"{name} in body should have at least {s['minItems']} items"))
    if "maxItems" in s and len(v) > s["maxItems"]:
        errs.append(_Err("max_items", name, len(v), "", s["maxItems"]))
    if isinstance(s.get("items"), dict):
        for i, item in enumerate(v):
            _validate(item, s["items"], f"{name}[{i}]", errs)


def _equal(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b


def _enum(v, s, name, errs):
    if s.get("enum") and not any(_equal(v, e) for e in s["enum"]):
        errs.append(_Err("enum", name, v, "", list(s["enum"])))


def _object(v, s, name, errs):
    if "minProperties" in s and len(v) < s["minProperties"]:
        errs.append(_Err("min_properties", name, len(v),
                         f"{name} in body should have at least {s['minProperties']} properties"))
        return
    if "maxProperties" in s and len(v) > s["maxProperties"]:
        errs.append(_Err("max_properties", name, len(v), "", s["maxProperties"]))
        return
    props = s.get("properties") or {}
    addl = s.get("additionalProperties")
    for k in v:
        if k in props:
            continue
        if addl is False:
            errs.append(_Err("forbidden_property", name, k, f"{name}.{k} in body is a forbidden property"))
        elif isinstance(addl, dict):
            _validate(v[k], addl, f"{name}.{k}", errs)
    for k in sorted(props):
        if k in v:
            _validate(v[k], props[k], f"{name}.{k}" if name else k, errs)
    for k in s.get("required") or []:
        if k not in v:
            errs.append(_Err("required", f"{name}.{k}", None, ""))
