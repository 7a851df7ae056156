"""Evaluates CEL expressions (x-kubernetes-validations) over JSON values with cel-go's semantics and error
texts: error absorption in && and ||, macros, heterogeneous equality, int64 overflow, `no such key: x`."""
import re

from . import cel_lib
from .cel_parse import CelSyntaxError, parse, unescape_name, uses_ident
from .cel_values import CelError, CelType, CelUnsupported, Uint, check_int, compare, equal, to_cel

__all__ = ["Cel", "CelError", "CelUnsupported", "to_cel"]

_TYPE_IDENTS = {"int", "uint", "double", "string", "bool", "bytes", "list", "map", "null_type", "type"}
_CMP = {"_<_": lambda c: c < 0, "_<=_": lambda c: c <= 0, "_>_": lambda c: c > 0, "_>=_": lambda c: c >= 0}
_ARITH = {"_+_": "+", "_-_": "-", "_*_": "*", "_/_": "/", "_%_": "%"}


class Cel:
    """One compiled expression: Cel(src).eval({"self": ..., "oldSelf": ...}) returns its value or raises
    CelError. Parsing errors are CelError too (the checker reports them properly at CRD admission)."""

    def __init__(self, src):
        self.src = src
        try:
            self.ast = parse(src)
        except CelSyntaxError as e:
            raise CelError(str(e)) from None
        self.uses_old_self = uses_ident(self.ast, "oldSelf")

    def eval(self, env):
        try:
            return _eval(self.ast, env)
        except CelError:
            raise
        except (ArithmeticError, ValueError, TypeError, RecursionError, re.error) as e:
            # a corner this evaluator does not model: never a reason to refuse an object
            raise CelUnsupported(f"{type(e).__name__}: {e}") from None


def _eval(n, env):
    k = n.kind
    if k == "lit":
        return Uint(n.value) if n.lit_type == "uint" else n.value
    if k == "ident":
        if n.name in env:
            return env[n.name]
        if n.name in _TYPE_IDENTS:
            return CelType(n.name)
        raise CelError(f"no such attribute: {n.name}")
    if k == "select":
        return _select(_eval(n.operand, env), n.field, n.test_only)
    if k == "list":
        return [_eval(a, env) for a in n.args]
    if k == "map":
        out = {}
        for kn, vn in n.entries:
            key = _eval(kn, env)
            if isinstance(key, (dict, list, float)) or key is None:
                raise CelError("unsupported key type")
            out[key] = _eval(vn, env)
        return out
    if k == "comp":
        return _comprehension(n, env)
    return _call(n, env)


def _select(v, field, test_only):
    if not isinstance(v, dict):
        raise CelError("no such overload")
    key = unescape_name(field)
    if test_only:
        return key in v
    if key not in v:
        raise CelError(f"no such key: {field}")
    return v[key]


def _try(n, env):
    try:
        return _eval(n, env), None
    except CelUnsupported:
        raise
    except CelError as e:
        return None, e


def _logic(n, env, short):
    """&& (short False) and || (short True) are commutative: a decisive side wins over an error."""
    a, ea = _try(n.args[0], env)
    if ea is None and a is short:
        return short
    b, eb = _try(n.args[1], env)
    if eb is None and b is short:
        return short
    if ea or eb:
        raise ea or eb
    if not isinstance(a, bool) or not isinstance(b, bool):
        raise CelError("no such overload")
    return not short


def _call(n, env):
    fn = n.fn
    if fn == "_&&_":
        return _logic(n, env, False)
    if fn == "_||_":
        return _logic(n, env, True)
    if fn == "_?_:_":
        c = _eval(n.args[0], env)
        if not isinstance(c, bool):
            raise CelError("no such overload")
        return _eval(n.args[1] if c else n.args[2], env)
    target = None
    if n.target is not None:
        qualified = _qualified(n.target, env)
        if qualified and qualified + "." + fn in cel_lib.FUNCS:
            fn = qualified + "." + fn
        else:
            target = _eval(n.target, env)
    args = [_eval(a, env) for a in n.args]
    if fn == "!_":
        if not isinstance(args[0], bool):
            raise CelError("no such overload")
        return not args[0]
    if fn == "-_":
        v = args[0]
        if isinstance(v, bool) or isinstance(v, Uint) or not isinstance(v, (int, float)):
            raise CelError("no such overload")
        return -v if isinstance(v, float) else check_int(-v)
    if fn == "_==_":
        return equal(*args)
    if fn == "_!=_":
        return not equal(*args)
    if fn in _CMP:
        c = compare(*args)
        return False if c is None else _CMP[fn](c)
    if fn in _ARITH:
        return cel_lib.arith(_ARITH[fn], *args)
    if fn == "_[_]":
        return _index(*args)
    if fn == "@in":
        v, coll = args
        if isinstance(coll, list):
            return any(equal(v, x) for x in coll)
        if isinstance(coll, dict):
            return _key(v) in coll
        raise CelError("no such overload")
    return cel_lib.call(fn, target, args)


def _qualified(node, env):
    """`base64` in base64.encode(x): a namespace, not a variable."""
    if node.kind == "ident" and node.name not in env:
        return node.name
    return None


def _key(v):
    return int(v) if isinstance(v, float) and v == int(v) else v


def _index(coll, idx):
    if isinstance(coll, list):
        if isinstance(idx, bool) or not isinstance(idx, (int, float)) or idx != int(idx):
            raise CelError("no such overload")
        i = int(idx)
        if i < 0 or i >= len(coll):
            raise CelError(f"index '{i}' out of range in list size '{len(coll)}'")
        return coll[i]
    if isinstance(coll, dict):
        k = _key(idx)
        if isinstance(k, (dict, list)) or k not in coll:
            raise CelError(f"no such key: {idx}")
        return coll[k]
    raise CelError("no such overload")


def _comprehension(n, env):
    rng = _eval(n.target, env)
    if isinstance(rng, dict):
        items = list(rng.keys())
    elif isinstance(rng, list):
        items = rng
    else:
        raise CelError("no such overload")
    scope = dict(env)

    def run(body, x):
        scope[n.var] = x
        return _eval(body, scope)
    macro = n.fn
    if macro in ("all", "exists"):
        decisive = macro == "exists"      # exists stops at a true, all at a false
        err = None
        for x in items:
            try:
                r = run(n.args[0], x)
            except CelUnsupported:
                raise
            except CelError as e:
                err = err or e
                continue
            if not isinstance(r, bool):
                err = err or CelError("no such overload")
            elif r is decisive:
                return decisive
        if err:
            raise err
        return not decisive
    if macro == "exists_one":
        count = 0
        for x in items:
            r = run(n.args[0], x)
            if not isinstance(r, bool):
                raise CelError("no such overload")
            count += r
        return count == 1
    if macro == "filter":
        out = []
        for x in items:
            r = run(n.args[0], x)
            if not isinstance(r, bool):
                raise CelError("no such overload")
            if r:
                out.append(x)
        return out
    # map(x, expr) or map(x, pred, expr)
    out = []
    for x in items:
        if len(n.args) == 2:
            r = run(n.args[0], x)
            if not isinstance(r, bool):
                raise CelError("no such overload")
            if not r:
                continue
        out.append(run(n.args[-1], x))
    return out
