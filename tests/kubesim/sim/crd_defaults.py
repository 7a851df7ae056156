"""Checks every `default` in a CRD schema as apiextensions' defaulting.ValidateDefaults does: the default
must survive pruning, validate against its own node's schema, and then pass the node's CEL rules (and
those below it) with the default as self and oldSelf. Defaults nested inside a default are not applied."""
import copy

from . import cel_rules
from . import field_errors as fe
from . import schema_values

_META = ("metadata", "apiVersion", "kind")


def validate(path, root, require_pruned=True):
    """Errors for every default under root, the openAPIV3Schema at field path `path`."""
    return _walk(path, root, True, False, require_pruned)


def _walk(path, s, is_root, inside_meta, require_pruned):
    if not isinstance(s, dict):
        return []
    errs = []
    # Defaults of apiVersion, kind and metadata are checked as metadata; they are forbidden at the root.
    if s.get("default") is not None and not inside_meta:
        errs += _check(path, s, s["default"], is_root, require_pruned)
    # additionalProperties are not followed: defaults are forbidden there
    if isinstance(s.get("items"), dict):
        errs += _walk(fe.child(path, "items"), s["items"], _embedded(s["items"]), inside_meta, require_pruned)
    props = s.get("properties") or {}
    for k in sorted(props):
        meta = inside_meta or ((is_root or _embedded(s)) and k in _META)
        errs += _walk(fe.key(fe.child(path, "properties"), k), props[k], _embedded(props[k]), meta,
                      require_pruned)
    return errs


def _embedded(s):
    return isinstance(s, dict) and bool(s.get("x-kubernetes-embedded-resource"))


def _check(path, s, default, is_root, require_pruned):
    where = fe.child(path, "default")
    errs = []
    if require_pruned:
        pruned = copy.deepcopy(default)
        if _prune(pruned, s, is_root):
            errs.append(fe.invalid(where, default, "must not have unknown fields"))
    schema_errs = schema_values.validate(default, s, where)
    if schema_errs:
        return errs + schema_errs
    # The default is its own old value, so transition rules run too. The rules are not admitted yet: one
    # that does not compile is reported here as a rule compile error. (With CRDValidationRatcheting the real
    # server runs the rules once more without an old value; that only matters for optionalOldSelf rules,
    # which this simulator skips.)
    return errs + cel_rules.validate_tree(s, default, default, where, is_root, type_check=True)


def _prune(v, s, is_root=False):
    """Drops what the schema does not declare (pruning.Prune); True if anything was dropped."""
    if isinstance(s, dict) and s.get("x-kubernetes-preserve-unknown-fields"):
        return _prune_below(v, s)
    dropped = False
    if isinstance(v, dict):
        if s is None:
            dropped = bool(v)
            v.clear()
            return dropped
        props = s.get("properties") or {}
        addl = s.get("additionalProperties")
        for k in list(v):
            if (is_root or _embedded(s)) and k in _META and k not in props:
                continue
            if k in props:
                dropped |= _prune(v[k], props[k], _embedded(props[k]))
            elif addl is not None and addl is not False:
                dropped |= _prune(v[k], addl if isinstance(addl, dict) else None)
            else:
                del v[k]
                dropped = True
    elif isinstance(v, list):
        items = s.get("items") if isinstance(s, dict) and isinstance(s.get("items"), dict) else None
        for x in v:
            dropped |= _prune(x, items, _embedded(items))
    return dropped


def _prune_below(v, s):
    """Under x-kubernetes-preserve-unknown-fields unknown fields stay, declared ones are still pruned."""
    dropped = False
    if isinstance(v, dict):
        props = s.get("properties") or {}
        addl = s.get("additionalProperties")
        for k in list(v):
            if k in props:
                dropped |= _prune(v[k], props[k])
            elif isinstance(addl, dict):
                dropped |= _prune(v[k], addl)
    elif isinstance(v, list) and isinstance(s.get("items"), dict):
        for x in v:
            dropped |= _prune(x, s["items"])
    return dropped
