"""CEL types for the checker: what a schema node looks like to a rule (Kubernetes' SchemaDeclType) and the
declared functions with their overloads (cel-go's standard library plus Kubernetes' libraries)."""
import re
import time

from .cel_parse import escape_name


class T:
    """A CEL type. kind: a primitive name, list, map, type, object, param (a type parameter), dyn, error."""
    __slots__ = ("kind", "params", "name", "fields")

    def __init__(self, kind, *params, name=None, fields=None):
        self.kind = kind
        self.params = params
        self.name = name
        self.fields = fields

    def __str__(self):     # cel-go's FormatCELType
        if self.kind in ("list", "map", "type"):
            return f"{self.kind}({', '.join(str(p) for p in self.params)})"
        if self.kind == "object":
            return self.name
        if self.kind == "param" or self.kind.startswith("opaque:"):
            return self.name
        if self.kind == "error":
            return "*error*"
        return self.kind

    def __repr__(self):
        return f"T({self})"


DYN, ERROR = T("dyn"), T("error")
INT, UINT, DOUBLE, STRING, BOOL, BYTES, NULL = (T(n) for n in ("int", "uint", "double", "string", "bool",
                                                               "bytes", "null_type"))
DURATION, TIMESTAMP = T("google.protobuf.Duration"), T("google.protobuf.Timestamp")


def same(a, b):
    if a.kind != b.kind or len(a.params) != len(b.params):
        return False
    if a.kind == "object":
        return a.name == b.name
    if a.kind == "param":
        return a.name == b.name
    return all(same(x, y) for x, y in zip(a.params, b.params))


# ------------------------------------------------------------------ schema -> type

def unique_self_type_name():
    # Kubernetes names the rule's self type selfType<nanoseconds> on every CRD write so that no rule can
    # depend on the name (compilation.go generateUniqueSelfTypeName).
    return f"selfType{time.time_ns() % 1_000_000_000}"


def decl_type(schema, is_root=False, name="object"):
    """The type a rule sees for a schema node, or None when the node is hidden from CEL (untyped,
    preserve-unknown without type, a list or map of hidden values). Follows model.SchemaDeclType."""
    if schema is None:
        return None
    if schema.get("x-kubernetes-int-or-string"):
        return DYN
    t = schema.get("type")
    if is_root:
        schema = with_type_and_object_meta(schema)
    if t == "array":
        items = schema.get("items")
        if not isinstance(items, dict):
            return None
        it = decl_type(items, bool(items.get("x-kubernetes-embedded-resource")), name + ".@idx")
        return T("list", it) if it else None
    if t == "object":
        addl = schema.get("additionalProperties")
        if isinstance(addl, dict):
            vt = decl_type(addl, bool(addl.get("x-kubernetes-embedded-resource")), name + ".@elem")
            return T("map", STRING, vt) if vt else None
        fields = {}
        for prop, ps in (schema.get("properties") or {}).items():
            ft = decl_type(ps, bool(ps.get("x-kubernetes-embedded-resource")), f"{name}.{prop}")
            esc = escape_name(prop)
            if ft is not None and esc is not None:
                fields[esc] = ft
        return T("object", name=name, fields=fields)
    if t == "string":
        return {"byte": BYTES, "duration": DURATION, "date": TIMESTAMP, "date-time": TIMESTAMP}.get(
            schema.get("format"), STRING)
    return {"boolean": BOOL, "number": DOUBLE, "integer": INT}.get(t)


def with_type_and_object_meta(schema):
    """apiVersion, kind, metadata.name and metadata.generateName are always visible at a resource root."""
    props = dict(schema.get("properties") or {})
    props["kind"] = {"type": "string"}
    props["apiVersion"] = {"type": "string"}
    props["metadata"] = {"type": "object", "properties": {"name": {"type": "string"},
                                                          "generateName": {"type": "string"}}}
    return dict(schema, properties=props)


# ------------------------------------------------------------------ declared functions

_PRIMS = {"int": INT, "uint": UINT, "double": DOUBLE, "string": STRING, "bool": BOOL, "bytes": BYTES,
          "null": NULL, "dyn": DYN, "duration": DURATION, "timestamp": TIMESTAMP}


def _ptype(s):
    s = s.strip()
    m = re.fullmatch(r"(\w+)\((.*)\)", s)
    if m:
        inner = _split(m.group(2))
        return T(m.group(1), *(_ptype(x) for x in inner))
    if s in _PRIMS:
        return _PRIMS[s]
    if re.fullmatch(r"[A-Z]", s):
        return T("param", name=s)
    return T("opaque:" + s, name=s)


def _split(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    if cur.strip():
        out.append(cur)
    return out


def _sig(text):
    """'string.(int)->string' (receiver style) or '(string, string)->bool' (global)."""
    m = re.fullmatch(r"(?:(.+?)\.)?\((.*)\)->(.+)", text.replace(" ", ""))
    recv, args, res = m.groups()
    params = [_ptype(a) for a in _split(args)]
    if recv:
        params.insert(0, _ptype(recv))
    return (recv is not None, params, _ptype(res))


_CMP_TYPES = ["bool", "int", "uint", "double", "string", "bytes", "timestamp", "duration"]
_NUM_CROSS = [("int", "uint"), ("int", "double"), ("uint", "int"), ("uint", "double"), ("double", "int"),
              ("double", "uint")]
_TIME_GETTERS = ["getFullYear", "getMonth", "getDayOfMonth", "getDate", "getDayOfWeek", "getDayOfYear",
                 "getHours", "getMinutes", "getSeconds", "getMilliseconds"]

_DECLS = {
    "_==_": ["(A,A)->bool"], "_!=_": ["(A,A)->bool"],
    "_&&_": ["(bool,bool)->bool"], "_||_": ["(bool,bool)->bool"], "!_": ["(bool)->bool"],
    "-_": ["(int)->int", "(double)->double"],
    "_?_:_": ["(bool,A,A)->A"],
    "_[_]": ["(list(A),int)->A", "(map(A,B),A)->B"],
    "@in": ["(A,list(A))->bool", "(A,map(A,B))->bool"],
    "_+_": ["(int,int)->int", "(uint,uint)->uint", "(double,double)->double", "(string,string)->string",
            "(bytes,bytes)->bytes", "(list(A),list(A))->list(A)", "(timestamp,duration)->timestamp",
            "(duration,timestamp)->timestamp", "(duration,duration)->duration"],
    "_-_": ["(int,int)->int", "(uint,uint)->uint", "(double,double)->double",
            "(timestamp,timestamp)->duration", "(timestamp,duration)->timestamp",
            "(duration,duration)->duration"],
    "_*_": ["(int,int)->int", "(uint,uint)->uint", "(double,double)->double"],
    "_/_": ["(int,int)->int", "(uint,uint)->uint", "(double,double)->double"],
    "_%_": ["(int,int)->int", "(uint,uint)->uint"],
    "size": ["(string)->int", "(bytes)->int", "(list(A))->int", "(map(A,B))->int", "string.()->int",
             "bytes.()->int", "list(A).()->int", "map(A,B).()->int"],
    "contains": ["string.(string)->bool"], "startsWith": ["string.(string)->bool"],
    "endsWith": ["string.(string)->bool"],
    "matches": ["(string,string)->bool", "string.(string)->bool"],
    "int": ["(int)->int", "(uint)->int", "(double)->int", "(string)->int", "(timestamp)->int",
            "(duration)->int"],
    "uint": ["(int)->uint", "(uint)->uint", "(double)->uint", "(string)->uint"],
    "double": ["(int)->double", "(uint)->double", "(double)->double", "(string)->double"],
    "string": ["(int)->string", "(uint)->string", "(double)->string", "(bool)->string", "(string)->string",
               "(bytes)->string", "(timestamp)->string", "(duration)->string"],
    "bool": ["(bool)->bool", "(string)->bool"],
    "bytes": ["(bytes)->bytes", "(string)->bytes"],
    "duration": ["(duration)->duration", "(string)->duration"],
    "timestamp": ["(timestamp)->timestamp", "(string)->timestamp", "(int)->timestamp"],
    "dyn": ["(A)->dyn"],
    "type": ["(A)->type(A)"],
    # Kubernetes' extended string library (cel-go ext.Strings)
    "charAt": ["string.(int)->string"],
    "indexOf": ["string.(string)->int", "string.(string,int)->int", "list(A).(A)->int"],
    "lastIndexOf": ["string.(string)->int", "string.(string,int)->int", "list(A).(A)->int"],
    "lowerAscii": ["string.()->string"], "upperAscii": ["string.()->string"], "trim": ["string.()->string"],
    "replace": ["string.(string,string)->string", "string.(string,string,int)->string"],
    "split": ["string.(string)->list(string)", "string.(string,int)->list(string)"],
    "substring": ["string.(int)->string", "string.(int,int)->string"],
    "join": ["list(string).()->string", "list(string).(string)->string"],
    "format": ["string.(list(dyn))->string"],
    "strings.quote": ["(string)->string"],
    # Kubernetes' lists, regex, URL, quantity, IP and CIDR libraries
    "isSorted": ["list(A).()->bool"], "sum": ["list(A).()->A"],
    "min": ["list(A).()->A"], "max": ["list(A).()->A"],
    "find": ["string.(string)->string"],
    "findAll": ["string.(string)->list(string)", "string.(string,int)->list(string)"],
    "isURL": ["(string)->bool"], "url": ["(string)->net.URL"],
    "getScheme": ["net.URL.()->string"], "getHost": ["net.URL.()->string"],
    "getHostname": ["net.URL.()->string"], "getPort": ["net.URL.()->string"],
    "getEscapedPath": ["net.URL.()->string"], "getQuery": ["net.URL.()->map(string,list(string))"],
    "isQuantity": ["(string)->bool"], "quantity": ["(string)->kubernetes.Quantity"],
    "isInteger": ["kubernetes.Quantity.()->bool"], "asInteger": ["kubernetes.Quantity.()->int"],
    "asApproximateFloat": ["kubernetes.Quantity.()->double"], "sign": ["kubernetes.Quantity.()->int"],
    "add": ["kubernetes.Quantity.(kubernetes.Quantity)->kubernetes.Quantity",
            "kubernetes.Quantity.(int)->kubernetes.Quantity"],
    "sub": ["kubernetes.Quantity.(kubernetes.Quantity)->kubernetes.Quantity",
            "kubernetes.Quantity.(int)->kubernetes.Quantity"],
    "isGreaterThan": ["kubernetes.Quantity.(kubernetes.Quantity)->bool"],
    "isLessThan": ["kubernetes.Quantity.(kubernetes.Quantity)->bool"],
    "compareTo": ["kubernetes.Quantity.(kubernetes.Quantity)->int"],
    "isIP": ["(string)->bool"], "ip": ["(string)->net.IP", "net.CIDR.()->net.IP"],
    "isCIDR": ["(string)->bool"], "cidr": ["(string)->net.CIDR"],
    "family": ["net.IP.()->int"], "isLoopback": ["net.IP.()->bool"], "isUnspecified": ["net.IP.()->bool"],
    "isGlobalUnicast": ["net.IP.()->bool"], "isLinkLocalUnicast": ["net.IP.()->bool"],
    "isLinkLocalMulticast": ["net.IP.()->bool"],
    "containsIP": ["net.CIDR.(net.IP)->bool", "net.CIDR.(string)->bool"],
    "containsCIDR": ["net.CIDR.(net.CIDR)->bool", "net.CIDR.(string)->bool"],
    "prefixLength": ["net.CIDR.()->int"], "masked": ["net.CIDR.()->net.CIDR"],
    "sets.contains": ["(list(A),list(A))->bool"], "sets.equivalent": ["(list(A),list(A))->bool"],
    "sets.intersects": ["(list(A),list(A))->bool"],
    "base64.encode": ["(bytes)->string"], "base64.decode": ["(string)->bytes"],
}
for _op in ("_<_", "_<=_", "_>_", "_>=_"):
    _DECLS[_op] = [f"({t},{t})->bool" for t in _CMP_TYPES] + [f"({a},{b})->bool" for a, b in _NUM_CROSS]
for _g in _TIME_GETTERS:
    _DECLS[_g] = ["timestamp.()->int", "timestamp.(string)->int"]
for _g in ("getHours", "getMinutes", "getSeconds", "getMilliseconds"):
    _DECLS[_g] = _DECLS[_g] + ["duration.()->int"]

FUNCTIONS = {name: [_sig(s) for s in sigs] for name, sigs in _DECLS.items()}
TYPE_IDENTS = {"int": INT, "uint": UINT, "double": DOUBLE, "string": STRING, "bool": BOOL, "bytes": BYTES,
               "null_type": NULL, "list": T("list", DYN), "map": T("map", DYN, DYN), "type": T("type", DYN)}
