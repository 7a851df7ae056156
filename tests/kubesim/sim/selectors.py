"""Label and field selectors: parsing the query-string forms and the LabelSelector object form."""
import re

from .errors import ApiException

_TOKEN = re.compile(r"\s*(?:(?P<notexists>!\s*[\w./-]+)|(?P<key>[\w./-]+)\s*(?P<op>==|!=|=|\s+in\s+|\s+notin\s+)?)")


def _bad(sel, why):
    return ApiException(400, "BadRequest", f"unable to parse requirement: {why}: {sel!r}")


def parse_label_selector(sel):
    """Returns a matcher fn(labels: dict) -> bool. sel: None, a string, a LabelSelector dict, or plain labels."""
    if sel is None or sel == "" or sel == {}:
        return lambda labels: True
    reqs = []
    if isinstance(sel, dict):
        if "matchLabels" in sel or "matchExpressions" in sel:
            for k, v in (sel.get("matchLabels") or {}).items():
                reqs.append((k, "in", {v}))
            for e in sel.get("matchExpressions") or []:
                op = e.get("operator", "")
                mapping = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
                if op not in mapping:
                    raise _bad(sel, f"operator {op!r}")
                reqs.append((e.get("key"), mapping[op], set(e.get("values") or [])))
        else:
            for k, v in sel.items():
                reqs.append((k, "in", {v}))
    else:
        for part in _split_top(sel):
            part = part.strip()
            if not part:
                continue
            if part.startswith("!"):
                reqs.append((part[1:].strip(), "!", None))
                continue
            m = re.match(r"^([\w./-]+)\s+(in|notin)\s+\((.*)\)$", part)
            if m:
                vals = {v.strip() for v in m.group(3).split(",") if v.strip() or True}
                reqs.append((m.group(1), m.group(2), vals))
                continue
            m = re.match(r"^([\w./-]+)\s*(==|!=|=)\s*([\w./-]*)$", part)
            if m:
                op = "notin" if m.group(2) == "!=" else "in"
                reqs.append((m.group(1), op, {m.group(3)}))
                continue
            if re.match(r"^[\w./-]+$", part):
                reqs.append((part, "exists", None))
                continue
            raise _bad(sel, "invalid requirement")

    def match(labels):
        labels = labels or {}
        for key, op, vals in reqs:
            if op == "in":
                if key not in labels or labels[key] not in vals:
                    return False
            elif op == "notin":
                if key in labels and labels[key] in vals:
                    return False
            elif op == "exists":
                if key not in labels:
                    return False
            elif op == "!":
                if key in labels:
                    return False
        return True
    return match


def _split_top(sel):
    """Splits on commas that are not inside parentheses."""
    out, depth, cur = [], 0, ""
    for ch in sel:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _field_value(obj, path):
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
        if cur is None:
            return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def parse_field_selector(sel):
    """Returns fn(obj) -> bool for `path=value,path!=value` over any dotted field path."""
    if not sel:
        return lambda obj: True
    reqs = []
    for part in sel.split(","):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^([\w.-]+)\s*(==|!=|=)\s*(.*)$", part)
        if not m:
            raise ApiException(400, "BadRequest", f"invalid field selector: {sel!r}")
        reqs.append((m.group(1), m.group(2) != "!=", m.group(3)))

    def match(obj):
        for path, eq, val in reqs:
            if (_field_value(obj, path) == val) != eq:
                return False
        return True
    return match
