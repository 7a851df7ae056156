"""apiextensions' ValidateCustomResourceDefinitionOpenAPISchema: what a CRD schema node may hold (types,
extensions, list and map types, x-kubernetes-validations fields), then each rule compiled against the
node's type. Schema errors come before all CEL errors, as the real ErrorList puts them."""
import re

from . import field_errors as fe
from .cel_check import compile_expr
from .cel_parse import escape_name
from .cel_types import BOOL, STRING, decl_type, unique_self_type_name

_OPENAPI_TYPES = ["array", "boolean", "integer", "number", "object", "string"]
_REASONS = ["FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid", "FieldValueRequired"]
_META = ("metadata", "kind", "apiVersion")


class _Ssv:
    """specStandardValidatorV3's state as it descends."""

    def __init__(self, allow_defaults=True, reason="", inside_meta=False, uncorrelatable=None):
        self.allow_defaults, self.reason = allow_defaults, reason
        self.inside_meta, self.uncorrelatable = inside_meta, uncorrelatable

    def but(self, **kw):
        out = _Ssv(self.allow_defaults, self.reason, self.inside_meta, self.uncorrelatable)
        for k, v in kw.items():
            setattr(out, k, v)
        return out

    def forbid_old_self(self, path):
        return self if self.uncorrelatable is not None else self.but(uncorrelatable=path)


class _Ctx:
    """The CEL type of a node (None: hidden from CEL) once the schema passed the structural checks."""

    def __init__(self, t):
        self.t = t

    def prop(self, name, schema):
        esc = escape_name(name)
        if esc is None:
            return _Ctx(decl_type(schema, _emb(schema)))
        if self.t is None or self.t.kind != "object":
            return _Ctx(None)
        return _Ctx(self.t.fields.get(esc))

    def elem(self, kind):
        if self.t is None or self.t.kind != kind:
            return _Ctx(None)
        return _Ctx(self.t.params[-1])


def root_context(schema):
    return _Ctx(decl_type(schema, True, unique_self_type_name()))


def _emb(s):
    return bool(s.get("x-kubernetes-embedded-resource"))


def validate(schema, path, is_root, ctx):
    """(schema errors, CEL errors) of the subtree; ctx None: no CEL compilation (an earlier check failed)."""
    schema_errs, cel_errs = [], []
    _node(schema, path, _Ssv(), is_root, ctx, schema_errs, cel_errs)
    return schema_errs + cel_errs


def _standard(s, path, ssv):
    errs = []
    t = s.get("type")
    if t and t not in _OPENAPI_TYPES:
        errs.append(fe.not_supported(fe.child(path, "type"), t, _OPENAPI_TYPES))
    if s.get("default") is not None and not ssv.allow_defaults:
        detail = "must not be set" + (" " + ssv.reason if ssv.reason else "")
        errs.append(fe.forbidden(fe.child(path, "default"), detail))
    for name, detail in (("id", "id is not supported"), ("additionalItems", "additionalItems is not supported"),
                         ("patternProperties", "patternProperties is not supported"),
                         ("definitions", "definitions is not supported"),
                         ("dependencies", "dependencies is not supported"), ("$ref", "$ref is not supported")):
        if s.get(name):
            errs.append(fe.forbidden(fe.child(path, name), detail))
    if t == "null":
        errs.append(fe.forbidden(fe.child(path, "type"), "type cannot be set to null, use nullable as an alternative"))
    if isinstance(s.get("items"), list) and s["items"]:
        errs.append(fe.forbidden(fe.child(path, "items"), "items must be a schema object and not an array"))
    if ssv.inside_meta and _emb(s):
        errs.append(fe.forbidden(fe.child(path, "x-kubernetes-embedded-resource"),
                                 "must not be used inside of resource meta"))
    return errs


def _node(s, path, ssv, is_root, ctx, schema_errs, cel_errs):
    if not isinstance(s, dict):
        return
    before = len(schema_errs)
    schema_errs += _standard(s, path, ssv)
    if s.get("uniqueItems") is True:
        schema_errs.append(fe.forbidden(fe.child(path, "uniqueItems"), "uniqueItems cannot be set to true since "
                                                                       "the runtime complexity becomes quadratic"))
    props = s.get("properties") or {}
    if "additionalProperties" in s:
        addl = s["additionalProperties"]
        if props and (addl is False or isinstance(addl, dict)):
            schema_errs.append(fe.forbidden(fe.child(path, "additionalProperties"),
                                            "additionalProperties and properties are mutual exclusive"))
        sub = ssv.but(allow_defaults=False, reason="inside additionalProperties applying to object metadata") \
            if ssv.inside_meta else ssv
        _node(addl, fe.child(path, "additionalProperties"), sub, False,
              ctx and ctx.elem("map"), schema_errs, cel_errs)
    for k in sorted(props):
        sub = ssv
        if s.get("x-kubernetes-map-type") == "atomic":
            sub = sub.forbid_old_self(path)
        if (is_root or _emb(s)) and k in _META:
            sub = sub.but(inside_meta=True)
            if is_root:
                sub = sub.but(allow_defaults=False, reason=f"in top-level {k}")
        _node(props[k], fe.key(fe.child(path, "properties"), k), sub, False,
              ctx and ctx.prop(k, props[k]), schema_errs, cel_errs)
    if isinstance(s.get("not"), dict):
        _node(s["not"], fe.child(path, "not"), ssv, False, None, schema_errs, cel_errs)
    for junctor in ("allOf", "oneOf", "anyOf"):
        for i, x in enumerate(s.get(junctor) or []):
            _node(x, fe.index(fe.child(path, junctor), i), ssv, False, None, schema_errs, cel_errs)
    items = s.get("items")
    if items is not None:
        sub = ssv if s.get("x-kubernetes-list-type") == "map" else ssv.forbid_old_self(path)
        if isinstance(items, dict):
            _node(items, fe.child(path, "items"), sub, False, ctx and ctx.elem("list"), schema_errs, cel_errs)
        elif isinstance(items, list):
            for i, x in enumerate(items):
                _node(x, fe.index(fe.child(path, "items"), i), sub, False, None, schema_errs, cel_errs)
    schema_errs += _extensions(s, path)
    schema_errs += _list_keys(s, path)
    rules = s.get("x-kubernetes-validations") or []
    if rules:
        schema_errs += _rule_fields(s, rules, path)
        if len(schema_errs) == before and ctx is not None:
            cel_errs += _compile_rules(rules, path, ctx, ssv)


def _extensions(s, path):
    errs = []
    t = s.get("type") or ""
    if s.get("x-kubernetes-preserve-unknown-fields") is False:
        errs.append(fe.invalid(fe.child(path, "x-kubernetes-preserve-unknown-fields"), False,
                               "must be true or undefined"))
    mt = s.get("x-kubernetes-map-type")
    if mt is not None and t != "object":
        errs.append(_type_error(path, t, "must be object if x-kubernetes-map-type is specified"))
    if mt is not None and mt not in ("atomic", "granular"):
        errs.append(fe.not_supported(fe.child(path, "x-kubernetes-map-type"), mt, ["atomic", "granular"]))
    lt = s.get("x-kubernetes-list-type")
    items = s.get("items") if isinstance(s.get("items"), dict) else None
    if lt is not None and t != "array":
        errs.append(_type_error(path, t, "must be array if x-kubernetes-list-type is specified"))
    elif lt == "set" and items is not None:
        detail = "must be atomic as item of a list with x-kubernetes-list-type=set"
        if items.get("type") == "array" and items.get("x-kubernetes-list-type") not in (None, "atomic"):
            errs.append(fe.invalid(fe.child(path, "items", "x-kubernetes-list-type"),
                                   items.get("x-kubernetes-list-type"), detail))
        elif items.get("type") == "object" and items.get("x-kubernetes-map-type") != "atomic":
            # (the real code reports the items' list type here, which is unset: null)
            errs.append(fe.invalid(fe.child(path, "items", "x-kubernetes-map-type"),
                                   items.get("x-kubernetes-list-type"), detail))
    if lt is not None and lt not in ("atomic", "set", "map"):
        errs.append(fe.not_supported(fe.child(path, "x-kubernetes-list-type"), lt, ["atomic", "set", "map"]))
    return errs


def _type_error(path, t, detail):
    if not t:
        return fe.required(fe.child(path, "type"), detail)
    return fe.invalid(fe.child(path, "type"), t, detail)


def _string_list(keys):
    return fe.raw("[]string{" + ", ".join(fe.go_quote(k) for k in keys) + "}")


_KEY_DEFAULT = "this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property"
_KEY_NULLABLE = "this property is in x-kubernetes-list-map-keys, so it cannot be nullable"


def _list_keys(s, path):
    errs = []
    lt = s.get("x-kubernetes-list-type")
    keys = s.get("x-kubernetes-list-map-keys") or []
    items = s.get("items")
    if keys:
        detail = "must be map if x-kubernetes-list-map-keys is non-empty"
        if lt is None:
            errs.append(fe.required(fe.child(path, "x-kubernetes-list-type"), detail))
        elif lt != "map":
            errs.append(fe.invalid(fe.child(path, "x-kubernetes-list-type"), lt, detail))
    if lt == "map":
        if not keys:
            errs.append(fe.required(fe.child(path, "x-kubernetes-list-map-keys"),
                                    "must not be empty if x-kubernetes-list-type is map"))
        if items is None:
            errs.append(fe.required(fe.child(path, "items"), "must have a schema if x-kubernetes-list-type is map"))
        elif isinstance(items, dict):
            errs += _map_items(items, keys, path)
    if isinstance(items, dict) and lt in ("set", "map"):
        errs += _set_or_map_items(items, lt, keys, path)
    return errs


def _map_items(items, keys, path):
    it = items.get("type") or ""
    if it != "object":
        return [fe.invalid(fe.child(path, "items", "type"), it,
                           "must be object if parent array's x-kubernetes-list-type is map")]
    errs, seen = [], set()
    iprops = items.get("properties") or {}
    for k in keys:
        if k not in iprops:
            errs.append(fe.invalid(fe.child(path, "x-kubernetes-list-map-keys"), _string_list(keys),
                                   "entries must all be names of item properties"))
        elif iprops[k].get("type") in ("array", "object"):
            errs.append(fe.invalid(fe.child(fe.key(fe.child(path, "items", "properties"), k), "type"), it,
                                   "must be a scalar type if parent array's x-kubernetes-list-type is map"))
        if k in seen:
            errs.append(fe.invalid(fe.child(path, "x-kubernetes-list-map-keys"), _string_list(keys),
                                   "must not contain duplicate entries"))
        seen.add(k)
    return errs


def _set_or_map_items(items, lt, keys, path):
    """validateMapListKeysMapSet: set and map items are never null, map keys always have a value."""
    errs = []
    if items.get("nullable"):
        errs.append(fe.forbidden(fe.child(path, "items", "nullable"),
                                 "cannot be nullable when x-kubernetes-list-type is " + lt))
    if lt != "map":
        return errs
    required = set(items.get("required") or [])
    iprops = items.get("properties") or {}
    for k in keys:
        if k not in iprops:
            continue
        kp = fe.key(fe.child(path, "items", "properties"), k)
        if k not in required and iprops[k].get("default") is None:
            errs.append(fe.required(fe.child(kp, "default"), _KEY_DEFAULT))
        if iprops[k].get("nullable"):
            errs.append(fe.forbidden(fe.child(kp, "nullable"), _KEY_NULLABLE))
    return errs


def _rule_fields(s, rules, path):
    errs = []
    for i, rule in enumerate(rules):
        rp = fe.index(fe.child(path, "x-kubernetes-validations"), i)
        src, msg = rule.get("rule") or "", rule.get("message") or ""
        if not src.strip():
            errs.append(fe.required(fe.child(rp, "rule"), "rule is not specified"))
        elif msg and not msg.strip():
            errs.append(fe.invalid(fe.child(rp, "message"), msg, "message must be non-empty if specified"))
        elif re.search(r"[\n\r]", msg.strip()):
            errs.append(fe.invalid(fe.child(rp, "message"), msg, "message must not contain line breaks"))
        elif re.search(r"[\n\r]", src.strip()) and not msg.strip():
            errs.append(fe.required(fe.child(rp, "message"), "message must be specified if rule contains line breaks"))
        mexpr = rule.get("messageExpression")
        if mexpr is not None and mexpr != "" and not mexpr.strip():
            errs.append(fe.required(fe.child(rp, "messageExpression"),
                                    "messageExpression must be non-empty if specified"))
        if rule.get("reason") is not None and rule["reason"] not in _REASONS:
            errs.append(fe.not_supported(fe.child(rp, "reason"), rule["reason"], _REASONS))
        fp = rule.get("fieldPath")
        if fp:
            if not fp.strip():
                errs.append(fe.invalid(fe.child(rp, "fieldPath"), fp, "fieldPath must be non-empty if specified"))
            if re.search(r"[\n\r]", fp):
                errs.append(fe.invalid(fe.child(rp, "fieldPath"), fp, "fieldPath must not contain line breaks"))
            if not _valid_field_path(fp, s):
                errs.append(fe.invalid(fe.child(rp, "fieldPath"), fp, "fieldPath must be a valid path"))
    return errs


def _valid_field_path(fp, s):
    """cel.ValidFieldPath: dotted names or ['quoted'] keys, each naming a property (or any additionalProperties key)."""
    rest = fp
    while rest:
        m = re.match(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]", rest)
        if not m:
            return False
        name = m.group(1) if m.group(1) is not None else m.group(2)
        if s.get("properties") is not None:
            if name not in s["properties"]:
                return False
            s = s["properties"][name]
        elif isinstance(s.get("additionalProperties"), dict):
            s = s["additionalProperties"]
        else:
            return False
        rest = rest[m.end():]
    return True


def _compile_rules(rules, path, ctx, ssv):
    if ctx.t is None:
        return [fe.internal(fe.child(path, "x-kubernetes-validations"),
                            "internal error: failed to retrieve type information for x-kubernetes-validations")]
    errs = []
    for i, rule in enumerate(rules):
        rp = fe.index(fe.child(path, "x-kubernetes-validations"), i)
        src = rule.get("rule") or ""
        uses_old = False
        if src.strip():
            problem, uses_old = compile_expr(src, ctx.t, BOOL)
            if problem:
                detail = ("compilation failed: " + problem[1]) if problem[0] == "compile" else \
                    "cel expression must evaluate to a bool"
                errs.append(fe.invalid(fe.child(rp, "rule"), fe.raw(fe.validation_rule(rule)), detail))
        mexpr = (rule.get("messageExpression") or "").strip()
        if mexpr:
            problem, _ = compile_expr(mexpr, ctx.t, STRING)
            if problem:
                detail = ("messageExpression compilation failed: " + problem[1]) if problem[0] == "compile" else \
                    "messageExpression must evaluate to a string"
                errs.append(fe.invalid(fe.child(rp, "messageExpression"), fe.raw(fe.validation_rule(rule)), detail))
        if uses_old:
            if ssv.uncorrelatable is not None:
                errs.append(fe.invalid(fe.child(rp, "rule"), src, "oldSelf cannot be used on the uncorrelatable "
                                                                  f"portion of the schema within {ssv.uncorrelatable}"))
        elif rule.get("optionalOldSelf") is not None:
            errs.append(fe.invalid(fe.child(rp, "optionalOldSelf"), rule["optionalOldSelf"],
                                   "may not be set if oldSelf is not used in rule"))
    return errs

