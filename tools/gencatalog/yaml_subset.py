"""A YAML reader for what osm-edge's charts, CRDs and rendered templates use; it refuses anything else.

Handles: documents split by `---`; block mappings and sequences (also `key:` followed by a sequence at the
key's indent, and `- key: value` items); plain, single- and double-quoted scalars, also over several lines;
`|` and `>` block scalars with `-`/`+` chomping; one- or multi-line flow collections (`[a, "b",]`, `{}`,
`{a: 1}`); comments. Scalars resolve as sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) does for what these files
hold: null, booleans (also yes/no/on/off), decimal integers, floats, strings. Anchors, aliases, tags,
complex keys, tabs in indentation and octal-looking numbers raise YamlError naming the source and line."""
import re


class YamlError(ValueError):
    pass


_BOOL = {v: True for v in ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE")}
_BOOL.update({v: False for v in ("n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE")})
_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)$")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
_KEY = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"\[\]{},&*!|>%@`-][^#]*?|-[^\s#][^#]*?)\s*:(?:\s+|$)""")


def resolve_plain(text: str, where: str):
    """A plain scalar's value, as go-yaml v2 resolves it."""
    if text in ("", "~", "null", "Null", "NULL"):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT.match(text):
        return int(text.replace("_", ""))
    if re.match(r"[-+]?0[0-9]+$", text) or re.match(r"[-+]?0[xXoObB]", text) or text.lower() in (
            ".inf", "-.inf", "+.inf", ".nan"):
        raise YamlError(f"{where}: numeric form {text!r} is not handled")
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(text.replace("_", ""))
    if text[0] in "&*!|>%@`":
        raise YamlError(f"{where}: {text[0]!r} (anchor, alias, tag or reserved indicator) is not handled")
    return text


def _strip_comment(s: str) -> str:
    """Drops a ` #` comment from a line of plain content (quotes are handled by their own readers)."""
    if s.startswith("#"):
        return ""
    i = s.find(" #")
    return s if i < 0 else s[:i]


def _unescape_double(body: str, where: str) -> str:
    out, i = [], 0
    simple = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "/": "/", " ": " ", "e": "\x1b"}
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1] if i + 1 < len(body) else ""
        if n in simple:
            out.append(simple[n])
            i += 2
        elif n in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[n]
            out.append(chr(int(body[i + 2:i + 2 + width], 16)))
            i += 2 + width
        else:
            raise YamlError(f"{where}: escape \\{n} is not handled")
    return "".join(out)


def _fold(lines: list) -> str:
    """Line folding of multi-line flow scalars: a break becomes a space, each empty line a newline."""
    out, pending = lines[0].rstrip(), 0
    for ln in lines[1:]:
        s = ln.strip()
        if not s:
            pending += 1
            continue
        out += ("\n" * pending if pending else " ") + s
        pending = 0
    return out + "\n" * pending


class _Reader:
    def __init__(self, text: str, source: str):
        self.lines = text.split("\n")
        self.source = source
        self.i = 0

    def where(self, i=None) -> str:
        return f"{self.source}:{(self.i if i is None else i) + 1}"

    def fail(self, msg, i=None):
        raise YamlError(f"{self.where(i)}: {msg}")

    # --- lines ---------------------------------------------------------------------------------------------
    def _significant(self, i):
        ln = self.lines[i]
        s = ln.strip()
        return bool(s) and not s.startswith("#")

    def peek(self):
        """(index, indent, content) of the next significant line in this document, or None."""
        i = self.i
        while i < len(self.lines):
            ln = self.lines[i]
            if ln.startswith("---") or ln.startswith("..."):
                if ln.rstrip() in ("---", "...") or ln.startswith("--- "):
                    return None
            if self._significant(i):
                body = ln.lstrip(" ")
                if body.startswith("\t"):
                    self.fail("tab in indentation", i)
                return i, len(ln) - len(body), body.rstrip()
            i += 1
        return None

    # --- documents -----------------------------------------------------------------------------------------
    def documents(self) -> list:
        docs = []
        while True:
            while self.i < len(self.lines) and not self._significant(self.i) \
                    and not self.lines[self.i].startswith("---"):
                self.i += 1
            if self.i >= len(self.lines):
                return docs
            ln = self.lines[self.i]
            if ln.startswith("---") or ln.startswith("..."):
                rest = ln[3:].strip()
                if rest and not rest.startswith("#"):
                    self.fail("content after a document marker is not handled")
                self.i += 1
                continue
            nxt = self.peek()
            docs.append(self.node(nxt[1]) if nxt else None)
            nxt = self.peek()
            if nxt is not None:
                self.fail(f"unexpected content at indent {nxt[1]}", nxt[0])
            while self.i < len(self.lines) and not self.lines[self.i].startswith(("---", "...")):
                if self._significant(self.i):
                    self.fail("unexpected content")
                self.i += 1

    # --- nodes ---------------------------------------------------------------------------------------------
    def node(self, indent):
        """The node whose first line is the next significant one, at exactly `indent`."""
        i, ind, body = self.peek()
        if ind != indent:
            self.fail(f"expected indent {indent}, found {ind}", i)
        if body == "-" or body.startswith("- "):
            return self.sequence(indent)
        if _KEY.match(body) and not body.startswith(("[", "{", '"', "'")) or \
                body.startswith(('"', "'")) and self._quoted_key(body):
            return self.mapping(indent)
        self.i = i
        return self.value_from(body, i, indent - 1)

    def _quoted_key(self, body):
        m = _KEY.match(body)
        return bool(m) and m.group(1)[0] in "\"'"

    def sequence(self, indent):
        out = []
        while True:
            nxt = self.peek()
            if nxt is None or nxt[1] != indent or not (nxt[2] == "-" or nxt[2].startswith("- ")):
                if nxt is not None and nxt[1] > indent:
                    self.fail(f"unexpected indent {nxt[1]} in a sequence at {indent}", nxt[0])
                return out
            i, _, body = nxt
            rest = body[1:].lstrip(" ")
            if not rest or rest.startswith("#"):
                self.i = i + 1
                after = self.peek()
                out.append(self.node(after[1]) if after and after[1] > indent else None)
                continue
            # "- item": re-read the item as if it stood alone at its own column (nested "- - x", "- k: v")
            col = indent + (len(body) - len(rest))
            self.lines[i] = " " * col + rest
            out.append(self.node(col))

    def mapping(self, indent):
        out = {}
        while True:
            nxt = self.peek()
            if nxt is None or nxt[1] < indent:
                return out
            i, ind, body = nxt
            if ind > indent:
                self.fail(f"unexpected indent {ind} in a mapping at {indent}", i)
            if body.startswith("- ") or body == "-":
                return out  # the parent's compact sequence ends here
            m = _KEY.match(body)
            if not m:
                self.fail(f"expected a mapping key: {body!r}", i)
            raw = m.group(1)
            key = (_unescape_double(raw[1:-1], self.where(i)) if raw[0] == '"' else
                   raw[1:-1].replace("''", "'") if raw[0] == "'" else raw)
            if key in out:
                self.fail(f"duplicate key {key!r}", i)
            rest = body[m.end():]
            self.i = i
            if not rest.strip() or rest.lstrip().startswith("#"):
                self.i = i + 1
                after = self.peek()
                if after and after[1] > indent:
                    out[key] = self.node(after[1])
                elif after and after[1] == indent and (after[2] == "-" or after[2].startswith("- ")):
                    out[key] = self.sequence(indent)
                else:
                    out[key] = None
            else:
                out[key] = self.value_from(rest.strip(), i, indent)
        return out

    def value_from(self, text, i, parent_indent):
        """A value starting with `text` on line i (a mapping value, a sequence item or a whole node);
        continuation lines must be indented deeper than parent_indent. Leaves self.i after it."""
        where = self.where(i)
        if text[0] in "|>":
            return self.block_scalar(text, i, parent_indent)
        if text[0] in "[{":
            return self.flow(text, i)
        if text[0] in "\"'":
            return self.quoted(text, i, parent_indent)
        lines = [_strip_comment(text).rstrip()]
        self.i = i + 1
        while True:
            nxt = self.peek()
            if nxt is None or nxt[1] <= parent_indent:
                break
            j, _, body = nxt
            if _KEY.match(body) or body.startswith("- "):
                self.fail("a mapping or sequence inside a plain scalar", j)
            lines.append(_strip_comment(body).rstrip())
            self.i = j + 1
        if len(lines) > 1:
            return _fold(lines)
        return resolve_plain(lines[0], where)

    def quoted(self, text, i, parent_indent):
        q = text[0]
        pieces, j, body = [], i, text[1:]
        while True:
            k = 0
            while k < len(body):
                c = body[k]
                if q == '"' and c == "\\":
                    k += 2
                    continue
                if c == q:
                    if q == "'" and body[k + 1:k + 2] == "'":
                        k += 2
                        continue
                    pieces.append(body[:k])
                    tail = body[k + 1:].strip()
                    if tail and not tail.startswith("#"):
                        self.fail(f"content after a quoted scalar: {tail!r}", j)
                    self.i = j + 1
                    raw = _fold(pieces) if len(pieces) > 1 else pieces[0]
                    return _unescape_double(raw, self.where(i)) if q == '"' else raw.replace("''", "'")
                k += 1
            pieces.append(body)
            j += 1
            if j >= len(self.lines):
                self.fail("unterminated quoted scalar", i)
            body = self.lines[j]

    def block_scalar(self, header, i, parent_indent):
        m = re.match(r"([|>])([-+]?)\s*(#.*)?$", header)
        if not m:
            self.fail(f"block scalar header {header!r} is not handled", i)
        style, chomp = m.group(1), m.group(2)
        j, raw = i + 1, []
        while j < len(self.lines):
            ln = self.lines[j]
            if ln.strip() and (len(ln) - len(ln.lstrip(" ")) <= parent_indent or ln.startswith(("---", "..."))):
                break
            raw.append(ln)
            j += 1
        self.i = j
        content = [ln for ln in raw if ln.strip()]
        if not content:
            return ""
        ind = min(len(ln) - len(ln.lstrip(" ")) for ln in content[:1])
        body = [ln[ind:] if ln.strip() else "" for ln in raw]
        while body and body[-1] == "" and chomp != "+":
            body.pop()
        if style == "|":
            text = "\n".join(body)
        else:
            text, prev_blank = "", True
            for ln in body:
                if ln == "":
                    text += "\n"
                    prev_blank = True
                elif ln.startswith(" "):
                    text += ("\n" if text and not text.endswith("\n") else "") + ln
                    prev_blank = True
                else:
                    text += ("" if prev_blank else " ") + ln
                    prev_blank = False
        return text if chomp == "-" else text + "\n"

    def flow(self, text, i):
        """A flow collection, over as many lines as its brackets take."""
        buf, j = text, i
        while True:
            end = _flow_end(buf)
            if end is not None:
                tail = buf[end:].strip()
                if tail and not tail.startswith("#"):
                    self.fail(f"content after a flow collection: {tail!r}", j)
                self.i = j + 1
                return _Flow(buf[:end], self.where(i)).parse(0)[0]
            j += 1
            if j >= len(self.lines):
                self.fail("unterminated flow collection", i)
            buf += " " + self.lines[j].strip()


def _flow_end(s):
    depth, k, q = 0, 0, None
    while k < len(s):
        c = s[k]
        if q:
            if c == "\\" and q == '"':
                k += 1
            elif c == q:
                q = None
        elif c in "\"'":
            q = c
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
            if depth == 0:
                return k + 1
        elif c == "#" and s[k - 1] == " ":
            raise YamlError("a comment inside a flow collection is not handled")
        k += 1
    return None


class _Flow:
    def __init__(self, s, where):
        self.s, self.where = s, where

    def ws(self, k):
        while k < len(self.s) and self.s[k] == " ":
            k += 1
        return k

    def parse(self, k):
        k = self.ws(k)
        c = self.s[k]
        if c == "[":
            out, k = [], self.ws(k + 1)
            while self.s[k] != "]":
                v, k = self.parse(k)
                out.append(v)
                k = self.ws(k)
                if self.s[k] == ",":
                    k = self.ws(k + 1)
                elif self.s[k] != "]":
                    raise YamlError(f"{self.where}: expected , or ] in {self.s!r}")
            return out, k + 1
        if c == "{":
            out, k = {}, self.ws(k + 1)
            while self.s[k] != "}":
                key, k = self.scalar(k, ":")
                k = self.ws(k)
                if self.s[k] != ":":
                    raise YamlError(f"{self.where}: expected : in {self.s!r}")
                v, k = self.parse(k + 1)
                out[key] = v
                k = self.ws(k)
                if self.s[k] == ",":
                    k = self.ws(k + 1)
                elif self.s[k] != "}":
                    raise YamlError(f"{self.where}: expected , or }} in {self.s!r}")
            return out, k + 1
        return self.scalar(k, "")

    def scalar(self, k, extra_stop):
        c = self.s[k]
        if c in "\"'":
            e = k + 1
            while True:
                if self.s[e] == "\\" and c == '"':
                    e += 2
                    continue
                if self.s[e] == c:
                    if c == "'" and self.s[e + 1:e + 2] == "'":
                        e += 2
                        continue
                    break
                e += 1
            body = self.s[k + 1:e]
            return (_unescape_double(body, self.where) if c == '"' else body.replace("''", "'")), e + 1
        e = k
        while e < len(self.s) and self.s[e] not in ",]}" + extra_stop:
            if self.s[e] == ":" and self.s[e + 1:e + 2] in (" ", ",", "]", "}", ""):
                break
            e += 1
        return resolve_plain(self.s[k:e].strip(), self.where), e


def load_all(text: str, source: str = "<yaml>") -> list:
    """Every document of `text` (None for an empty one)."""
    return _Reader(text, source).documents()


def load(text: str, source: str = "<yaml>"):
    docs = [d for d in load_all(text, source) if d is not None]
    if len(docs) != 1:
        raise YamlError(f"{source}: expected one document, found {len(docs)}")
    return docs[0]


def _needs_quotes(s: str) -> bool:
    if s == "" or s != s.strip() or "\n" in s:
        return True
    try:
        if not isinstance(resolve_plain(s, ""), str):
            return True
    except YamlError:
        return True
    return bool(re.search(r"^[-?:,\[\]{}#&*!|>'\"%@`]|: | #|:$", s))


def _scalar(v) -> str:
    import json
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v) if _needs_quotes(v) else v


def dump(value, indent: int = 0) -> str:
    """Block-style YAML with sorted keys, as Helm's toYaml (go-yaml v2) lays it out; ends without a newline."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}"
        lines = []
        for k in sorted(value):
            v = value[k]
            key = _scalar(str(k))
            if isinstance(v, dict) and v:
                lines.append(f"{pad}{key}:\n{dump(v, indent + 2)}")
            elif isinstance(v, list) and v:
                lines.append(f"{pad}{key}:\n{dump(v, indent)}")
            else:
                lines.append(f"{pad}{key}: {dump(v, 0)}")
        return "\n".join(lines)
    if isinstance(value, list):
        if not value:
            return pad + "[]"
        lines = []
        for v in value:
            if isinstance(v, (dict, list)) and v:
                inner = dump(v, indent + 2)
                lines.append(f"{pad}- {inner[indent + 2:]}")
            else:
                lines.append(f"{pad}- {dump(v, 0)}")
        return "\n".join(lines)
    return pad + _scalar(value)
