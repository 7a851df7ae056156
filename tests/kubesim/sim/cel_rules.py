"""Runs a schema's x-kubernetes-validations over a value as Kubernetes' cel.Validator does, with its error
texts: `Invalid value: "object": no such key: source evaluating rule: <message>`, `failed rule: <rule>`."""
import re

from . import field_errors as fe
from .cel import Cel, CelError, CelUnsupported, to_cel
from .cel_check import compile_expr
from .cel_types import BOOL, decl_type, unique_self_type_name, with_type_and_object_meta

_compiled = {}


def _compile(src):
    c = _compiled.get(src)
    if c is None:
        c = _compiled[src] = Cel(src)
    return c


def rule_error_string(rule):
    return (rule.get("message") or "").strip() or (rule.get("rule") or "").strip()


def rule_message_or_default(rule):
    msg = (rule.get("message") or "").strip()
    return msg or f"failed rule: {rule_error_string(rule)}"


def node_errors(schema, value, old, path, is_root=False, type_check=False):
    """Errors of the rules written on this schema node (validateExpressions). old is None when there is
    no correlated old value: transition rules (those using oldSelf) are then skipped. type_check: compile
    each rule against the node's type first, as a validator built for a schema not yet admitted does
    (a rule that does not compile is then reported, not run)."""
    rules = schema.get("x-kubernetes-validations") or []
    if value is None or not rules:
        return []
    sts = with_type_and_object_meta(schema) if is_root else schema
    type_value = schema.get("type", "")
    this = to_cel(value, sts)
    prev = to_cel(old, sts) if old is not None else None
    out = []
    self_t = decl_type(schema, is_root, unique_self_type_name()) if type_check else None
    for rule in rules:
        src = (rule.get("rule") or "").strip()
        if not src:
            continue
        if self_t is not None:
            problem, _ = compile_expr(src, self_t, BOOL)
            if problem:
                detail = ("compilation failed: " + problem[1]) if problem[0] == "compile" else \
                    "cel expression must evaluate to a bool"
                out.append(fe.invalid(path, type_value, f"rule compile error: {detail}"))
                continue
        try:
            prog = _compile(src)
        except CelError:
            continue               # refused when the CRD was admitted
        if prog.uses_old_self and old is None:
            continue
        env = {"self": this}
        if prog.uses_old_self:
            env["oldSelf"] = prev
        try:
            result = prog.eval(env)
        except CelUnsupported:
            continue               # beyond this simulator's CEL: never a reason to refuse
        except CelError as e:
            msg = str(e)
            if msg.startswith("no such overload"):
                detail = (f"'{msg}': call arguments did not match a supported operator, function or macro "
                          f"signature for rule: {rule_error_string(rule)}")
            else:
                detail = f"{msg} evaluating rule: {rule_error_string(rule)}"
            out.append(fe.invalid(path, type_value, detail))
            continue
        if result is True:
            continue
        where = path
        if rule.get("fieldPath"):
            where = fe.child(path, normalize_field_path(rule["fieldPath"], schema))
        detail = _message_expression(rule, env) or rule_message_or_default(rule)
        reason = rule.get("reason")
        if reason == "FieldValueForbidden":
            out.append(fe.forbidden(where, detail))
        elif reason == "FieldValueRequired":
            out.append(fe.required(where, detail))
        elif reason == "FieldValueDuplicate":
            out.append(fe.duplicate(where, type_value))
        else:
            out.append(fe.invalid(where, type_value, detail))
    return out


def _message_expression(rule, env):
    src = (rule.get("messageExpression") or "").strip()
    if not src:
        return None
    try:
        msg = _compile(src).eval(env)
    except CelError:
        return None
    if not isinstance(msg, str) or not msg.strip() or "\n" in msg.strip():
        return None
    return msg.strip()


def normalize_field_path(path, schema):
    """A rule's fieldPath ('.spec.x', "['a.b']") as a field path: named properties joined with '.',
    additionalProperties keys in [] (cel.ValidFieldPath)."""
    out = ""
    for dotted, quoted in _tokens(path):
        name = dotted if dotted is not None else quoted
        props = (schema or {}).get("properties")
        if props is not None:
            out = fe.child(out, name)
            schema = props.get(name) or {}
        else:
            out = fe.key(out, name)
            addl = (schema or {}).get("additionalProperties")
            schema = addl if isinstance(addl, dict) else {}
    return out


def _tokens(path):
    for m in re.finditer(r"\.([^.\[\]]+)|\['((?:[^'\\]|\\.)*)'\]", path):
        yield m.group(1), (m.group(2).replace("\\'", "'") if m.group(2) is not None else None)


def validate_tree(schema, value, old, path, is_root=False, type_check=False):
    """Every rule at or below this node over value (Validator.validate): properties are correlated with
    old, additionalProperties unless the map is atomic, list items only for x-kubernetes-list-type map."""
    if value is None or not schema:
        return []
    out = node_errors(schema, value, old, path, is_root, type_check)
    if isinstance(value, dict):
        addl = schema.get("additionalProperties")
        correlated = schema.get("x-kubernetes-map-type") != "atomic" and isinstance(old, dict)
        props = schema.get("properties") or {}
        if isinstance(addl, dict):
            for k in sorted(value):
                o = old.get(k) if correlated else None
                out += validate_tree(addl, value[k], o, fe.key(path, k), _embedded(addl), type_check)
        for k in sorted(value):
            if k in props:
                o = old.get(k) if correlated else None
                out += validate_tree(props[k], value[k], o, fe.child(path, k), _embedded(props[k]), type_check)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        items = schema["items"]
        for i, v in enumerate(value):
            out += validate_tree(items, v, _old_item(schema, v, old), fe.index(path, i), _embedded(items),
                                 type_check)
    return out


def _embedded(s):
    return bool(s.get("x-kubernetes-embedded-resource"))


def _old_item(schema, item, old):
    """Only map-type lists correlate an item with its old self, by the list's keys."""
    keys = schema.get("x-kubernetes-list-map-keys")
    if schema.get("x-kubernetes-list-type") != "map" or not keys or not isinstance(old, list):
        return None
    if not isinstance(item, dict):
        return None
    for o in old:
        if isinstance(o, dict) and all(o.get(k) == item.get(k) for k in keys):
            return o
    return None
