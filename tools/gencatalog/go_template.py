"""Go text/template, as Helm runs it, for the subset osm-edge's control-plane templates use; nothing more.

Actions: text with `{{-`/`-}}` trimming, comments, `define`, `if`/`else`/`end`, `range` (dot is the element,
`$` the root), `$var := pipeline`, pipelines with `|`, parenthesised arguments, field chains on `.`, `$` and
variables, string and number literals, and the method `.Capabilities.APIVersions.Has`. Functions: include,
printf (%s %v %d), default, required, empty, eq, ne, not, and, or, toYaml, mustToJson, toJson, indent,
nindent. Anything else (with, template, block, else if, unknown functions, unknown printf verbs, printing a
map or list) raises TemplateError naming the file and line, so a surprise is never silently rendered wrong.
Values follow Helm: a missing map key is nil and prints as "", nil has no fields."""
import json
import math
import re
from decimal import Decimal

from . import yaml_subset


class TemplateError(ValueError):
    pass


class RequiredError(TemplateError):
    """A `required` value was empty: Helm refuses to render with these values."""


FUNCS = {"include", "printf", "default", "required", "empty", "eq", "ne", "not", "and", "or", "toYaml",
         "mustToJson", "toJson", "indent", "nindent"}
_TOKEN = re.compile(r'''\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<raw>`[^`]*`)|(?P<num>-?\d+(?:\.\d+)?)'''
                    r'''|(?P<assign>:=)|(?P<punct>[|()])|(?P<var>\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)'''
                    r'''|(?P<field>(?:\.[A-Za-z0-9_]+)+|\.)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*))''')


def go_print(v, where="") -> str:
    """fmt.Sprint of a value as Helm prints it (nil → "")."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        v = float(v)  # Helm's values are JSON numbers: float64
    if isinstance(v, float):
        return _go_float(v)
    if isinstance(v, str):
        return v
    raise TemplateError(f"{where}: printing a {type(v).__name__} is not handled")


def _go_float(f: float) -> str:
    """strconv.FormatFloat(f, 'g', -1, 64), which fmt's %v uses: shortest digits, exponent form when the
    exponent is below -4 or at least 6 (so 1000000 prints as 1e+06, as Helm users learn)."""
    if math.isinf(f) or math.isnan(f):
        raise TemplateError(f"printing {f} is not handled")
    if f == 0:
        return "0"
    sign = "-" if f < 0 else ""
    t = Decimal(repr(abs(f))).normalize().as_tuple()
    digits = "".join(map(str, t.digits))
    dp = len(digits) + t.exponent  # position of the decimal point
    exp = dp - 1
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mant}e{exp:+03d}"
    if dp <= 0:
        return f"{sign}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return sign + digits + "0" * (dp - len(digits))
    return f"{sign}{digits[:dp]}.{digits[dp:]}"


def empty(v) -> bool:
    return v is None or v is False or v == 0 and not isinstance(v, bool) or (
        isinstance(v, (str, list, dict)) and len(v) == 0)


def to_json(v) -> str:
    def norm(x):
        if isinstance(x, float) and x == int(x) and abs(x) < 1e21:
            return int(x)
        if isinstance(x, dict):
            return {k: norm(y) for k, y in x.items()}
        if isinstance(x, list):
            return [norm(y) for y in x]
        return x
    return json.dumps(norm(v), sort_keys=True, separators=(",", ":"))


# --- lexing and parsing ------------------------------------------------------------------------------------
class _Node:
    def __init__(self, kind, line, **kw):
        self.kind, self.line = kind, line
        self.__dict__.update(kw)


def _split(text: str, source: str) -> list:
    """[("text", str, line) | ("action", body, line, trim_left, trim_right)] with trimming applied."""
    out, pos = [], 0
    while True:
        start = text.find("{{", pos)
        if start < 0:
            out.append(["text", text[pos:], text.count("\n", 0, pos) + 1])
            break
        out.append(["text", text[pos:start], text.count("\n", 0, pos) + 1])
        k, q = start + 2, None
        while k < len(text):
            c = text[k]
            if q:
                if c == "\\" and q == '"':
                    k += 1
                elif c == q:
                    q = None
            elif c in "\"`":
                q = c
            elif text.startswith("}}", k):
                break
            k += 1
        else:
            raise TemplateError(f"{source}:{text.count(chr(10), 0, start) + 1}: unterminated action")
        body = text[start + 2:k]
        line = text.count("\n", 0, start) + 1
        tl = re.match(r"-\s", body) is not None
        tr = re.search(r"\s-$", body) is not None
        body = body[2 if tl else 0:len(body) - 2 if tr else len(body)].strip()
        out.append(["action", body, line, tl, tr])
        pos = k + 2
    for i, tok in enumerate(out):
        if tok[0] != "action":
            continue
        if tok[3] and i > 0:
            out[i - 1][1] = out[i - 1][1].rstrip(" \t\r\n")
        if tok[4] and i + 1 < len(out):
            out[i + 1][1] = out[i + 1][1].lstrip(" \t\r\n")
    return out


class Template:
    """One parsed file: its top-level body and the `define`d templates it adds to `defines`."""

    def __init__(self, text: str, source: str, defines: dict):
        self.source = source
        self.defines = defines
        self.body = self._parse(_split(text, source))

    def _where(self, line):
        return f"{self.source}:{line}"

    def _parse(self, tokens):
        stack = [("root", [], None)]
        for tok in tokens:
            if tok[0] == "text":
                if tok[1]:
                    stack[-1][1].append(_Node("text", tok[2], text=tok[1]))
                continue
            _, body, line, _, _ = tok
            where = self._where(line)
            if body.startswith("/*"):
                if not body.endswith("*/"):
                    raise TemplateError(f"{where}: malformed comment")
                continue
            word = body.split(None, 1)[0] if body else ""
            rest = body[len(word):].strip()
            if word in ("with", "template", "block", "break", "continue"):
                raise TemplateError(f"{where}: '{word}' is not handled")
            if word == "define":
                m = re.fullmatch(r'"([^"]+)"', rest)
                if not m or len(stack) != 1:
                    raise TemplateError(f"{where}: malformed define")
                stack.append(("define", [], m.group(1)))
            elif word in ("if", "range"):
                node = _Node(word, line, pipe=self._pipeline(rest, where), then=[], other=[])
                stack[-1][1].append(node)
                stack.append((word, node.then, node))
            elif word == "else":
                if rest:
                    raise TemplateError(f"{where}: 'else {rest}' is not handled")
                kind, _, node = stack[-1]
                if kind not in ("if", "range") or stack[-1][1] is node.other:
                    raise TemplateError(f"{where}: else outside if/range")
                stack[-1] = (kind, node.other, node)
            elif word == "end":
                if len(stack) == 1:
                    raise TemplateError(f"{where}: end without a block")
                kind, items, extra = stack.pop()
                if kind == "define":
                    self.defines[extra] = (items, self.source)
            else:
                m = re.match(r"(\$[A-Za-z0-9_]+)\s*:=\s*(.*)$", body, re.S)
                if m:
                    stack[-1][1].append(_Node("assign", line, var=m.group(1),
                                              pipe=self._pipeline(m.group(2), where)))
                else:
                    stack[-1][1].append(_Node("print", line, pipe=self._pipeline(body, where)))
        if len(stack) != 1:
            raise TemplateError(f"{self.source}: unclosed {stack[-1][0]}")
        return stack[0][1]

    # pipeline := command ('|' command)* ; command := operand+ ; operand := literal | field | var | '(' pipeline ')'
    def _pipeline(self, text, where):
        toks, pos = [], 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise TemplateError(f"{where}: cannot read {text[pos:]!r}")
            kind = m.lastgroup
            toks.append((kind, m.group(kind)))
            pos = m.end()
        pipe, k = self._parse_pipe(toks, 0, where)
        if k != len(toks):
            raise TemplateError(f"{where}: unexpected {toks[k][1]!r}")
        return pipe

    def _parse_pipe(self, toks, k, where):
        cmds, cur = [], []
        while k < len(toks):
            kind, val = toks[k]
            if kind == "punct" and val == ")":
                break
            if kind == "punct" and val == "|":
                if not cur:
                    raise TemplateError(f"{where}: empty command")
                cmds.append(cur)
                cur = []
                k += 1
                continue
            if kind == "punct" and val == "(":
                sub, k = self._parse_pipe(toks, k + 1, where)
                if k >= len(toks) or toks[k][1] != ")":
                    raise TemplateError(f"{where}: unbalanced parenthesis")
                cur.append(("pipe", sub))
                k += 1
                continue
            if kind == "assign":
                raise TemplateError(f"{where}: assignment inside an expression is not handled")
            if kind == "ident":
                if val in ("true", "false"):
                    cur.append(("lit", val == "true"))
                elif val == "nil":
                    cur.append(("lit", None))
                elif val not in FUNCS:
                    raise TemplateError(f"{where}: function {val!r} is not handled")
                else:
                    cur.append(("func", val))
            elif kind == "str":
                cur.append(("lit", json.loads(val)))
            elif kind == "raw":
                cur.append(("lit", val[1:-1]))
            elif kind == "num":
                cur.append(("lit", float(val) if "." in val else int(val)))
            else:
                cur.append((kind, val))
            k += 1
        if not cur:
            raise TemplateError(f"{where}: empty pipeline")
        cmds.append(cur)
        return cmds, k

    # --- execution -----------------------------------------------------------------------------------------
    def render(self, data) -> str:
        return _Exec(self.defines).run(self.body, data, self.source)


class _Exec:
    def __init__(self, defines):
        self.defines = defines

    def run(self, nodes, dot, source, root=None):
        scope = {"$": dot if root is None else root}
        out = []
        self._nodes(nodes, dot, scope, out, source)
        return "".join(out)

    def _nodes(self, nodes, dot, scope, out, source):
        for n in nodes:
            where = f"{source}:{n.line}"
            if n.kind == "text":
                out.append(n.text)
            elif n.kind == "print":
                out.append(go_print(self._pipe(n.pipe, dot, scope, where), where))
            elif n.kind == "assign":
                scope[n.var] = self._pipe(n.pipe, dot, scope, where)
            elif n.kind == "if":
                branch = n.then if not empty(self._pipe(n.pipe, dot, scope, where)) else n.other
                self._nodes(branch, dot, dict(scope), out, source)
            elif n.kind == "range":
                items = self._pipe(n.pipe, dot, scope, where)
                if isinstance(items, dict):
                    items = [items[k] for k in sorted(items)]
                if items is not None and not isinstance(items, list):
                    raise TemplateError(f"{where}: range over a {type(items).__name__}")
                if not items:
                    self._nodes(n.other, dot, dict(scope), out, source)
                for item in items or []:
                    self._nodes(n.then, item, dict(scope), out, source)

    def _pipe(self, cmds, dot, scope, where):
        value, has_value = None, False
        for cmd in cmds:
            args = list(cmd)
            final = [value] if has_value else []
            value, has_value = self._cmd(args, final, dot, scope, where), True
        return value

    def _operand(self, op, dot, scope, where):
        kind, val = op
        if kind == "lit":
            return val
        if kind == "pipe":
            return self._pipe(val, dot, scope, where)
        if kind == "field":
            return dot if val == "." else self._chain(dot, val[1:].split("."), where)
        if kind == "var":
            name, _, chain = val.partition(".")
            if name not in scope:
                raise TemplateError(f"{where}: undefined variable {name}")
            return self._chain(scope[name], chain.split("."), where) if chain else scope[name]
        raise TemplateError(f"{where}: {kind} {val!r} cannot be an argument")

    def _chain(self, v, names, where):
        for name in names:
            if v is None:
                raise TemplateError(f"{where}: nil pointer evaluating .{name}")
            if not isinstance(v, dict):
                raise TemplateError(f"{where}: can't evaluate field {name} in a {type(v).__name__}")
            v = v.get(name)
        return v

    def _cmd(self, args, final, dot, scope, where):
        head = args[0]
        if head[0] == "func":
            vals = [self._operand(a, dot, scope, where) for a in args[1:]] + final
            return self._call(head[1], vals, dot, where)
        first = self._operand(head, dot, scope, where)
        if callable(first):
            return first(*[self._operand(a, dot, scope, where) for a in args[1:]] + final)
        if len(args) > 1 or final:
            raise TemplateError(f"{where}: {head[1]} is not a function")
        return first

    def _call(self, name, a, dot, where):
        def arity(n):
            if len(a) != n:
                raise TemplateError(f"{where}: {name} wants {n} arguments, got {len(a)}")
        if name == "include":
            arity(2)
            if a[0] not in self.defines:
                raise TemplateError(f"{where}: no template {a[0]!r}")
            nodes, source = self.defines[a[0]]
            return self.run(nodes, a[1], source)
        if name == "printf":
            return _printf(a[0], a[1:], where)
        if name == "default":
            arity(2)
            return a[0] if empty(a[1]) else a[1]
        if name == "required":
            arity(2)
            if a[1] is None or a[1] == "":
                raise RequiredError(f"{where}: {a[0]}")
            return a[1]
        if name == "empty":
            arity(1)
            return empty(a[0])
        if name in ("eq", "ne"):
            if len(a) < 2:
                raise TemplateError(f"{where}: {name} wants 2 arguments")
            same = any(_same(a[0], b) for b in a[1:])
            return same if name == "eq" else not same
        if name == "not":
            arity(1)
            return empty(a[0])
        if name in ("and", "or"):
            for v in a[:-1]:
                if empty(v) == (name == "and"):
                    return v
            return a[-1]
        if name == "toYaml":
            arity(1)
            return "" if a[0] is None else yaml_subset.dump(a[0])
        if name in ("mustToJson", "toJson"):
            arity(1)
            return to_json(a[0])
        if name in ("indent", "nindent"):
            arity(2)
            pad = " " * int(a[0])
            text = pad + go_print(a[1], where).replace("\n", "\n" + pad)
            return "\n" + text if name == "nindent" else text
        raise TemplateError(f"{where}: function {name!r} is not handled")


def _same(x, y):
    if isinstance(x, bool) or isinstance(y, bool):
        return x is y
    return x == y


def _printf(fmt, args, where):
    out, k, i = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        verb = fmt[i + 1:i + 2]
        if verb == "%":
            out.append("%")
        elif verb in ("s", "v", "d"):
            if k >= len(args):
                raise TemplateError(f"{where}: printf: missing argument for %{verb}")
            out.append(go_print(args[k], where))
            k += 1
        else:
            raise TemplateError(f"{where}: printf verb %{verb} is not handled")
        i += 2
    if k != len(args):
        raise TemplateError(f"{where}: printf: {len(args) - k} extra arguments")
    return "".join(out)


def capabilities(api_versions=()) -> dict:
    """`.Capabilities` with APIVersions.Has (Helm's default set lacks security.openshift.io/v1)."""
    return {"APIVersions": {"Has": lambda v: v in api_versions}, "KubeVersion": {"Version": "v1.32.0"}}
