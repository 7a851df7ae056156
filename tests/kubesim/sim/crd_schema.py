"""Validates the schemas of a CustomResourceDefinition at create and update as kube-apiserver v1.32 does
(apiextensions validation.go validateCustomResourceDefinitionValidation): structural rules first, then
every default, then the OpenAPI rules and the CEL rules compiled against the schema.

Paths follow the server's internal form: when every version has the same schema it is validated once as
spec.validation.openAPIV3Schema, else as spec.versions[i].schema.openAPIV3Schema."""
from . import crd_defaults, crd_openapi, crd_structural
from . import field_errors as fe

_ROOT_WITH_STATUS = ["description", "type", "format", "title", "maximum", "exclusiveMaximum", "minimum",
                     "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
                     "uniqueItems", "multipleOf", "required", "items", "properties", "externalDocs", "example",
                     "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations"]
_ROOT_WITH_STATUS_GO = ("[Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength "
                        "MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties "
                        "ExternalDocs Example XPreserveUnknownFields XValidations]")


def _schema_of(version):
    return ((version.get("schema") or {}).get("openAPIV3Schema")) if isinstance(version, dict) else None


def validate(spec, old_spec=None):
    """(per-version causes, top-level causes) for the schemas of spec, a v1 CRD spec: the real server reports
    the first with each version and the second after the names. old_spec (on update) relaxes what the real
    server relaxes for CRDs already stored (defaults that were never pruned)."""
    versions = spec.get("versions") or []
    schemas = [v.get("schema") if isinstance(v, dict) else None for v in versions]
    identical = bool(versions) and all(s is not None and s == schemas[0] for s in schemas) \
        and _schema_of(versions[0]) is not None
    require_pruned = not (old_spec and _has_unpruned_defaults(old_spec))
    errs, top = [], []
    if not identical:
        for i, v in enumerate(versions):
            path = fe.child(fe.index("spec.versions", i), "schema")
            if _schema_of(v) is None:
                errs.append(fe.required(fe.child(path, "openAPIV3Schema"), "schemas are required"))
                continue
            status = bool((v.get("subresources") or {}).get("status") is not None)
            errs += _validation(_schema_of(v), status, path, require_pruned)
    else:
        schema = _schema_of(versions[0])
        status = any((v.get("subresources") or {}).get("status") is not None for v in versions)
        top = _validation(schema, status, "spec.validation", require_pruned)
    return errs, top


def _validation(schema, status_enabled, path, require_pruned):
    errs = []
    root = fe.child(path, "openAPIV3Schema")
    if not isinstance(schema, dict):
        return [fe.invalid(root, "", "must be an object")]
    if status_enabled:
        # only what survives extracting properties[status] may sit at the root
        t = schema.get("type")
        if t and t != "object":
            errs.append(fe.invalid(fe.child(path, "openAPIV3Schema.type"), t, 'only "object" is allowed as the type '
                                   "at the root of the schema if the status subresource is enabled"))
        elif any(k not in _ROOT_WITH_STATUS and schema[k] is not None and schema[k] is not False
                 and schema[k] != "" and schema[k] != [] for k in schema):
            errs.append(fe.invalid(root, fe.raw("apiextensions.JSONSchemaProps{...}"),
                                   f"only {_ROOT_WITH_STATUS_GO} fields are allowed at the root of the schema if "
                                   "the status subresource is enabled"))
    if schema.get("nullable"):
        errs.append(fe.forbidden(fe.child(path, "openAPIV3Schema.nullable"), "nullable cannot be true at the root"))
    ctx = None
    if crd_structural.convertible(schema):
        structural = crd_structural.validate(root, schema)
        if structural:
            errs += structural
        else:
            defaults = crd_defaults.validate(root, schema, require_pruned)
            if defaults:
                errs += defaults
            else:
                ctx = crd_openapi.root_context(schema)
    errs += crd_openapi.validate(schema, root, True, ctx)
    return errs


def _has_unpruned_defaults(spec):
    for v in spec.get("versions") or []:
        s = _schema_of(v)
        if isinstance(s, dict) and any(e["message"].endswith("must not have unknown fields")
                                       for e in crd_defaults.validate("", s, True)):
            return True
    return False
