"""Type-checks a CEL rule against the type of its schema node, with cel-go's error texts and positions
(`undefined field 'x'`, `found no matching overload for '_==_' applied to '(string, int)'`, ...)."""
from .cel_parse import CelSyntaxError, format_errors, parse, uses_ident
from .cel_types import BOOL, DYN, ERROR, FUNCTIONS, INT, STRING, T, TYPE_IDENTS, decl_type, same


class _Checker:
    def __init__(self, variables):
        self.vars = variables
        self.errors = []

    def err(self, pos, msg):
        self.errors.append((pos, msg))
        return ERROR

    def check(self, n, scope):
        k = n.kind
        if k == "lit":
            return {"int": INT, "uint": T("uint"), "double": T("double"), "string": STRING, "bytes": T("bytes"),
                    "bool": BOOL, "null": T("null_type")}[n.lit_type]
        if k == "ident":
            if n.name in scope:
                return scope[n.name]
            if n.name in self.vars:
                return self.vars[n.name]
            if n.name in TYPE_IDENTS:
                return T("type", TYPE_IDENTS[n.name])
            return self.err(n.pos, f"undeclared reference to '{n.name}' (in container '')")
        if k == "select":
            return self.select(n, scope)
        if k == "list":
            return T("list", self.homogeneous([self.check(a, scope) for a in n.args], n.args))
        if k == "map":
            kt = self.homogeneous([self.check(e[0], scope) for e in n.entries], [e[0] for e in n.entries])
            vt = self.homogeneous([self.check(e[1], scope) for e in n.entries], [e[1] for e in n.entries])
            return T("map", kt, vt)
        if k == "comp":
            return self.comprehension(n, scope)
        return self.call(n, scope)

    def homogeneous(self, types, nodes):
        """Kubernetes builds its environment with HomogeneousAggregateLiterals: one element type per literal."""
        first = next((t for t in types if t.kind not in ("dyn", "error")), None)
        if first is None:
            return DYN
        for t, node in zip(types, nodes):
            if t.kind not in ("dyn", "error") and not same(t, first):
                self.err(node.pos, f"expected type '{first}' but found '{t}'")
        return first

    def select(self, n, scope):
        ot = self.check(n.operand, scope)
        if ot.kind == "error":
            return ERROR
        if ot.kind == "object":
            if n.field not in ot.fields:
                return self.err(n.pos, f"undefined field '{n.field}'")
            ft = ot.fields[n.field]
        elif ot.kind == "map":
            ft = ot.params[1]
        elif ot.kind == "dyn":
            ft = DYN
        else:
            return self.err(n.pos, f"type '{ot}' does not support field selection")
        return BOOL if n.test_only else ft

    def call(self, n, scope):
        name, target = n.fn, n.target
        if target is not None and target.kind == "ident" and target.name not in scope \
                and target.name not in self.vars and f"{target.name}.{name}" in FUNCTIONS:
            name, target = f"{target.name}.{name}", None
        arg_types = [self.check(a, scope) for a in ([target] if target is not None else []) + list(n.args)]
        overloads = FUNCTIONS.get(name)
        if overloads is None:
            return self.err(n.pos, f"undeclared reference to '{name}' (in container '')")
        return self.resolve(n.pos, name, arg_types, target is not None, overloads)

    def resolve(self, pos, name, arg_types, instance, overloads):
        results = []
        for is_instance, params, result in overloads:
            if is_instance != instance or len(params) != len(arg_types):
                continue
            subst = {}
            if all(_assignable(p, a, subst) for p, a in zip(params, arg_types)):
                results.append(_substitute(result, subst))
        if not results:
            if any(t.kind == "error" for t in arg_types):
                return ERROR
            shown = [str(t) for t in arg_types]
            sig = f"{shown[0]}.({', '.join(shown[1:])})" if instance else f"({', '.join(shown)})"
            return self.err(pos, f"found no matching overload for '{name}' applied to '{sig}'")
        if all(same(r, results[0]) for r in results):
            return results[0]
        return DYN

    def comprehension(self, n, scope):
        rt = self.check(n.target, scope)
        if rt.kind == "list":
            vt = rt.params[0]
        elif rt.kind == "map":
            vt = rt.params[0]
        elif rt.kind in ("dyn", "error"):
            vt = rt
        else:
            self.err(n.target.pos, f"expression of type '{rt}' cannot be range of a comprehension "
                                   "(must be list, map, or dynamic)")
            vt = ERROR
        inner = dict(scope, **{n.var: vt})
        body = [self.check(a, inner) for a in n.args]
        # The macros expand to comprehensions whose step is an operator call on the body (cel-go macro.go);
        # a body of the wrong type fails that call, so the error names the operator.
        if n.fn == "all":
            self.resolve(n.pos, "_&&_", [BOOL, body[0]], False, FUNCTIONS["_&&_"])
            return BOOL
        if n.fn == "exists":
            self.resolve(n.pos, "_||_", [BOOL, body[0]], False, FUNCTIONS["_||_"])
            return BOOL
        if n.fn == "exists_one":
            self.resolve(n.pos, "_?_:_", [body[0], INT, INT], False, FUNCTIONS["_?_:_"])
            return BOOL
        if n.fn == "filter":
            self.resolve(n.pos, "_?_:_", [body[0], T("list", vt), T("list", vt)], False, FUNCTIONS["_?_:_"])
            return T("list", vt)
        out = T("list", body[-1])
        if len(body) == 2:
            self.resolve(n.pos, "_?_:_", [body[0], out, out], False, FUNCTIONS["_?_:_"])
        return out


_NULLABLE = ("object", "google.protobuf.Duration", "google.protobuf.Timestamp")


def _assignable(param, arg, subst):
    if arg.kind in ("dyn", "error"):
        if param.kind == "param" and param.name not in subst:
            subst[param.name] = DYN
        return True
    if param.kind == "dyn":
        return True
    if param.kind == "param":
        bound = subst.get(param.name)
        if bound is None:
            subst[param.name] = arg
            return True
        return _assignable(bound, arg, subst)
    if param.kind == "type" and arg.kind == "type":
        return True            # type values compare whatever type they name: type(x) == string
    if "null_type" in (param.kind, arg.kind):
        # null goes where the legacy checker let it: objects, opaque types, durations and timestamps
        other = arg if param.kind == "null_type" else param
        return other.kind == "null_type" or other.kind in _NULLABLE or other.kind.startswith("opaque:")
    if param.kind != arg.kind or len(param.params) != len(arg.params):
        return False
    if param.kind == "object":
        return param.name == arg.name
    return all(_assignable(p, a, subst) for p, a in zip(param.params, arg.params))


def _substitute(t, subst):
    if t.kind == "param":
        return subst.get(t.name) or DYN
    if t.params:
        return T(t.kind, *(_substitute(p, subst) for p in t.params), name=t.name, fields=t.fields)
    return t


def self_type(schema, is_root, type_name):
    """The declared type of self (and oldSelf) for rules on this schema node, or None if CEL cannot see it."""
    return decl_type(schema, is_root, type_name)


def compile_expr(src, self_t, want):
    """Type-checks src with self and oldSelf of type self_t. Returns (problem, uses_old_self): problem is
    None, ("compile", cel-go's issues text) or ("type", None) when the result is not of type `want`."""
    try:
        ast = parse(src)
    except CelSyntaxError as e:
        return ("compile", format_errors(src, e.errors)), False
    except RecursionError:
        return ("compile", "ERROR: <input>:-1:0: expression recursion limit exceeded"), False
    c = _Checker({"self": self_t, "oldSelf": self_t})
    try:
        result = c.check(ast, {})
    except RecursionError:
        return ("compile", "ERROR: <input>:-1:0: expression recursion limit exceeded"), False
    old = uses_ident(ast, "oldSelf")
    if c.errors:
        return ("compile", format_errors(src, c.errors)), old
    if result.kind != want.kind:
        return ("type", None), old
    return None, old
