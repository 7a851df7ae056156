"""apimachinery field errors as Status causes, with Go's value formatting (%v, %q, %#v) so kubectl prints
what a real API server sends: `spec.x.default: Invalid value: "object": no such key: source ...`."""
import json

from .cel_values import go_float_g

OMIT = object()   # field.omitValue: the body shows no value


# ------------------------------------------------------------------ field paths (field.Path.String())

def child(path, *names):
    for name in names:
        path = f"{path}.{name}" if path else name
    return path


def key(path, k):
    return f"{path}[{k}]"


def index(path, i):
    return f"{path}[{i}]"


# ------------------------------------------------------------------ Go formatting

def go_quote(s):
    """strconv.Quote."""
    out = ['"']
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\a\b\f\n\r\t\v":
            out.append({"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
                        "\v": "\\v"}[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_sharp_v(v):
    """%#v of a value decoded from JSON (map[string]interface{}, []interface{}, int64, float64, ...)."""
    if isinstance(v, dict):
        inner = ", ".join(f"{go_quote(k)}:{go_sharp_v(v[k])}" for k in sorted(v))
        return "map[string]interface {}{" + inner + "}"
    if isinstance(v, list):
        return "[]interface {}{" + ", ".join(go_sharp_v(x) for x in v) + "}"
    if v is None:
        return "interface {}(nil)"
    return _scalar(v)


def _scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return go_float_g(v)
    if isinstance(v, str):
        return go_quote(v)
    return str(v)


def go_value(v):
    """How field.Error.ErrorBody shows a bad value: null as "null", scalars with %v, strings with %q,
    anything else with %#v."""
    if v is None:
        return '"null"'
    if isinstance(v, (dict, list)):
        return go_sharp_v(v)
    return _scalar(v)


def validation_rule(rule):
    """%#v of an apiextensions.ValidationRule, as a rule compile error shows it."""
    def ptr(present, typ, addr):
        return f"({typ})({addr})" if present else f"({typ})(nil)"
    return ("apiextensions.ValidationRule{"
            f"Rule:{go_quote(rule.get('rule') or '')}, Message:{go_quote(rule.get('message') or '')}, "
            f"MessageExpression:{go_quote(rule.get('messageExpression') or '')}, "
            f"Reason:{ptr(rule.get('reason') is not None, '*apiextensions.FieldValueErrorReason', '0xc000a1b2c0')}, "
            f"FieldPath:{go_quote(rule.get('fieldPath') or '')}, "
            f"OptionalOldSelf:{ptr(rule.get('optionalOldSelf') is not None, '*bool', '0xc000a1b2c8')}"
            "}")


# ------------------------------------------------------------------ field.Error constructors

def _cause(reason, path, body):
    return {"reason": reason, "message": body, "field": path}


def _body(label, value, detail):
    s = label if value is OMIT else f"{label}: {value if isinstance(value, _Raw) else go_value(value)}"
    return f"{s}: {detail}" if detail else s


class _Raw(str):
    """A bad value already formatted (a ValidationRule struct)."""


def raw(text):
    return _Raw(text)


def invalid(path, value, detail):
    return _cause("FieldValueInvalid", path, _body("Invalid value", value, detail))


def type_invalid(path, value, detail):
    return _cause("FieldValueTypeInvalid", path, _body("Invalid value", value, detail))


def required(path, detail=""):
    return _cause("FieldValueRequired", path, _body("Required value", OMIT, detail))


def forbidden(path, detail):
    return _cause("FieldValueForbidden", path, _body("Forbidden", OMIT, detail))


def duplicate(path, value):
    return _cause("FieldValueDuplicate", path, _body("Duplicate value", value, ""))


def not_supported(path, value, valid):
    detail = "supported values: " + ", ".join(go_quote(v if isinstance(v, str) else json.dumps(v))
                                              for v in valid) if valid else ""
    return _cause("FieldValueNotSupported", path, _body("Unsupported value", value, detail))


def too_long(path, max_length):
    # v1.32's field.TooLong (kubernetes#128553 folded TooLongMaxLength into it): "may not be more than N bytes".
    unit = "byte" if max_length == 1 else "bytes"
    detail = f"may not be more than {max_length} {unit}" if max_length >= 0 else "value is too long"
    return _cause("FieldValueTooLong", path, _body("Too long", OMIT, detail))


def too_many(path, actual, max_items):
    detail = f"must have at most {max_items} items" if max_items >= 0 else "has too many items"
    return _cause("FieldValueTooMany", path, _body("Too many", actual if actual >= 0 else OMIT, detail))


def internal(path, detail):
    return _cause("InternalError", path, _body("Internal error", OMIT, detail))


def text(cause):
    """The line kubectl prints for a cause: `field: message`."""
    return f"{cause['field']}: {cause['message']}"
