"""Discovery documents: /version, /api, /apis, per-group and per-version resource lists, aggregated
discovery (apidiscovery.k8s.io/v2), and a minimal OpenAPI v2/v3."""

VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "70d3cc986aa8221cd1dfb1121852688902d3bf53",
           "gitTreeState": "clean", "buildDate": "2024-12-11T17:59:15Z", "goVersion": "go1.23.3",
           "compiler": "gc", "platform": "linux/amd64"}

import json

from . import builtin_schema

AGG_CT = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

_SUB_VERBS = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"], "log": ["get"],
              "token": ["create"], "eviction": ["create"], "finalize": ["update"]}


def _sub_kind(info, sub):
    if sub == "scale":
        return ("autoscaling", "v1", "Scale")
    if sub == "token":
        return ("authentication.k8s.io", "v1", "TokenRequest")
    if sub == "eviction":
        return ("policy", "v1", "Eviction")
    if sub == "log":
        return ("", "v1", "Pod")
    return (info.group, "", info.kind)


def _groups(store):
    """{group: [versions]} in a stable order, core first, preferred (first) version first."""
    groups = {}
    for info in list(store.resources.values()):
        vs = groups.setdefault(info.group, [])
        for v in info.versions:
            if v not in vs:
                vs.append(v)
    for g, vs in groups.items():
        pref = None
        for info in list(store.resources.values()):
            if info.group == g and info.crd:
                pref = _preferred(info.versions)
        if pref:
            vs.sort(key=lambda v: v != pref)
    return groups


def _preferred(versions):
    def rank(v):
        import re
        m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", v)
        if not m:
            return (0, 0, 0)
        stage = {None: 3, "beta": 2, "alpha": 1}[m.group(2)]
        return (stage, int(m.group(1)), int(m.group(3) or 0))
    return max(versions, key=rank) if versions else None


def api_versions(port):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{port}"}]}


def _group_doc(name, versions):
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def api_group_list(store):
    groups = _groups(store)
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [_group_doc(g, vs) for g, vs in groups.items() if g]}


def api_group(store, group):
    vs = _groups(store).get(group)
    if not vs:
        return None
    d = _group_doc(group, vs)
    d.update({"kind": "APIGroup", "apiVersion": "v1"})
    return d


def resource_list(store, group, version):
    infos = [i for i in list(store.resources.values()) if i.group == group and version in i.versions]
    if not infos:
        return None
    res = []
    for i in sorted(infos, key=lambda i: i.plural):
        r = {"name": i.plural, "singularName": i.singular, "namespaced": i.namespaced, "kind": i.kind,
             "verbs": list(i.verbs)}
        if i.short_names:
            r["shortNames"] = list(i.short_names)
        if i.categories:
            r["categories"] = list(i.categories)
        r["storageVersionHash"] = ""
        res.append(r)
        for sub in sorted(i.subresources):
            g, v, k = _sub_kind(i, sub)
            sr = {"name": f"{i.plural}/{sub}", "singularName": "", "namespaced": i.namespaced, "kind": k,
                  "verbs": _SUB_VERBS.get(sub, ["get"])}
            if g != i.group:
                sr["group"] = g
                sr["version"] = v
            res.append(sr)
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": res}


def aggregated(store, core: bool):
    """apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core) or /apis."""
    items = []
    for g, vs in _groups(store).items():
        if bool(g) == core:
            continue
        versions = []
        for v in vs:
            rl = []
            for i in sorted((i for i in list(store.resources.values()) if i.group == g and v in i.versions),
                            key=lambda i: i.plural):
                r = {"resource": i.plural, "responseKind": {"group": g, "version": v, "kind": i.kind},
                     "scope": "Namespaced" if i.namespaced else "Cluster", "singularResource": i.singular,
                     "verbs": list(i.verbs)}
                if i.short_names:
                    r["shortNames"] = list(i.short_names)
                if i.categories:
                    r["categories"] = list(i.categories)
                subs = []
                for sub in sorted(i.subresources):
                    sg, sv, sk = _sub_kind(i, sub)
                    subs.append({"subresource": sub, "responseKind": {"group": sg, "version": sv or v, "kind": sk},
                                 "verbs": _SUB_VERBS.get(sub, ["get"])})
                if subs:
                    r["subresources"] = subs
                rl.append(r)
            versions.append({"version": v, "resources": rl, "freshness": "Current"})
        items.append({"metadata": {"name": g, "creationTimestamp": None}, "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {},
            "items": items}


def wants_aggregated(accept: str) -> bool:
    return "as=APIGroupDiscoveryList" in (accept or "") and "v=v2" in (accept or "")


# ------------------------------------------------------------------ OpenAPI v3 (what kubectl checks)

def _gv_key(group, version):
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_root(store):
    import hashlib
    paths = {}
    for g, vs in _groups(store).items():
        for v in vs:
            doc = json.dumps(openapi_v3_gv(store, g, v), sort_keys=True).encode()
            h = hashlib.sha256(doc).hexdigest()[:32].upper()
            paths[_gv_key(g, v)] = {"serverRelativeURL": f"/openapi/v3/{_gv_key(g, v)}?hash={h}"}
    return {"paths": paths}


def openapi_v3_gv(store, group, version):
    """Every resource's PATCH operation with its GVK and the fieldValidation parameter (so that kubectl turns on
    server-side field validation; no requestBody, so kubectl's client-side apply keeps computing strategic patches
    from its compiled-in types), and the schemas: built-in kinds' with their types, CRDs'."""
    infos = [i for i in list(store.resources.values()) if i.group == group and version in i.versions]
    if not infos:
        return None
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    params = [{"name": n, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
              for n in ("dryRun", "fieldManager", "fieldValidation", "force")]
    paths, schemas = {}, {}
    for i in infos:
        gvk = {"group": group, "version": version, "kind": i.kind}
        base = f"{prefix}/namespaces/{{namespace}}/{i.plural}" if i.namespaced else f"{prefix}/{i.plural}"
        ref = {"$ref": f"#/components/schemas/{_schema_name(i, version)}"}
        op = {"operationId": f"patch{i.kind}", "x-kubernetes-action": "patch",
              "x-kubernetes-group-version-kind": gvk, "parameters": params,
              "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}}
        paths[f"{base}/{{name}}"] = {"patch": op}
        if i.crd is not None:
            from . import crd
            s = json.loads(json.dumps(crd.version_schema(i, version)))
            s["x-kubernetes-group-version-kind"] = [gvk]
            schemas[_schema_name(i, version)] = s
        elif builtin_schema.kind_schema(group, version, i.kind) is None:
            schemas[_schema_name(i, version)] = {"type": "object", "x-kubernetes-group-version-kind": [gvk],
                                                 "x-kubernetes-preserve-unknown-fields": True}
    schemas.update(builtin_schema.components_for(group, version))
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": "v1.32.0"}, "paths": paths,
            "components": {"schemas": schemas}}


def _schema_name(info, version):
    if info.crd is None and builtin_schema.kind_schema(info.group, version, info.kind) is not None:
        return builtin_schema.KIND_SCHEMAS[(info.group, version, info.kind)]
    g = ".".join(reversed(info.group.split("."))) if info.group else "core"
    return f"io.k8s.api.{g}.{version}.{info.kind}" if info.crd is None else f"{g}.{version}.{info.kind}"
