"""A small CEL subset for x-kubernetes-validations: has(), field selection, comparisons, &&, ||, !,
size(), string methods, literals, lists and the ternary operator; self and oldSelf."""
import re


class CelError(Exception):
    pass


_CEL_TOKEN = re.compile(r"\s*(?:(\d+\.\d+|\d+)|(\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')|(==|!=|<=|>=|&&|\|\||[<>!().,\[\]?:+-])|"
                        r"([A-Za-z_][A-Za-z0-9_]*))")


class _Missing:
    pass


MISSING = _Missing()


class Cel:
    """Evaluates has(), field selection, ==, !=, <, >, <=, >=, &&, ||, !, size(), literals, ternary."""

    def __init__(self, expr):
        self.toks = []
        pos = 0
        expr = expr.strip()
        while pos < len(expr):
            m = _CEL_TOKEN.match(expr, pos)
            if not m or m.end() == pos:
                raise CelError(expr)
            pos = m.end()
            if m.group(1):
                self.toks.append(("num", float(m.group(1)) if "." in m.group(1) else int(m.group(1))))
            elif m.group(2):
                self.toks.append(("str", m.group(2)[1:-1]))
            elif m.group(3):
                self.toks.append(("op", m.group(3)))
            elif m.group(4):
                self.toks.append(("id", m.group(4)))
        self.i = 0

    def eval(self, env):
        self.env = env
        self.i = 0
        v = self._ternary()
        if self.i != len(self.toks):
            raise CelError("trailing tokens")
        return v

    def _peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def _eat(self, val=None):
        t = self._peek()
        if val is not None and t[1] != val:
            raise CelError(f"expected {val}")
        self.i += 1
        return t

    def _ternary(self):
        c = self._or()
        if self._peek()[1] == "?":
            self._eat("?")
            a = self._ternary()
            self._eat(":")
            b = self._ternary()
            return a if c is True else b
        return c

    def _or(self):
        v = self._and()
        while self._peek()[1] == "||":
            self._eat()
            r = self._and()
            v = (v is True) or (r is True)
        return v

    def _and(self):
        v = self._cmp()
        while self._peek()[1] == "&&":
            self._eat()
            r = self._cmp()
            v = (v is True) and (r is True)
        return v

    def _cmp(self):
        v = self._unary()
        op = self._peek()[1]
        if op in ("==", "!=", "<", ">", "<=", ">="):
            self._eat()
            r = self._unary()
            if v is MISSING or r is MISSING:
                raise CelError("no such key")
            return {"==": lambda: v == r, "!=": lambda: v != r, "<": lambda: v < r, ">": lambda: v > r,
                    "<=": lambda: v <= r, ">=": lambda: v >= r}[op]()
        return v

    def _unary(self):
        if self._peek()[1] == "!":
            self._eat()
            v = self._unary()
            return not (v is True)
        if self._peek()[1] == "-":
            self._eat()
            return -self._unary()
        return self._postfix()

    def _postfix(self):
        kind, val = self._eat()
        if kind == "num" or kind == "str":
            v = val
        elif kind == "op" and val == "(":
            v = self._ternary()
            self._eat(")")
        elif kind == "op" and val == "[":
            items = []
            while self._peek()[1] != "]":
                items.append(self._ternary())
                if self._peek()[1] == ",":
                    self._eat()
            self._eat("]")
            v = items
        elif kind == "id" and val == "has":
            self._eat("(")
            v = self._has()
            self._eat(")")
            return v
        elif kind == "id" and val == "size":
            self._eat("(")
            a = self._ternary()
            self._eat(")")
            v = len(a)
        elif kind == "id" and val in ("true", "false", "null"):
            v = {"true": True, "false": False, "null": None}[val]
        elif kind == "id" and val in self.env:
            v = self.env[val]
        else:
            raise CelError(f"unknown {val}")
        while self._peek()[1] == ".":
            self._eat()
            _, name = self._eat()
            if self._peek()[1] == "(":   # method call: x.size(), x.startsWith(y)
                self._eat("(")
                args = []
                while self._peek()[1] != ")":
                    args.append(self._ternary())
                    if self._peek()[1] == ",":
                        self._eat()
                self._eat(")")
                if name == "size":
                    v = len(v)
                elif name == "startsWith":
                    v = str(v).startswith(args[0])
                elif name == "endsWith":
                    v = str(v).endswith(args[0])
                elif name == "contains":
                    v = args[0] in str(v)
                else:
                    raise CelError(name)
                continue
            if not isinstance(v, dict) or name not in v:
                raise CelError(f"no such key: {name}")
            v = v[name]
        return v

    def _has(self):
        kind, val = self._eat()
        if kind != "id" or val not in self.env:
            raise CelError("has() needs a field selection")
        v = self.env[val]
        sel = []
        while self._peek()[1] == ".":
            self._eat()
            sel.append(self._eat()[1])
        if not sel:
            raise CelError("has() needs a field selection")
        for name in sel[:-1]:
            if not isinstance(v, dict) or name not in v:
                raise CelError("no such key")
            v = v[name]
        return isinstance(v, dict) and sel[-1] in v
