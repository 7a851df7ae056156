"""Whether a schema `pattern` compiles as Go's regexp (RE2) would, with Go's error text where it does not."""
import re

# RE2 refuses Perl's lookarounds, atomic groups and backreferences, which Python accepts.
_PERL_ONLY = re.compile(r"\(\?(?:<?[=!]|>)")
_BACKREF = re.compile(r"(?<!\\)(?:\\\\)*(\\[1-9])")
# Escapes Go knows and Python's re does not: leave those patterns unjudged rather than refuse them.
_GO_ONLY_ESCAPES = ("\\p", "\\P", "\\z", "\\Q", "\\C")


def go_regex_error(pattern):
    """None if the pattern is fine; else `error parsing regexp: ...` as regexp.Compile words it."""
    m = _PERL_ONLY.search(pattern)
    if m:
        return f"error parsing regexp: invalid or unsupported Perl syntax: `{m.group(0)}`"
    m = _BACKREF.search(pattern)
    if m:
        return f"error parsing regexp: invalid escape sequence: `{m.group(1)}`"
    try:
        re.compile(pattern)
        return None
    except re.error as e:
        return _go_message(pattern, e)


def _go_message(pattern, e):
    msg, pos = e.msg, e.pos or 0
    if msg.startswith("bad escape"):
        esc = pattern[pos:pos + 2]
        if esc in _GO_ONLY_ESCAPES:
            return None
        return f"error parsing regexp: invalid escape sequence: `{esc}`"
    if msg == "nothing to repeat":
        op = re.match(r"[*+?]\??|\{\d*,?\d*\}\??", pattern[pos:])
        what = op.group(0) if op else pattern[pos:pos + 1]
        return f"error parsing regexp: missing argument to repetition operator: `{what}`"
    if msg == "multiple repeat":
        return f"error parsing regexp: invalid nested repetition operator: `{pattern[pos - 1:pos + 1]}`"
    if msg.startswith("missing ), unterminated subpattern"):
        return f"error parsing regexp: missing closing ): `{pattern}`"
    if msg.startswith("unbalanced parenthesis"):
        return f"error parsing regexp: unexpected ): `{pattern}`"
    if msg.startswith("unterminated character set"):
        return f"error parsing regexp: missing closing ]: `{pattern[pos:]}`"
    if msg.startswith("bad character range"):
        return f"error parsing regexp: invalid character class range: `{msg.split()[-1]}`"
    return f"error parsing regexp: {msg}"
