"""Decoding of the Kubernetes protobuf request bodies kubectl's typed clients send (create sa/ns/cm/secret/
role/rolebinding/token, auth can-i): a wire-format reader plus the field numbers of those few kinds."""
import base64

MAGIC = b"k8s\x00"


class ProtoError(ValueError):
    pass


def _varint(buf, i):
    shift = result = 0
    while True:
        if i >= len(buf):
            raise ProtoError("truncated varint")
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def fields(buf):
    """Yields (field number, wire type, value): varint ints or bytes for length-delimited."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 2:
            n, i = _varint(buf, i)
            v = bytes(buf[i:i + n])
            i += n
        elif wt == 1:
            v = int.from_bytes(buf[i:i + 8], "little")
            i += 8
        elif wt == 5:
            v = int.from_bytes(buf[i:i + 4], "little")
            i += 4
        else:
            raise ProtoError(f"wire type {wt}")
        yield num, wt, v


# Schemas: field number -> (json name, type); types: "s" string, "i" int, "b" bool, "bytes" (base64 in JSON),
# "time", a schema name (message), "[...]" repeated, "map" (string->string), "bmap" (string->bytes).
S = {
    "ObjectMeta": {1: ("name", "s"), 2: ("generateName", "s"), 3: ("namespace", "s"), 5: ("uid", "s"),
                   6: ("resourceVersion", "s"), 7: ("generation", "i"), 11: ("labels", "map"),
                   12: ("annotations", "map"), 13: ("ownerReferences", "[OwnerReference]"),
                   14: ("finalizers", "[s]")},
    "OwnerReference": {1: ("kind", "s"), 3: ("name", "s"), 4: ("uid", "s"), 5: ("apiVersion", "s"),
                       6: ("controller", "b"), 7: ("blockOwnerDeletion", "b")},
    "LocalObjectReference": {1: ("name", "s")},
    "ObjectReference": {1: ("kind", "s"), 2: ("namespace", "s"), 3: ("name", "s"), 4: ("uid", "s"),
                        5: ("apiVersion", "s")},
    "ServiceAccount": {1: ("metadata", "ObjectMeta"), 2: ("secrets", "[ObjectReference]"),
                       3: ("imagePullSecrets", "[LocalObjectReference]"), 4: ("automountServiceAccountToken", "b")},
    "Namespace": {1: ("metadata", "ObjectMeta"), 2: ("spec", "NamespaceSpec")},
    "NamespaceSpec": {1: ("finalizers", "[s]")},
    "ConfigMap": {1: ("metadata", "ObjectMeta"), 2: ("data", "map"), 3: ("binaryData", "bmap"),
                  4: ("immutable", "b")},
    "Secret": {1: ("metadata", "ObjectMeta"), 2: ("data", "bmap"), 3: ("type", "s"), 4: ("stringData", "map"),
               5: ("immutable", "b")},
    "TokenRequest": {1: ("metadata", "ObjectMeta"), 2: ("spec", "TokenRequestSpec")},
    "TokenRequestSpec": {1: ("audiences", "[s]"), 3: ("boundObjectRef", "BoundObjectReference"),
                         4: ("expirationSeconds", "i")},
    "BoundObjectReference": {1: ("kind", "s"), 2: ("apiVersion", "s"), 3: ("name", "s"), 4: ("uid", "s")},
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "SelfSubjectAccessReviewSpec")},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes"),
                                    2: ("nonResourceAttributes", "NonResourceAttributes")},
    "SubjectAccessReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "SubjectAccessReviewSpec")},
    "SubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes"),
                                2: ("nonResourceAttributes", "NonResourceAttributes"), 3: ("user", "s"),
                                4: ("groups", "[s]"), 6: ("uid", "s")},
    "ResourceAttributes": {1: ("namespace", "s"), 2: ("verb", "s"), 3: ("group", "s"), 4: ("version", "s"),
                           5: ("resource", "s"), 6: ("subresource", "s"), 7: ("name", "s")},
    "NonResourceAttributes": {1: ("path", "s"), 2: ("verb", "s")},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta"), 2: ("spec", "SelfSubjectRulesReviewSpec")},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "s")},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta")},
    "PolicyRule": {1: ("verbs", "[s]"), 2: ("apiGroups", "[s]"), 3: ("resources", "[s]"),
                   4: ("resourceNames", "[s]"), 5: ("nonResourceURLs", "[s]")},
    "Role": {1: ("metadata", "ObjectMeta"), 2: ("rules", "[PolicyRule]")},
    "ClusterRole": {1: ("metadata", "ObjectMeta"), 2: ("rules", "[PolicyRule]")},
    "Subject": {1: ("kind", "s"), 2: ("apiGroup", "s"), 3: ("name", "s"), 4: ("namespace", "s")},
    "RoleRef": {1: ("apiGroup", "s"), 2: ("kind", "s"), 3: ("name", "s")},
    "RoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", "[Subject]"), 3: ("roleRef", "RoleRef")},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta"), 2: ("subjects", "[Subject]"), 3: ("roleRef", "RoleRef")},
    "DeleteOptions": {1: ("gracePeriodSeconds", "i"), 2: ("preconditions", "Preconditions"),
                      3: ("orphanDependents", "b"), 4: ("propagationPolicy", "s"), 5: ("dryRun", "[s]")},
    "Preconditions": {1: ("uid", "s"), 2: ("resourceVersion", "s")},
    "Lease": {1: ("metadata", "ObjectMeta"), 2: ("spec", "LeaseSpec")},
    # kubectl create deployment / create service / expose
    "Deployment": {1: ("metadata", "ObjectMeta"), 2: ("spec", "DeploymentSpec")},
    "DeploymentSpec": {1: ("replicas", "i0"), 2: ("selector", "LabelSelector"), 3: ("template", "PodTemplateSpec"),
                       4: ("strategy", "DeploymentStrategy"), 5: ("minReadySeconds", "i"),
                       6: ("revisionHistoryLimit", "i0"), 7: ("paused", "b"), 9: ("progressDeadlineSeconds", "i0")},
    "DeploymentStrategy": {1: ("type", "s"), 2: ("rollingUpdate", "RollingUpdateDeployment")},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "io"), 2: ("maxSurge", "io")},
    "LabelSelector": {1: ("matchLabels", "map"), 2: ("matchExpressions", "[LabelSelectorRequirement]")},
    "LabelSelectorRequirement": {1: ("key", "s"), 2: ("operator", "s"), 3: ("values", "[s]")},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta"), 2: ("spec", "PodSpec")},
    "PodSpec": {2: ("containers", "[Container]"), 3: ("restartPolicy", "s"),
                4: ("terminationGracePeriodSeconds", "i0"), 6: ("dnsPolicy", "s"), 7: ("nodeSelector", "map"),
                8: ("serviceAccountName", "s"), 10: ("nodeName", "s"), 15: ("imagePullSecrets", "[LocalObjectReference]"),
                19: ("schedulerName", "s"), 20: ("initContainers", "[Container]")},
    "Container": {1: ("name", "s"), 2: ("image", "s"), 3: ("command", "[s]"), 4: ("args", "[s]"),
                  5: ("workingDir", "s"), 6: ("ports", "[ContainerPort]"), 7: ("env", "[EnvVar]"),
                  8: ("resources", "ResourceRequirements"), 13: ("terminationMessagePath", "s"),
                  14: ("imagePullPolicy", "s"), 20: ("terminationMessagePolicy", "s")},
    "ContainerPort": {1: ("name", "s"), 2: ("hostPort", "i"), 3: ("containerPort", "i"), 4: ("protocol", "s")},
    "EnvVar": {1: ("name", "s"), 2: ("value", "s")},
    "ResourceRequirements": {1: ("limits", "qmap"), 2: ("requests", "qmap")},
    "Service": {1: ("metadata", "ObjectMeta"), 2: ("spec", "ServiceSpec")},
    "ServiceSpec": {1: ("ports", "[ServicePort]"), 2: ("selector", "map"), 3: ("clusterIP", "s"), 4: ("type", "s"),
                    5: ("externalIPs", "[s]"), 7: ("loadBalancerIP", "s"), 10: ("externalName", "s")},
    "ServicePort": {1: ("name", "s"), 2: ("protocol", "s"), 3: ("port", "i"), 4: ("targetPort", "io"),
                    5: ("nodePort", "i")},
    "LeaseSpec": {1: ("holderIdentity", "s"), 2: ("leaseDurationSeconds", "i"), 5: ("leaseTransitions", "i")},
}


def _msg(buf, schema_name):
    """Decodes one message. Zero values are dropped (the JSON form omits them), except optional ("i0") ints."""
    schema = S[schema_name]
    out = {}
    for num, wt, v in fields(buf):
        if num not in schema:
            continue
        name, typ = schema[num]
        rep = typ.startswith("[")
        base = typ.strip("[]")
        if base == "s":
            val = v.decode() if isinstance(v, bytes) else str(v)
            if val == "" and not rep:
                continue
        elif base in ("i", "i0"):
            val = v - (1 << 64) if v >= 1 << 63 else v
            if val == 0 and base == "i":
                continue
        elif base == "b":
            val = bool(v)
            if not val:
                continue
        elif base == "io":
            f = {n: x for n, _, x in fields(v)}
            val = f.get(3, b"").decode() if f.get(1, 0) == 1 else f.get(2, 0)
        elif base in ("map", "bmap", "qmap"):
            entry = {n: x for n, _, x in fields(v)}
            k = entry.get(1, b"").decode()
            raw = entry.get(2, b"")
            if base == "map":
                val = raw.decode()
            elif base == "bmap":
                val = base64.b64encode(raw).decode()
            else:  # resource.Quantity is a message holding its string form
                val = {n: x for n, _, x in fields(raw)}.get(1, b"").decode()
            out.setdefault(name, {})[k] = val
            continue
        else:
            val = _msg(v, base)
        if rep:
            out.setdefault(name, []).append(val)
        else:
            out[name] = val
    return out


def decode(body: bytes) -> dict:
    """Decodes a `k8s\\0`-prefixed runtime.Unknown envelope into the JSON shape of the object."""
    if not body.startswith(MAGIC):
        raise ProtoError("missing protobuf magic")
    env = {n: v for n, _, v in fields(body[len(MAGIC):])}
    tm = {n: v for n, _, v in fields(env.get(1, b""))}
    api_version = tm.get(1, b"").decode()
    kind = tm.get(2, b"").decode()
    if kind not in S:
        raise ProtoError(f"kubesim cannot decode protobuf {kind}; send JSON")
    obj = _msg(env.get(2, b""), kind)
    if api_version:
        obj["apiVersion"] = api_version
    obj["kind"] = kind
    return obj
