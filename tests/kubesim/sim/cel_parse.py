"""CEL source text to an AST, with cel-go's node positions (the checker and evaluator both walk it)."""
import re


class CelSyntaxError(Exception):
    """errors: [(offset, message)], reported as cel-go does (`ERROR: <input>:L:C: Syntax error: ...`)."""

    def __init__(self, errors):
        super().__init__("; ".join(m for _, m in errors))
        self.errors = errors


class Node:
    """One expression. kind: lit | ident | select | call | list | map | comp. pos: the character offset
    cel-go gives the node (the operator token for calls, the '.' for selections, '(' for function calls),
    so errors point where the real compiler points."""
    __slots__ = ("kind", "pos", "value", "lit_type", "name", "operand", "field", "test_only", "fn", "target",
                 "args", "entries", "var")

    def __init__(self, kind, pos, **kw):
        self.kind = kind
        self.pos = pos
        for k in self.__slots__[2:]:
            setattr(self, k, kw.get(k))

    def __repr__(self):
        return f"Node({self.kind}, {self.name or self.fn or self.field or self.value!r})"


# CEL's reserved words that may not be identifiers (cel-go: "reserved identifier: %s").
_RESERVED = {"as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
             "package", "namespace", "return", "var", "void", "while"}
_MACROS = {"all", "exists", "exists_one", "map", "filter"}

_TOKEN = re.compile(r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<num>0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+|\.\d+(?:[eE][+-]?\d+)?)|\d+[uU]?)
  | (?P<str>(?:[rR][bB]?|[bB][rR]?)?(?:\"\"\"(?:\\.|(?!\"\"\").|\n)*\"\"\"|'''(?:\\.|(?!''').|\n)*'''
             |"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!?:.,()\[\]{}+\-*/%])
""", re.X)


def _unescape(body, raw, is_bytes, pos):
    if raw:
        return body.encode() if is_bytes else body
    out = bytearray() if is_bytes else []
    i = 0
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\",
              "'": "'", '"': '"', "`": "`", "?": "?"}

    def put(ch):
        if is_bytes:
            out.extend(ch.encode() if isinstance(ch, str) else bytes([ch]))
        else:
            out.append(ch if isinstance(ch, str) else chr(ch))
    while i < len(body):
        c = body[i]
        if c != "\\":
            put(c)
            i += 1
            continue
        n = body[i + 1] if i + 1 < len(body) else ""
        if n in simple:
            put(simple[n])
            i += 2
        elif n in "xX" and re.match(r"[0-9a-fA-F]{2}", body[i + 2:i + 4]):
            put(int(body[i + 2:i + 4], 16))
            i += 4
        elif n == "u" and re.match(r"[0-9a-fA-F]{4}", body[i + 2:i + 6]) and not is_bytes:
            put(chr(int(body[i + 2:i + 6], 16)))
            i += 6
        elif n == "U" and re.match(r"[0-9a-fA-F]{8}", body[i + 2:i + 10]) and not is_bytes:
            put(chr(int(body[i + 2:i + 10], 16)))
            i += 10
        elif re.match(r"[0-3][0-7]{2}", body[i + 1:i + 4]):
            put(int(body[i + 1:i + 4], 8))
            i += 4
        else:
            raise CelSyntaxError([(pos, "Syntax error: invalid escape sequence")])
    return bytes(out) if is_bytes else "".join(out)


def tokenize(src):
    toks, pos = [], 0
    while pos < len(src):
        m = _TOKEN.match(src, pos)
        if not m:
            raise CelSyntaxError([(pos, f"Syntax error: token recognition error at: '{src[pos]}'")])
        kind = m.lastgroup
        text = m.group(kind)
        if kind == "str":
            prefix = re.match(r"[rRbB]*", text).group(0)
            quote = text[len(prefix):]
            q = 3 if quote[:3] in ('"""', "'''") else 1
            is_bytes = "b" in prefix.lower()
            value = _unescape(quote[q:-q], "r" in prefix.lower(), is_bytes, pos)
            toks.append(("bytes" if is_bytes else "string", text, value, pos))
        elif kind == "num":
            if text[-1] in "uU":
                toks.append(("uint", text, int(text[:-1], 0), pos))
            elif re.fullmatch(r"0[xX][0-9a-fA-F]+|\d+", text):
                toks.append(("int", text, int(text, 0), pos))
            else:
                toks.append(("double", text, float(text), pos))
        elif kind != "ws":
            toks.append((kind, text, text, pos))
        pos = m.end()
    toks.append(("eof", "<EOF>", None, len(src)))
    return toks


class _Parser:
    def __init__(self, src):
        self.toks = tokenize(src)
        self.i = 0

    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self):
        t = self.peek()
        self.i += 1
        return t

    def fail(self, tok, expecting=None):
        msg = f"Syntax error: mismatched input '{tok[1]}'"
        if expecting:
            msg += f" expecting {expecting}"
        elif tok[0] != "eof":
            msg = f"Syntax error: extraneous input '{tok[1]}'"
        raise CelSyntaxError([(tok[3], msg)])

    def expect(self, text):
        t = self.next()
        if t[0] != "op" or t[1] != text:
            self.fail(t, f"'{text}'")
        return t

    def is_op(self, text, k=0):
        t = self.peek(k)
        return t[0] == "op" and t[1] == text

    def parse(self):
        e = self.expr()
        t = self.peek()
        if t[0] != "eof":
            self.fail(t, "<EOF>")
        return e

    def expr(self):
        cond = self.logical("||", self.conj)
        if self.is_op("?"):
            q = self.next()
            a = self.logical("||", self.conj)
            self.expect(":")
            b = self.expr()
            return Node("call", q[3], fn="_?_:_", args=[cond, a, b])
        return cond

    def conj(self):
        return self.logical("&&", self.relation)

    def logical(self, op, sub):
        terms, ops = [sub()], []
        while self.is_op(op):
            ops.append(self.next()[3])
            terms.append(sub())
        # cel-go balances the operator tree; the outcome is the same, only node ids differ.
        e = terms[0]
        for pos, t in zip(ops, terms[1:]):
            e = Node("call", pos, fn=f"_{op}_", args=[e, t])
        return e

    def relation(self):
        e = self.calc()
        while True:
            t = self.peek()
            if t[0] == "op" and t[1] in ("<", "<=", ">", ">=", "==", "!="):
                self.next()
                e = Node("call", t[3], fn=f"_{t[1]}_", args=[e, self.calc()])
            elif t[0] == "id" and t[1] == "in":
                self.next()
                e = Node("call", t[3], fn="@in", args=[e, self.calc()])
            else:
                return e

    def calc(self):
        return self.binary(("+", "-"), lambda: self.binary(("*", "/", "%"), self.unary))

    def binary(self, ops, sub):
        e = sub()
        while self.peek()[0] == "op" and self.peek()[1] in ops:
            t = self.next()
            e = Node("call", t[3], fn=f"_{t[1]}_", args=[e, sub()])
        return e

    def unary(self):
        t = self.peek()
        if t[0] == "op" and t[1] in ("!", "-"):
            ops = []
            while self.is_op(t[1]):
                ops.append(self.next())
            if t[1] == "-" and self.peek()[0] in ("int", "double") and len(ops) == 1:
                self.i -= 1        # a signed literal: -1 is an int literal, not a negation
                return self.member()
            inner = self.member()
            if len(ops) % 2 == 0:
                return inner
            return Node("call", ops[0][3], fn="!_" if t[1] == "!" else "-_", args=[inner])
        return self.member()

    def member(self):
        e = self.primary()
        while True:
            if self.is_op("."):
                dot = self.next()
                name = self.next()
                if name[0] != "id":
                    self.fail(name, "IDENTIFIER")
                if self.is_op("("):
                    op = self.next()
                    args = self.arglist(")")
                    e = self.receiver_call(op[3], name[1], e, args)
                else:
                    e = Node("select", dot[3], operand=e, field=name[1], test_only=False)
            elif self.is_op("["):
                op = self.next()
                idx = self.expr()
                self.expect("]")
                e = Node("call", op[3], fn="_[_]", args=[e, idx])
            else:
                return e

    def arglist(self, close):
        args = []
        if self.is_op(close):
            self.next()
            return args
        while True:
            args.append(self.expr())
            if self.is_op(","):
                self.next()
                if self.is_op(close):       # trailing comma
                    self.next()
                    return args
                continue
            self.expect(close)
            return args

    def receiver_call(self, pos, name, target, args):
        if name in _MACROS and len(args) in ((2, 3) if name == "map" else (2,)):
            var = args[0]
            if var.kind != "ident":
                raise CelSyntaxError([(var.pos, "argument must be a simple name")])
            return Node("comp", pos, fn=name, target=target, var=var.name, args=args[1:])
        return Node("call", pos, fn=name, target=target, args=args)

    def primary(self):
        t = self.next()
        kind, text, value, pos = t
        if kind in ("int", "double", "uint", "string", "bytes"):
            return Node("lit", pos, value=value, lit_type=kind)
        if kind == "op" and text == "-":     # signed numeric literal
            n = self.next()
            return Node("lit", pos, value=-n[2], lit_type=n[0])
        if kind == "op" and text == "(":
            e = self.expr()
            self.expect(")")
            return e
        if kind == "op" and text == "[":
            return Node("list", pos, args=self.arglist("]"))
        if kind == "op" and text == "{":
            entries = []
            while not self.is_op("}"):
                k = self.expr()
                self.expect(":")
                entries.append((k, self.expr()))
                if not self.is_op(","):
                    break
                self.next()
            self.expect("}")
            return Node("map", pos, entries=entries)
        if kind == "op" and text == "." and self.peek()[0] == "id":
            return self.ident(self.next(), leading_dot=True)
        if kind == "id":
            return self.ident(t)
        self.fail(t, "{'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, "
                     "STRING, BYTES, IDENTIFIER}")

    def ident(self, t, leading_dot=False):
        name = t[1]
        if name in ("true", "false"):
            return Node("lit", t[3], value=name == "true", lit_type="bool")
        if name == "null":
            return Node("lit", t[3], value=None, lit_type="null")
        if name in _RESERVED:
            raise CelSyntaxError([(t[3], f"reserved identifier: {name}")])
        if self.is_op("("):
            op = self.next()
            args = self.arglist(")")
            if name == "has" and not leading_dot:
                if len(args) != 1 or args[0].kind != "select":
                    raise CelSyntaxError([(args[0].pos if args else op[3], "invalid argument to has() macro")])
                a = args[0]
                return Node("select", op[3], operand=a.operand, field=a.field, test_only=True)
            return Node("call", op[3], fn=name, target=None, args=args)
        if self.is_op("{"):
            raise CelSyntaxError([(self.peek()[3], "Syntax error: message construction is not supported")])
        return Node("ident", t[3], name=name)


def parse(src):
    """The AST of src, or CelSyntaxError."""
    return _Parser(src).parse()


def walk(node):
    """Every node under (and including) node."""
    yield node
    for a in (node.operand, node.target):
        if a is not None:
            yield from walk(a)
    for a in node.args or ():
        yield from walk(a)
    for k, v in node.entries or ():
        yield from walk(k)
        yield from walk(v)


def uses_ident(node, name):
    """True if the expression refers to variable name (oldSelf makes a rule a transition rule)."""
    return any(n.kind == "ident" and n.name == name for n in walk(node))


def format_errors(src, errors):
    """cel-go's issues.String(): `ERROR: <input>:L:C: msg` then the source line and a caret, by position."""
    out = []
    lines = src.split("\n")
    for pos, msg in sorted(errors, key=lambda e: _line_col(src, e[0])):
        line, col = _line_col(src, pos)
        text = f"ERROR: <input>:{line}:{col + 1}: {msg}"
        if pos >= 0 and line - 1 < len(lines):
            snippet = lines[line - 1].replace("\t", " ")
            ind = "".join("\uff0e" if len(ch.encode()) > 1 else "." for ch in snippet[:col])
            ind += "\uff3e" if col < len(snippet) and len(snippet[col].encode()) > 1 else "^"
            text += "\n | " + snippet + "\n | " + ind
        out.append(text)
    return "\n".join(out)


def _line_col(src, pos):
    if pos < 0:
        return (-1, -1)
    before = src[:pos]
    line = before.count("\n") + 1
    return line, pos - (before.rfind("\n") + 1)


# Kubernetes exposes schema property names to CEL escaped (apiserver/pkg/cel/escaping.go): reserved words
# become __word__, and "__", ".", "-", "/" become __underscores__, __dot__, __dash__, __slash__.
_CEL_RESERVED = {"true", "false", "null", "in"} | _RESERVED
_ESCAPES = {"__": "__underscores__", ".": "__dot__", "-": "__dash__", "/": "__slash__"}


def escape_name(name):
    """The CEL field name for a schema property, or None when the property cannot be reached from CEL."""
    if not name or name[0].isdigit():
        return None
    if name in _CEL_RESERVED:
        return f"__{name}__"
    out, bad = [], False

    def repl(m):
        nonlocal bad
        if m.group(0) in _ESCAPES:
            return _ESCAPES[m.group(0)]
        bad = True
        return ""
    out = re.sub(r"__|[-./]|[^a-zA-Z0-9_]", repl, name)
    return None if bad else out


def unescape_name(field):
    """The schema property a CEL field name stands for."""
    m = re.fullmatch(r"__([a-z]+)__", field)
    if m and m.group(1) in _CEL_RESERVED:
        return m.group(1)
    inv = {v: k for k, v in _ESCAPES.items()}
    return re.sub(r"__(?:underscores|dot|dash|slash)__", lambda m: inv[m.group(0)], field)
