"""CEL runtime values beyond JSON's (uint, duration, timestamp, type), equality and ordering as cel-go has them."""
import datetime
import math
import re

INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1
UINT_MAX = (1 << 64) - 1


class CelError(Exception):
    """An evaluation error; its text is cel-go's (no such key: x, no such overload, division by zero)."""


class CelUnsupported(CelError):
    """Something real CEL has that this evaluator does not model: never a reason to refuse an object."""


class Uint(int):
    pass


class Duration:
    __slots__ = ("ns",)

    def __init__(self, ns):
        self.ns = int(ns)

    def __eq__(self, o):
        return isinstance(o, Duration) and o.ns == self.ns

    def __hash__(self):
        return hash(("d", self.ns))

    def __str__(self):
        return go_float_f(self.ns / 1e9) + "s"


class Timestamp:
    __slots__ = ("ns",)

    def __init__(self, ns):
        self.ns = int(ns)

    def __eq__(self, o):
        return isinstance(o, Timestamp) and o.ns == self.ns

    def __hash__(self):
        return hash(("t", self.ns))

    def dt(self):
        return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + \
            datetime.timedelta(microseconds=self.ns // 1000)

    def __str__(self):
        frac = self.ns % 1_000_000_000
        s = self.dt().strftime("%Y-%m-%dT%H:%M:%S")
        if frac:
            s += ("." + f"{frac:09d}").rstrip("0")
        return s + "Z"


class CelType:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __eq__(self, o):
        return isinstance(o, CelType) and o.name == self.name

    def __hash__(self):
        return hash(("type", self.name))


def type_name(v):
    if v is None:
        return "null_type"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, Uint):
        return "uint"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bytes):
        return "bytes"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    if isinstance(v, Duration):
        return "google.protobuf.Duration"
    if isinstance(v, Timestamp):
        return "google.protobuf.Timestamp"
    if isinstance(v, CelType):
        return "type"
    return "dyn"


def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def equal(a, b):
    """CEL heterogeneous equality: numbers by value across int, uint and double; else same type and value."""
    if is_num(a) and is_num(b):
        return a == b
    ta, tb = type_name(a), type_name(b)
    if ta != tb:
        return False
    if ta == "list":
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if ta == "map":
        if len(a) != len(b):
            return False
        for k, v in a.items():
            if k not in b or not equal(v, b[k]):
                return False
        return True
    if ta == "double":
        return a == b          # NaN != NaN
    return a == b


def compare(a, b):
    """-1, 0 or 1; cross-type numeric comparisons allowed (Kubernetes enables them); else no such overload."""
    if is_num(a) and is_num(b):
        if isinstance(a, float) and math.isnan(a) or isinstance(b, float) and math.isnan(b):
            return None
        return (a > b) - (a < b)
    ta, tb = type_name(a), type_name(b)
    if ta != tb or ta not in ("string", "bytes", "bool", "google.protobuf.Duration", "google.protobuf.Timestamp"):
        raise CelError("no such overload")
    if ta in ("google.protobuf.Duration", "google.protobuf.Timestamp"):
        a, b = a.ns, b.ns
    return (a > b) - (a < b)


def check_int(v):
    if not INT_MIN <= v <= INT_MAX:
        raise CelError("integer overflow")
    return v


def check_uint(v):
    if not 0 <= v <= UINT_MAX:
        raise CelError("unsigned integer overflow")
    return Uint(v)


def go_float_g(v):
    """Go's strconv.FormatFloat(v, 'g', -1, 64), also fmt's %v: the shortest digits, in exponent form when
    the decimal exponent is < -4 or >= 6 (Go's rule for the shortest precision)."""
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if math.isnan(v):
        return "NaN"
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    digits, exp = _shortest(v)
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return ("-" if v < 0 else "") + f"{mant}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return go_float_f(v)


def go_float_f(v):
    """Go's strconv.FormatFloat(v, 'f', -1, 64)."""
    if v == int(v) and abs(v) < 1e21:
        return str(int(v)) if not (v == 0 and math.copysign(1, v) < 0) else "-0"
    digits, exp = _shortest(v)
    sign = "-" if v < 0 else ""
    if exp >= 0:
        whole = digits[:exp + 1].ljust(exp + 1, "0")
        frac = digits[exp + 1:]
        return sign + whole + ("." + frac if frac else "")
    return sign + "0." + "0" * (-exp - 1) + digits


def _shortest(v):
    s = repr(abs(v))
    m = re.fullmatch(r"(\d+)(?:\.(\d*))?(?:e([+-]\d+))?", s)
    ip, fp, e = m.group(1), m.group(2) or "", int(m.group(3) or 0)
    digits = (ip + fp).lstrip("0")
    lead = len(ip + fp) - len((ip + fp).lstrip("0"))
    exp = len(ip) - 1 + e - lead
    return digits.rstrip("0") or "0", exp


_DUR_UNITS = {"ns": 1, "us": 1000, "µs": 1000, "μs": 1000, "ms": 1_000_000, "s": 1_000_000_000,
              "m": 60_000_000_000, "h": 3_600_000_000_000}


def parse_duration(s):
    """Go's time.ParseDuration."""
    m = re.fullmatch(r"([-+]?)((?:\d*\.?\d*(?:ns|us|µs|μs|ms|s|m|h))+|0)", s)
    if not m or s in ("", "+", "-"):
        raise CelError(f'time: invalid duration "{s}"')
    total = 0.0
    for num, unit in re.findall(r"(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)", m.group(2)):
        if num in ("", "."):
            raise CelError(f'time: invalid duration "{s}"')
        total += float(num) * _DUR_UNITS[unit]
    return Duration(-total if m.group(1) == "-" else total)


def parse_timestamp(s):
    """RFC 3339, as CEL's timestamp() takes it."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", s)
    if not m:
        raise CelError(f'parsing time "{s}" as "2006-01-02T15:04:05Z07:00": cannot parse')
    try:
        base = datetime.datetime(*(int(m.group(i)) for i in range(1, 7)), tzinfo=datetime.timezone.utc)
    except ValueError as e:
        raise CelError(f'parsing time "{s}": {e}') from None
    ns = int((base - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)).total_seconds()) * 10**9
    if m.group(7):
        ns += int((m.group(7)[1:] + "000000000")[:9])
    tz = m.group(8)
    if tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        ns -= sign * (int(tz[1:3]) * 3600 + int(tz[4:6]) * 60) * 10**9
    return Timestamp(ns)


def to_cel(value, schema):
    """A JSON value as Kubernetes hands it to CEL for a schema node: null fields are absent, numbers of a
    `number` schema are doubles, duration and date-time strings become durations and timestamps."""
    schema = schema or {}
    if value is None:
        return None
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        addl = schema.get("additionalProperties")
        out = {}
        for k, v in value.items():
            if v is None:
                continue
            sub = props.get(k) if k in props else (addl if isinstance(addl, dict) else None)
            out[k] = to_cel(v, sub)
        return out
    if isinstance(value, list):
        items = schema.get("items") if isinstance(schema.get("items"), dict) else None
        return [to_cel(v, items) for v in value]
    t = schema.get("type")
    if t == "number" and is_num(value):
        return float(value)
    if t == "string" and isinstance(value, str):
        fmt = schema.get("format")
        try:
            if fmt == "duration":
                return parse_duration(value)
            if fmt in ("date-time", "date"):
                return parse_timestamp(value if fmt == "date-time" else value + "T00:00:00Z")
        except CelError:
            return value
    return value
