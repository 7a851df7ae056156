"""CEL functions at run time: the standard library, Kubernetes' string, list and regex extensions."""
import base64
import re
import urllib.parse

from .cel_values import (CelError, CelType, CelUnsupported, Duration, INT_MIN, Timestamp, Uint,
                         check_int, check_uint, compare, equal, go_float_g, is_num, parse_duration,
                         parse_timestamp, type_name)


def _no():
    raise CelError("no such overload")


def _want(v, *types):
    if not any(isinstance(v, t) and not (t is int and isinstance(v, bool)) for t in types):
        _no()
    return v


def _str(v):
    if isinstance(v, str):
        return v
    _no()


def _int(v):
    if isinstance(v, int) and not isinstance(v, (bool, Uint)):
        return v
    _no()


def _size(v):
    if isinstance(v, (str, bytes, list, dict)):
        return len(v)
    _no()


def _to_int(v):
    if isinstance(v, bool):
        _no()
    if isinstance(v, int):
        return check_int(int(v))
    if isinstance(v, float):
        if v != v or not INT_MIN <= v < 2.0 ** 63:
            raise CelError("range error converting %s to int" % go_float_g(v))
        return int(v)
    if isinstance(v, str):
        try:
            return check_int(int(v, 10))
        except ValueError:
            raise CelError(f'strconv.ParseInt: parsing "{v}": invalid syntax') from None
    if isinstance(v, Timestamp):
        return v.ns // 10**9
    _no()


def _to_uint(v):
    if isinstance(v, bool):
        _no()
    if isinstance(v, (int, float)):
        if isinstance(v, float) and (v != v or v < 0 or v >= 2.0 ** 64):
            raise CelError("range error converting %s to uint" % go_float_g(v))
        return check_uint(int(v))
    if isinstance(v, str):
        try:
            return check_uint(int(v, 10))
        except ValueError:
            raise CelError(f'strconv.ParseUint: parsing "{v}": invalid syntax') from None
    _no()


def _to_double(v):
    if is_num(v):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            raise CelError(f'strconv.ParseFloat: parsing "{v}": invalid syntax') from None
    _no()


def _to_string(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, str)):
        return str(v)
    if isinstance(v, float):
        return go_float_g(v)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if isinstance(v, (Duration, Timestamp)):
        return str(v)
    _no()


def _to_bool(v):
    if isinstance(v, bool):
        return v
    if isinstance(v, str):
        if v in ("true", "True", "TRUE", "t", "1"):
            return True
        if v in ("false", "False", "FALSE", "f", "0"):
            return False
        raise CelError(f"type conversion error from 'string' to 'bool'")
    _no()


def _to_bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode()
    _no()


def _to_duration(v):
    if isinstance(v, Duration):
        return v
    return parse_duration(_str(v))


def _to_timestamp(v):
    if isinstance(v, Timestamp):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return Timestamp(v * 10**9)
    return parse_timestamp(_str(v))


def _matches(s, pattern):
    try:
        return re.search(_str(pattern), _str(s)) is not None
    except re.error as e:
        raise CelError(f"error parsing regexp: {e}") from None


def _index_of(target, args, last=False):
    if isinstance(target, list):
        idx = [i for i, x in enumerate(target) if equal(x, args[0])]
        if len(args) > 1:
            _no()
        return (idx[-1] if last else idx[0]) if idx else -1
    s, sub = _str(target), _str(args[0])
    if len(args) == 1:
        return s.rfind(sub) if last else s.find(sub)
    start = _int(args[1])
    if start < 0 or start > len(s):
        raise CelError(f"index out of range: {start}")
    return s.rfind(sub, 0, start + len(sub)) if last else s.find(sub, start)


def _substring(s, args):
    s = _str(s)
    start = _int(args[0])
    end = _int(args[1]) if len(args) > 1 else len(s)
    if start < 0 or start > len(s):
        raise CelError(f"index out of range: {start}")
    if end < start or end > len(s):
        raise CelError(f"index out of range: {end}")
    return s[start:end]


def _replace(s, args):
    n = _int(args[2]) if len(args) > 2 else -1
    return _str(s).replace(_str(args[0]), _str(args[1]), n)


def _split(s, args):
    n = _int(args[1]) if len(args) > 1 else -1
    sep = _str(args[0])
    if n == 0:
        return []
    if sep == "":
        parts = list(_str(s))
        return parts if n < 0 or n >= len(parts) else parts[:n - 1] + ["".join(parts[n - 1:])]
    return _str(s).split(sep, n - 1 if n > 0 else -1)


def _join(lst, args):
    lst = _want(lst, list)
    return (_str(args[0]) if args else "").join(_str(x) for x in lst)


def _char_at(s, args):
    s, i = _str(s), _int(args[0])
    if i < 0 or i > len(s):
        raise CelError(f"index out of range: {i}")
    return s[i:i + 1]


def _sorted(lst):
    lst = _want(lst, list)
    return all(compare(a, b) <= 0 for a, b in zip(lst, lst[1:]))


def _sum(lst):
    lst = _want(lst, list)
    if not lst:
        return 0
    total = lst[0]
    for x in lst[1:]:
        total = add(total, x)
    return total


def _extreme(lst, sign):
    lst = _want(lst, list)
    if not lst:
        raise CelError(f"{'max' if sign > 0 else 'min'} called on empty list")
    best = lst[0]
    for x in lst[1:]:
        if compare(x, best) == sign:
            best = x
    return best


def _is_url(s):
    try:
        u = urllib.parse.urlsplit(_str(s))
    except ValueError:
        return False
    return bool(u.scheme) and (bool(u.netloc) or s.startswith(u.scheme + ":/"))


def add(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        _no()
    if isinstance(a, Uint) and isinstance(b, Uint):
        return check_uint(a + b)
    if type(a) is int and type(b) is int:
        return check_int(a + b)
    if isinstance(a, float) and isinstance(b, float):
        return a + b
    if isinstance(a, str) and isinstance(b, str) or isinstance(a, bytes) and isinstance(b, bytes):
        return a + b
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    if isinstance(a, Duration) and isinstance(b, Duration):
        return Duration(check_int(a.ns + b.ns))
    if isinstance(a, Timestamp) and isinstance(b, Duration):
        return Timestamp(a.ns + b.ns)
    if isinstance(a, Duration) and isinstance(b, Timestamp):
        return Timestamp(a.ns + b.ns)
    _no()


def arith(op, a, b):
    if op == "+":
        return add(a, b)
    if isinstance(a, bool) or isinstance(b, bool):
        _no()
    if op == "-":
        if isinstance(a, Timestamp) and isinstance(b, Timestamp):
            return Duration(a.ns - b.ns)
        if isinstance(a, Timestamp) and isinstance(b, Duration):
            return Timestamp(a.ns - b.ns)
        if isinstance(a, Duration) and isinstance(b, Duration):
            return Duration(check_int(a.ns - b.ns))
    same_uint = isinstance(a, Uint) and isinstance(b, Uint)
    same_int = type(a) is int and type(b) is int
    same_double = isinstance(a, float) and isinstance(b, float)
    if not (same_uint or same_int or same_double):
        _no()
    if op == "-":
        return a - b if same_double else (check_uint if same_uint else check_int)(a - b)
    if op == "*":
        return a * b if same_double else (check_uint if same_uint else check_int)(a * b)
    if op == "/":
        if same_double:
            return a / b if b else (float("nan") if a == 0 or a != a else float("inf") * (1 if a > 0 else -1))
        if b == 0:
            raise CelError("division by zero")
        q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)    # Go truncates towards zero
        return (check_uint if same_uint else check_int)(q)
    if op == "%":
        if same_double:
            _no()
        if b == 0:
            raise CelError("modulus by zero")
        r = abs(a) % abs(b) * (1 if a >= 0 else -1)
        return Uint(r) if same_uint else r
    _no()


def _getter(fn):
    def get(t, args):
        if isinstance(t, Duration):
            unit = {"getHours": 3600 * 10**9, "getMinutes": 60 * 10**9, "getSeconds": 10**9,
                    "getMilliseconds": 10**6}.get(fn)
            if unit is None:
                _no()
            return int(t.ns / unit)          # Go's Duration.Hours() etc., truncated towards zero
        if isinstance(t, Timestamp):
            if args:
                raise CelUnsupported("time zones")
            d = t.dt()
            return {"getFullYear": d.year, "getMonth": d.month - 1, "getDayOfMonth": d.day - 1,
                    "getDate": d.day, "getDayOfWeek": (d.weekday() + 1) % 7,
                    "getDayOfYear": d.timetuple().tm_yday - 1, "getHours": d.hour, "getMinutes": d.minute,
                    "getSeconds": d.second, "getMilliseconds": (t.ns // 10**6) % 1000}[fn]
        _no()
    return get


# name -> f(target or None, [args]); a None target means a global call.
FUNCS = {
    "size": lambda t, a: _size(t if t is not None else a[0]),
    "contains": lambda t, a: _str(a[0]) in _str(t),
    "startsWith": lambda t, a: _str(t).startswith(_str(a[0])),
    "endsWith": lambda t, a: _str(t).endswith(_str(a[0])),
    "matches": lambda t, a: _matches(t, a[0]) if t is not None else _matches(a[0], a[1]),
    "int": lambda t, a: _to_int(a[0]),
    "uint": lambda t, a: _to_uint(a[0]),
    "double": lambda t, a: _to_double(a[0]),
    "string": lambda t, a: _to_string(a[0]),
    "bool": lambda t, a: _to_bool(a[0]),
    "bytes": lambda t, a: _to_bytes(a[0]),
    "duration": lambda t, a: _to_duration(a[0]),
    "timestamp": lambda t, a: _to_timestamp(a[0]),
    "dyn": lambda t, a: a[0],
    "type": lambda t, a: CelType(type_name(a[0])),
    "charAt": _char_at,
    "indexOf": lambda t, a: _index_of(t, a),
    "lastIndexOf": lambda t, a: _index_of(t, a, last=True),
    "lowerAscii": lambda t, a: "".join(c.lower() if c.isascii() else c for c in _str(t)),
    "upperAscii": lambda t, a: "".join(c.upper() if c.isascii() else c for c in _str(t)),
    "replace": _replace,
    "split": _split,
    "substring": _substring,
    "trim": lambda t, a: _str(t).strip(),
    "join": _join,
    "isSorted": lambda t, a: _sorted(t),
    "sum": lambda t, a: _sum(t),
    "min": lambda t, a: _extreme(t, -1),
    "max": lambda t, a: _extreme(t, 1),
    "find": lambda t, a: (lambda m: m.group(0) if m else "")(re.search(_str(a[0]), _str(t))),
    "findAll": lambda t, a: [m.group(0) for m in re.finditer(_str(a[0]), _str(t))][
        :(_int(a[1]) if len(a) > 1 and _int(a[1]) >= 0 else None)],
    "isURL": lambda t, a: _is_url(a[0]),
    "base64.encode": lambda t, a: base64.b64encode(_want(a[0], bytes)).decode(),
    "base64.decode": lambda t, a: base64.b64decode(_str(a[0])),
}
for _g in ("getHours", "getMinutes", "getSeconds", "getMilliseconds", "getFullYear", "getMonth",
           "getDayOfMonth", "getDate", "getDayOfWeek", "getDayOfYear"):
    FUNCS[_g] = _getter(_g)


def call(name, target, args):
    fn = FUNCS.get(name)
    if fn is None:
        raise CelUnsupported(name)
    try:
        return fn(target, args)
    except (IndexError, TypeError):
        _no()
