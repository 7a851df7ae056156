"""The structural-schema rules a CRD's openAPIV3Schema must meet (apiextensions' schema.ValidateStructural):
a type everywhere, no types or extensions inside allOf/anyOf/oneOf/not, items for arrays, root metadata
limited to name and generateName, int-or-string patterns. Errors come sorted, as the real ones are."""
from . import field_errors as fe
from .regex_check import go_regex_error

_ROOT, _ITEM, _FIELD = "root", "item", "field"
_INT_OR_STRING_ANY_OF = [{"type": "integer"}, {"type": "string"}]
# Fields NewStructural cannot represent; the OpenAPI checks name them, and no structural check runs then.
_UNSUPPORTED = ("id", "$schema", "$ref", "patternProperties", "dependencies", "additionalItems", "definitions")


def convertible(s):
    """False where apiextensions' NewStructural fails (it then skips the structural, default and CEL checks)."""
    if not isinstance(s, dict):
        return True
    if any(k in s for k in _UNSUPPORTED) or s.get("x-kubernetes-preserve-unknown-fields") is False:
        return False
    if isinstance(s.get("items"), list):
        return False
    subs = list((s.get("properties") or {}).values()) + list(s.get("allOf") or []) + \
        list(s.get("anyOf") or []) + list(s.get("oneOf") or [])
    for k in ("items", "not", "additionalProperties"):
        if isinstance(s.get(k), dict):
            subs.append(s[k])
    return all(convertible(x) for x in subs)


def validate(path, s):
    errs = _invariants(s, _ROOT, path) + _completeness(s, s, path, path)
    return sorted(errs, key=fe.text)


def _invariants(s, lvl, path):
    if s is None:
        return []
    errs = []
    t = s.get("type") or ""
    items = s.get("items")
    if t == "array" and items is None:
        errs.append(fe.required(fe.child(path, "items"), "must be specified"))
    if isinstance(items, dict):
        errs += _invariants(items, _ITEM, fe.child(path, "items"))
    for k, v in (s.get("properties") or {}).items():
        errs += _invariants(v, _FIELD, fe.key(fe.child(path, "properties"), k))
    if "additionalProperties" in s:
        if lvl == _ROOT:
            errs.append(fe.forbidden(fe.child(path, "additionalProperties"), "must not be used at the root"))
        if isinstance(s["additionalProperties"], dict):
            errs += _invariants(s["additionalProperties"], _FIELD, fe.child(path, "additionalProperties"))
    ios, pres, emb = (bool(s.get(x)) for x in ("x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields",
                                               "x-kubernetes-embedded-resource"))
    if ios and pres:
        errs.append(fe.invalid(fe.child(path, "x-kubernetes-preserve-unknown-fields"), True,
                               "must be false if x-kubernetes-int-or-string is true"))
    if ios and emb:
        errs.append(fe.invalid(fe.child(path, "x-kubernetes-embedded-resource"), True,
                               "must be false if x-kubernetes-int-or-string is true"))
    skip_any_of = s.get("anyOf") == _INT_OR_STRING_ANY_OF
    all_of = s.get("allOf") or []
    skip_first = bool(all_of) and isinstance(all_of[0], dict) and all_of[0].get("anyOf") == _INT_OR_STRING_ANY_OF
    errs += _value_validation(s, skip_any_of, skip_first, lvl, path)
    check_metadata = lvl == _ROOT or emb
    if emb and t != "object":
        detail = "must be object if x-kubernetes-embedded-resource is true"
        errs.append(fe.required(fe.child(path, "type"), detail) if not t else
                    fe.invalid(fe.child(path, "type"), t, detail))
    elif not t and not ios and not pres:
        where = {_ROOT: "at the root", _ITEM: "for specified array items", _FIELD: "for specified object fields"}
        errs.append(fe.required(fe.child(path, "type"), f"must not be empty {where[lvl]}"))
    if emb and "additionalProperties" in s:
        errs.append(fe.forbidden(fe.child(path, "additionalProperties"),
                                 "must not be used if x-kubernetes-embedded-resource is set"))
    if lvl == _ROOT and t and t != "object":
        errs.append(fe.invalid(fe.child(path, "type"), t, "must be object at the root"))
    props = s.get("properties") or {}
    for meta in ("kind", "apiVersion"):
        if meta in props and check_metadata and props[meta].get("type", "") != "string":
            errs.append(fe.invalid(fe.child(fe.key(fe.child(path, "properties"), meta), "type"),
                                   props[meta].get("type", ""), "must be string"))
    if "metadata" in props:
        errs += _metadata(props["metadata"], check_metadata, lvl, fe.key(fe.child(path, "properties"), "metadata"))
    if emb and not pres and not props:
        errs.append(fe.required(fe.child(path, "properties"), "must not be empty if x-kubernetes-embedded-resource "
                                                              "is true without x-kubernetes-preserve-unknown-fields"))
    return errs


# What NewStructural keeps of a schema node; anything else (example, externalDocs, ...) is dropped.
_KEPT = {"type", "description", "title", "nullable", "default", "additionalProperties", "format", "maximum",
         "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems",
         "minItems", "uniqueItems", "multipleOf", "maxProperties", "minProperties", "required", "enum", "not",
         "allOf", "anyOf", "oneOf", "items", "properties", "x-kubernetes-embedded-resource",
         "x-kubernetes-int-or-string", "x-kubernetes-list-map-keys", "x-kubernetes-list-type",
         "x-kubernetes-map-type", "x-kubernetes-validations", "x-kubernetes-preserve-unknown-fields"}


def _metadata(s, check_metadata, lvl, path):
    errs = []
    if check_metadata and s.get("type", "") != "object":
        errs.append(fe.invalid(fe.child(path, "type"), s.get("type", ""), "must be object"))
    if lvl == _ROOT:
        rest = {k: v for k, v in s.items() if k in _KEPT and k not in ("type", "default")}
        props = rest.get("properties") or {}
        if set(props) and set(props) <= {"name", "generateName"}:
            rest.pop("properties")
        if any(_non_zero(v) for v in rest.values()):
            errs.append(fe.forbidden(path, "must not specify anything other than name and generateName, but "
                                           "metadata is implicitly specified"))
    return errs


def _non_zero(v):
    # Go's zero values; numbers are pointers there, so a 0 still counts as specified.
    return v is not None and v is not False and v != "" and v != [] and v != {}


def _value_validation(s, skip_any_of, skip_first_all_of_any_of, lvl, path):
    errs = []
    if not skip_any_of:
        for i, x in enumerate(s.get("anyOf") or []):
            errs += _nested(x, False, lvl, fe.index(fe.child(path, "anyOf"), i))
    for i, x in enumerate(s.get("allOf") or []):
        errs += _nested(x, skip_first_all_of_any_of and i == 0, lvl, fe.index(fe.child(path, "allOf"), i))
    for i, x in enumerate(s.get("oneOf") or []):
        errs += _nested(x, False, lvl, fe.index(fe.child(path, "oneOf"), i))
    if isinstance(s.get("not"), dict):
        errs += _nested(s["not"], False, lvl, fe.child(path, "not"))
    pattern = s.get("pattern")
    if pattern:
        problem = go_regex_error(pattern)
        if problem:
            errs.append(fe.invalid(fe.child(path, "pattern"), pattern,
                                   f"must be a valid regular expression, but isn't: {problem}"))
    return errs


_NESTED_FORBIDDEN = [
    ("type", lambda v: bool(v), "must be empty to be structural"),
    ("additionalProperties", lambda v: True, "must be undefined to be structural"),
    ("default", lambda v: v is not None, "must be undefined to be structural"),
    ("title", lambda v: bool(v), "must be empty to be structural"),
    ("description", lambda v: bool(v), "must be empty to be structural"),
    ("nullable", lambda v: v is True, "must be false to be structural"),
    ("externalDocs", lambda v: v is not None, "must be undefined to be structural"),
    ("x-kubernetes-preserve-unknown-fields", lambda v: v is True, "must be false to be structural"),
    ("x-kubernetes-embedded-resource", lambda v: v is True, "must be false to be structural"),
    ("x-kubernetes-int-or-string", lambda v: v is True, "must be false to be structural"),
    ("x-kubernetes-list-map-keys", lambda v: bool(v), "must be empty to be structural"),
    ("x-kubernetes-list-type", lambda v: v is not None, "must be undefined to be structural"),
    ("x-kubernetes-map-type", lambda v: v is not None, "must be undefined to be structural"),
    ("x-kubernetes-validations", lambda v: bool(v), "must be empty to be structural"),
]


def _nested(v, skip_any_of, lvl, path):
    """A schema under allOf/anyOf/oneOf/not: value validations only."""
    if not isinstance(v, dict):
        return []
    errs = _value_validation(v, skip_any_of, False, lvl, path)
    if isinstance(v.get("items"), dict):
        errs += _nested(v["items"], False, lvl, fe.child(path, "items"))
    for k, fld in (v.get("properties") or {}).items():
        errs += _nested(fld, False, _FIELD, fe.key(fe.child(path, "properties"), k))
    for name, present, detail in _NESTED_FORBIDDEN:
        if name in v and present(v[name]):
            errs.append(fe.forbidden(fe.child(path, name), detail))
    if "metadata" in (v.get("properties") or {}):
        errs.append(fe.forbidden(fe.key(fe.child(path, "properties"), "metadata"),
                                 "must not be specified in a nested context"))
    return errs


def _completeness(v, s, s_path, v_path):
    """Every field or array a junctor speaks of must also be specified outside of it."""
    errs = []
    if isinstance(v.get("not"), dict):
        errs += _nested_complete(v["not"], s, s_path, fe.child(v_path, "not"))
    for junctor in ("allOf", "anyOf", "oneOf"):
        for i, x in enumerate(v.get(junctor) or []):
            errs += _nested_complete(x, s, s_path, fe.index(fe.child(v_path, junctor), i))
    return errs


def _nested_complete(v, s, s_path, v_path):
    if not isinstance(v, dict):
        return []
    if s is None:
        return [fe.required(s_path, f"because it is defined in {v_path}")]
    errs = _completeness(v, s, s_path, v_path)
    if isinstance(v.get("items"), dict):
        items = s.get("items") if isinstance(s.get("items"), dict) else None
        errs += _nested_complete(v["items"], items, fe.child(s_path, "items"), fe.child(v_path, "items"))
    s_props = s.get("properties") or {}
    for k, fld in (v.get("properties") or {}).items():
        sp, vp = fe.key(fe.child(s_path, "properties"), k), fe.key(fe.child(v_path, "properties"), k)
        if k not in s_props:
            errs.append(fe.required(sp, f"because it is defined in {vp}"))
        else:
            errs += _nested_complete(fld, s_props[k], sp, vp)
    return errs

