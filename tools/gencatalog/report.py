"""What tools/gen_catalog.py reports: where consecutive releases differ (control-plane flag sets, MeshConfig
defaults), the catalog's JSON layout, and how a committed catalog drifted from what would be written."""
import difflib
import json


def flag_names(args) -> list:
    return [a.split("=", 1)[0] for a in args if isinstance(a, str) and a.startswith("--")]


def flag_sets(rel) -> dict:
    return {f"{d['deployment']}/{c['name']}": (set(flag_names(c["args"])), set(c["optionalFlags"]))
            for d in rel["controlPlane"] for c in d["containers"]}


def _short(v, n=60) -> str:
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= n else s[:n - 3] + "..."


def _named(v):
    """A list of objects as {name: object} when each names itself (sidecarName, plugin, name), else None."""
    for key in ("sidecarName", "plugin", "name"):
        if isinstance(v, list) and v and all(isinstance(x, dict) and key in x for x in v):
            return {f"{key}={x[key]}": x for x in v}
    return None


def changes(a, b, path="") -> list:
    """What differs from a to b: "+ path = value", "- path", "~ path: old -> new"."""
    if _named(a) and _named(b):
        a, b = _named(a), _named(b)
    if not (isinstance(a, dict) and isinstance(b, dict)):
        return [] if a == b else [f"~ {path}: {_short(a, 40)} -> {_short(b, 40)}"]
    out = []
    for k in sorted(set(a) | set(b)):
        p = f"{path}.{k}" if path else k
        if k not in a:
            out.append(f"+ {p} = {_short(b[k])}")
        elif k not in b:
            out.append(f"- {p}")
        else:
            out += changes(a[k], b[k], p)
    return out


def pairs(releases):
    """Consecutive releases, and each -ubi8 variant against its own release."""
    base = [r for r in releases if not r["variant"]]
    by_version = {r["version"]: r for r in base}
    return list(zip(base, base[1:])) + [(by_version[r["version"].rsplit("-", 1)[0]], r)
                                        for r in releases if r["variant"]]


def summary(releases, pruned) -> list:
    lines = ["control-plane flag sets (default flags; optional ones in brackets):"]
    for a, b in pairs(releases):
        fa, fb = flag_sets(a), flag_sets(b)
        diffs = []
        for key in sorted(set(fa) | set(fb)):
            (da, oa), (db, ob) = fa.get(key, (set(), set())), fb.get(key, (set(), set()))
            ch = [f"+{f}" for f in sorted(db - da)] + [f"-{f}" for f in sorted(da - db)] + \
                 [f"[+{f}]" for f in sorted(ob - oa)] + [f"[-{f}]" for f in sorted(oa - ob)]
            if ch:
                diffs.append(f"    {key}: {' '.join(ch)}")
        lines.append(f"  {a['version']} -> {b['version']}: " + ("differ" if diffs else "same"))
        lines += diffs
    lines.append("MeshConfig defaults (spec paths):")
    for a, b in pairs(releases):
        ch = ["    " + c for c in changes(a["meshConfigDefaults"], b["meshConfigDefaults"])]
        lines.append(f"  {a['version']} -> {b['version']}: " + ("differ" if ch else "same"))
        lines += ch
    for v, paths in pruned.items():
        lines.append(f"note: {v}'s preset MeshConfig sets fields its CRD prunes: {', '.join(paths)}")
    for r in releases:
        if r["imageTag"] != r["chart"]["version"].split("-")[0]:
            lines.append(f"note: {r['version']} runs images tagged {r['imageTag']}")
    return lines


# --- output --------------------------------------------------------------------------------------------------
def dumps(v, indent=0) -> str:
    """JSON, 2-space indent, keys sorted. An object of scalars that fits stays on one line; a list of scalars
    fills lines of up to 110 characters."""
    flat = json.dumps(v, sort_keys=True)
    if not isinstance(v, (dict, list)) or not v or len(flat) + indent <= 110 and all(
            not isinstance(x, (dict, list)) or not x for x in (v.values() if isinstance(v, dict) else v)):
        return flat
    pad = " " * (indent + 2)
    if isinstance(v, dict):
        body = ",\n".join(f"{pad}{json.dumps(k)}: {dumps(v[k], indent + 2)}" for k in sorted(v))
        return "{\n" + body + "\n" + " " * indent + "}"
    if all(not isinstance(x, (dict, list)) for x in v):
        lines, cur = [], ""
        for x in v:
            item = json.dumps(x)
            if cur and len(pad) + len(cur) + len(item) + 2 > 110:
                lines.append(cur + ",")
                cur = ""
            cur += (", " if cur else "") + item
        return "[\n" + "\n".join(pad + ln for ln in lines + [cur]) + "\n" + " " * indent + "]"
    return "[\n" + ",\n".join(pad + dumps(x, indent + 2) for x in v) + "\n" + " " * indent + "]"


def drift(old: str, new: str) -> list:
    """Which releases and fields differ, then the start of the text diff."""
    out = []
    try:
        a = {r["version"]: r for r in json.loads(old)["releases"]}
    except (ValueError, KeyError, TypeError):
        a = {}
    b = {r["version"]: r for r in json.loads(new)["releases"]}
    for v in sorted(set(a) | set(b)):
        if v not in a or v not in b:
            out.append(f"  {v}: {'missing from' if v not in a else 'not in'} the committed catalog")
        else:
            keys = sorted(k for k in set(a[v]) | set(b[v]) if a[v].get(k) != b[v].get(k))
            if keys:
                out.append(f"  {v}: {', '.join(keys)} differ")
    diff = list(difflib.unified_diff(old.splitlines(), new.splitlines(), "committed", "generated", lineterm="", n=1))
    return out + diff[:40] + ([f"... {len(diff) - 40} more diff lines"] if len(diff) > 40 else [])
