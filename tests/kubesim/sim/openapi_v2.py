"""/openapi/v2: a Swagger 2.0 document in gnostic's protobuf form (openapi_v2.Document), the only form kubectl's
discovery client reads (Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf).

kubectl wants it where OpenAPI v3 cannot answer: `apply --validate=strict` of a `v1 List` (the v3 verifier
refuses List outright, cli-runtime query_param_verifier_v3.go) or of a kind no group-version publishes. It then
validates client-side with the v2 models (kubectl/pkg/util/openapi/validation, kube-openapi proto/validation): a
List's items of built-in kinds are checked against the definitions below (`ValidationError(ConfigMap): unknown
field "dat" in io.k8s.api.core.v1.ConfigMap`), items of kinds without a model (custom resources here) are left to
the server, and a kind nobody serves ends in kubectl's own `no matches for kind "X" in version "Y"`. The
definitions are builtin_schema's, without descriptions; no paths (kubectl's client-side apply then computes
strategic patches from its compiled-in types, as it does when the v2 document has no patch operation).
"""
import json

from . import builtin_schema

CONTENT_TYPE = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def _varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field(number, payload):
    """A length-delimited field (strings and messages)."""
    if isinstance(payload, str):
        payload = payload.encode()
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


# Field numbers of gnostic's openapiv2/OpenAPIv2.proto.
_DOC_SWAGGER, _DOC_INFO, _DOC_PATHS, _DOC_DEFINITIONS = 1, 2, 8, 9
_INFO_TITLE, _INFO_VERSION = 1, 2
_SCHEMA_REF, _SCHEMA_FORMAT, _SCHEMA_ADDITIONAL, _SCHEMA_TYPE, _SCHEMA_ITEMS, _SCHEMA_PROPERTIES, _SCHEMA_EXT = (
    1, 2, 21, 22, 23, 25, 31)
_NAMED_NAME, _NAMED_VALUE = 1, 2       # NamedSchema, NamedAny
_ANY_YAML = 2
_REPEATED = 1                          # Definitions, Properties, TypeItem, ItemsItem, AdditionalPropertiesItem


def _schema(s, gvk=None):
    """An OpenAPI v3 schema of builtin_schema as a v2 Schema message."""
    if "$ref" in s:
        return _field(_SCHEMA_REF, "#/definitions/" + s["$ref"].rsplit("/", 1)[1])
    out = b""
    if s.get("x-kubernetes-int-or-string"):       # IntOrString and Quantity publish as strings
        out += _field(_SCHEMA_FORMAT, "int-or-string") + _field(_SCHEMA_TYPE, _field(_REPEATED, "string"))
    elif s.get("type"):
        if s.get("format"):
            out += _field(_SCHEMA_FORMAT, s["format"])
        out += _field(_SCHEMA_TYPE, _field(_REPEATED, s["type"]))
    if isinstance(s.get("items"), dict):
        out += _field(_SCHEMA_ITEMS, _field(_REPEATED, _schema(s["items"])))
    if isinstance(s.get("additionalProperties"), dict):
        out += _field(_SCHEMA_ADDITIONAL, _field(_REPEATED, _schema(s["additionalProperties"])))
    if "properties" in s:
        named = b"".join(_field(_REPEATED, _field(_NAMED_NAME, k) + _field(_NAMED_VALUE, _schema(v)))
                         for k, v in s["properties"].items())
        out += _field(_SCHEMA_PROPERTIES, named)
    if gvk:
        yaml = json.dumps(gvk)                   # JSON is YAML; kube-openapi reads the extension's yaml
        out += _field(_SCHEMA_EXT, _field(_NAMED_NAME, "x-kubernetes-group-version-kind") +
                      _field(_NAMED_VALUE, _field(_ANY_YAML, yaml)))
    return out


_CACHE = {}


def document(version):
    """Document{swagger: "2.0", info, paths: {}, definitions: the built-in types}, encoded once."""
    if version not in _CACHE:
        defs = b"".join(
            _field(_REPEATED, _field(_NAMED_NAME, name) +
                   _field(_NAMED_VALUE, _schema(s, s.get("x-kubernetes-group-version-kind"))))
            for name, s in sorted(builtin_schema.COMPONENTS.items()))
        info = _field(_INFO_TITLE, "Kubernetes") + _field(_INFO_VERSION, version)
        _CACHE[version] = (_field(_DOC_SWAGGER, "2.0") + _field(_DOC_INFO, info) + _field(_DOC_PATHS, b"") +
                           _field(_DOC_DEFINITIONS, defs))
    return _CACHE[version]
