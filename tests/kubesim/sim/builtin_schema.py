"""The schemas of the built-in kinds kubesim serves, as OpenAPI v3 component schemas (what /openapi/v3 publishes
and what field validation walks): field names, nesting, list kinds and keys, from a compact table.

Each type is "field:TYPE field:TYPE ...". TYPE is a scalar (s string, i integer, b boolean, n number, t date-time
string, ios int-or-string, q quantity), `any` (untyped: anything goes, not walked), a named type, `[X]` an atomic
list, `[X]k1,k2` a list map keyed by k1 and k2 (x-kubernetes-list-map-keys), `[X]set` a set of scalars or `{X}` a
map of X; `s=TCP` gives a field its default (a list key's default, as ContainerPort.protocol's). Field names and
list keys follow k8s.io/api v1.32 (core/v1, apps/v1, rbac/v1, coordination/v1, events/v1) and apiextensions/v1;
in-tree volume plugins and a few rarely used leaves are `any`.
"""
import json

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
CORE = "io.k8s.api.core.v1"
APPS = "io.k8s.api.apps.v1"
RBAC = "io.k8s.api.rbac.v1"
COORD = "io.k8s.api.coordination.v1"
EVENTS = "io.k8s.api.events.v1"
APIEXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1"

_PROBE_HANDLER = "exec:ExecAction httpGet:HTTPGetAction tcpSocket:TCPSocketAction grpc:GRPCAction "
_CONTAINER = (
    "name:s image:s command:[s] args:[s] workingDir:s ports:[ContainerPort]containerPort,protocol "
    "envFrom:[EnvFromSource] env:[EnvVar]name resources:ResourceRequirements resizePolicy:[ContainerResizePolicy] "
    "restartPolicy:s volumeMounts:[VolumeMount]mountPath volumeDevices:[VolumeDevice]devicePath "
    "livenessProbe:Probe readinessProbe:Probe startupProbe:Probe lifecycle:Lifecycle terminationMessagePath:s "
    "terminationMessagePolicy:s imagePullPolicy:s securityContext:SecurityContext stdin:b stdinOnce:b tty:b")
_SELECTOR_LIST = "[NodeSelectorRequirement]"

# (package, fields) of every named type.
TYPES = {
    # ---------------------------------------------------------------- meta/v1
    "ObjectMeta": (META, "name:s generateName:s namespace:s selfLink:s uid:s resourceVersion:s generation:i "
                         "creationTimestamp:t deletionTimestamp:t deletionGracePeriodSeconds:i labels:{s} "
                         "annotations:{s} ownerReferences:[OwnerReference]uid finalizers:[s]set "
                         "managedFields:[ManagedFieldsEntry]"),
    "OwnerReference": (META, "apiVersion:s kind:s name:s uid:s controller:b blockOwnerDeletion:b"),
    "ManagedFieldsEntry": (META, "manager:s operation:s apiVersion:s time:t fieldsType:s fieldsV1:any "
                                 "subresource:s"),
    "LabelSelector": (META, "matchLabels:{s} matchExpressions:[LabelSelectorRequirement]"),
    "LabelSelectorRequirement": (META, "key:s operator:s values:[s]"),
    "Condition": (META, "type:s status:s observedGeneration:i lastTransitionTime:t reason:s message:s"),
    # ---------------------------------------------------------------- core/v1: pods
    "PodTemplateSpec": (CORE, "metadata:ObjectMeta spec:PodSpec"),
    "PodSpec": (CORE, "volumes:[Volume]name initContainers:[Container]name containers:[Container]name "
                      "ephemeralContainers:[EphemeralContainer]name restartPolicy:s terminationGracePeriodSeconds:i "
                      "activeDeadlineSeconds:i dnsPolicy:s nodeSelector:{s} serviceAccountName:s serviceAccount:s "
                      "automountServiceAccountToken:b nodeName:s hostNetwork:b hostPID:b hostIPC:b "
                      "shareProcessNamespace:b securityContext:PodSecurityContext "
                      "imagePullSecrets:[LocalObjectReference]name hostname:s subdomain:s affinity:Affinity "
                      "schedulerName:s tolerations:[Toleration] hostAliases:[HostAlias]ip priorityClassName:s "
                      "priority:i dnsConfig:PodDNSConfig readinessGates:[PodReadinessGate] runtimeClassName:s "
                      "enableServiceLinks:b preemptionPolicy:s overhead:{q} "
                      "topologySpreadConstraints:[TopologySpreadConstraint]topologyKey,whenUnsatisfiable os:PodOS "
                      "hostUsers:b schedulingGates:[PodSchedulingGate]name resourceClaims:[PodResourceClaim]name "
                      "resources:ResourceRequirements"),
    "Container": (CORE, _CONTAINER),
    "EphemeralContainer": (CORE, _CONTAINER + " targetContainerName:s"),
    "ContainerPort": (CORE, "name:s hostPort:i containerPort:i protocol:s=TCP hostIP:s"),
    "EnvVar": (CORE, "name:s value:s valueFrom:EnvVarSource"),
    "EnvVarSource": (CORE, "fieldRef:ObjectFieldSelector resourceFieldRef:ResourceFieldSelector "
                           "configMapKeyRef:ConfigMapKeySelector secretKeyRef:SecretKeySelector"),
    "ObjectFieldSelector": (CORE, "apiVersion:s fieldPath:s"),
    "ResourceFieldSelector": (CORE, "containerName:s resource:s divisor:q"),
    "ConfigMapKeySelector": (CORE, "name:s key:s optional:b"),
    "SecretKeySelector": (CORE, "name:s key:s optional:b"),
    "EnvFromSource": (CORE, "prefix:s configMapRef:ConfigMapEnvSource secretRef:SecretEnvSource"),
    "ConfigMapEnvSource": (CORE, "name:s optional:b"),
    "SecretEnvSource": (CORE, "name:s optional:b"),
    "ResourceRequirements": (CORE, "limits:{q} requests:{q} claims:[ResourceClaim]name"),
    "ResourceClaim": (CORE, "name:s request:s"),
    "ContainerResizePolicy": (CORE, "resourceName:s restartPolicy:s"),
    "VolumeMount": (CORE, "name:s readOnly:b recursiveReadOnly:s mountPath:s subPath:s mountPropagation:s "
                          "subPathExpr:s"),
    "VolumeDevice": (CORE, "name:s devicePath:s"),
    "Probe": (CORE, _PROBE_HANDLER + "initialDelaySeconds:i timeoutSeconds:i periodSeconds:i successThreshold:i "
                                     "failureThreshold:i terminationGracePeriodSeconds:i"),
    "ExecAction": (CORE, "command:[s]"),
    "HTTPGetAction": (CORE, "path:s port:ios host:s scheme:s httpHeaders:[HTTPHeader]"),
    "HTTPHeader": (CORE, "name:s value:s"),
    "TCPSocketAction": (CORE, "port:ios host:s"),
    "GRPCAction": (CORE, "port:i service:s"),
    "Lifecycle": (CORE, "postStart:LifecycleHandler preStop:LifecycleHandler"),
    "LifecycleHandler": (CORE, "exec:ExecAction httpGet:HTTPGetAction tcpSocket:TCPSocketAction sleep:SleepAction"),
    "SleepAction": (CORE, "seconds:i"),
    "SecurityContext": (CORE, "capabilities:Capabilities privileged:b seLinuxOptions:SELinuxOptions "
                              "windowsOptions:WindowsSecurityContextOptions runAsUser:i runAsGroup:i runAsNonRoot:b "
                              "readOnlyRootFilesystem:b allowPrivilegeEscalation:b procMount:s "
                              "seccompProfile:SeccompProfile appArmorProfile:AppArmorProfile"),
    "Capabilities": (CORE, "add:[s] drop:[s]"),
    "SELinuxOptions": (CORE, "user:s role:s type:s level:s"),
    "WindowsSecurityContextOptions": (CORE, "gmsaCredentialSpecName:s gmsaCredentialSpec:s runAsUserName:s "
                                            "hostProcess:b"),
    "SeccompProfile": (CORE, "type:s localhostProfile:s"),
    "AppArmorProfile": (CORE, "type:s localhostProfile:s"),
    "PodSecurityContext": (CORE, "seLinuxOptions:SELinuxOptions windowsOptions:WindowsSecurityContextOptions "
                                 "runAsUser:i runAsGroup:i runAsNonRoot:b supplementalGroups:[i] "
                                 "supplementalGroupsPolicy:s fsGroup:i fsGroupChangePolicy:s sysctls:[Sysctl] "
                                 "seccompProfile:SeccompProfile appArmorProfile:AppArmorProfile "
                                 "seLinuxChangePolicy:s"),
    "Sysctl": (CORE, "name:s value:s"),
    "Affinity": (CORE, "nodeAffinity:NodeAffinity podAffinity:PodAffinity podAntiAffinity:PodAntiAffinity"),
    "NodeAffinity": (CORE, "requiredDuringSchedulingIgnoredDuringExecution:NodeSelector "
                           "preferredDuringSchedulingIgnoredDuringExecution:[PreferredSchedulingTerm]"),
    "NodeSelector": (CORE, "nodeSelectorTerms:[NodeSelectorTerm]"),
    "NodeSelectorTerm": (CORE, f"matchExpressions:{_SELECTOR_LIST} matchFields:{_SELECTOR_LIST}"),
    "NodeSelectorRequirement": (CORE, "key:s operator:s values:[s]"),
    "PreferredSchedulingTerm": (CORE, "weight:i preference:NodeSelectorTerm"),
    "PodAffinity": (CORE, "requiredDuringSchedulingIgnoredDuringExecution:[PodAffinityTerm] "
                          "preferredDuringSchedulingIgnoredDuringExecution:[WeightedPodAffinityTerm]"),
    "PodAntiAffinity": (CORE, "requiredDuringSchedulingIgnoredDuringExecution:[PodAffinityTerm] "
                              "preferredDuringSchedulingIgnoredDuringExecution:[WeightedPodAffinityTerm]"),
    "PodAffinityTerm": (CORE, "labelSelector:LabelSelector namespaces:[s] topologyKey:s "
                              "namespaceSelector:LabelSelector matchLabelKeys:[s] mismatchLabelKeys:[s]"),
    "WeightedPodAffinityTerm": (CORE, "weight:i podAffinityTerm:PodAffinityTerm"),
    "Toleration": (CORE, "key:s operator:s value:s effect:s tolerationSeconds:i"),
    "HostAlias": (CORE, "ip:s hostnames:[s]"),
    "PodDNSConfig": (CORE, "nameservers:[s] searches:[s] options:[PodDNSConfigOption]"),
    "PodDNSConfigOption": (CORE, "name:s value:s"),
    "PodReadinessGate": (CORE, "conditionType:s"),
    "TopologySpreadConstraint": (CORE, "maxSkew:i topologyKey:s whenUnsatisfiable:s labelSelector:LabelSelector "
                                       "minDomains:i nodeAffinityPolicy:s nodeTaintsPolicy:s matchLabelKeys:[s]"),
    "PodOS": (CORE, "name:s"),
    "PodSchedulingGate": (CORE, "name:s"),
    "PodResourceClaim": (CORE, "name:s resourceClaimName:s resourceClaimTemplateName:s"),
    "LocalObjectReference": (CORE, "name:s"),
    "Volume": (CORE, "name:s hostPath:HostPathVolumeSource emptyDir:EmptyDirVolumeSource gcePersistentDisk:any "
                     "awsElasticBlockStore:any gitRepo:any secret:SecretVolumeSource nfs:NFSVolumeSource iscsi:any "
                     "glusterfs:any persistentVolumeClaim:PersistentVolumeClaimVolumeSource rbd:any flexVolume:any "
                     "cinder:any cephfs:any flocker:any downwardAPI:DownwardAPIVolumeSource fc:any azureFile:any "
                     "configMap:ConfigMapVolumeSource vsphereVolume:any quobyte:any azureDisk:any "
                     "photonPersistentDisk:any projected:ProjectedVolumeSource portworxVolume:any scaleIO:any "
                     "storageos:any csi:CSIVolumeSource ephemeral:any image:ImageVolumeSource"),
    "HostPathVolumeSource": (CORE, "path:s type:s"),
    "EmptyDirVolumeSource": (CORE, "medium:s sizeLimit:q"),
    "SecretVolumeSource": (CORE, "secretName:s items:[KeyToPath] defaultMode:i optional:b"),
    "KeyToPath": (CORE, "key:s path:s mode:i"),
    "NFSVolumeSource": (CORE, "server:s path:s readOnly:b"),
    "PersistentVolumeClaimVolumeSource": (CORE, "claimName:s readOnly:b"),
    "DownwardAPIVolumeSource": (CORE, "items:[DownwardAPIVolumeFile] defaultMode:i"),
    "DownwardAPIVolumeFile": (CORE, "path:s fieldRef:ObjectFieldSelector resourceFieldRef:ResourceFieldSelector "
                                    "mode:i"),
    "ConfigMapVolumeSource": (CORE, "name:s items:[KeyToPath] defaultMode:i optional:b"),
    "ProjectedVolumeSource": (CORE, "sources:[VolumeProjection] defaultMode:i"),
    "VolumeProjection": (CORE, "secret:SecretProjection downwardAPI:DownwardAPIProjection "
                               "configMap:ConfigMapProjection serviceAccountToken:ServiceAccountTokenProjection "
                               "clusterTrustBundle:any"),
    "SecretProjection": (CORE, "name:s items:[KeyToPath] optional:b"),
    "ConfigMapProjection": (CORE, "name:s items:[KeyToPath] optional:b"),
    "DownwardAPIProjection": (CORE, "items:[DownwardAPIVolumeFile]"),
    "ServiceAccountTokenProjection": (CORE, "audience:s expirationSeconds:i path:s"),
    "CSIVolumeSource": (CORE, "driver:s readOnly:b fsType:s volumeAttributes:{s} "
                              "nodePublishSecretRef:LocalObjectReference"),
    "ImageVolumeSource": (CORE, "reference:s pullPolicy:s"),
    "PodStatus": (CORE, "phase:s conditions:[PodCondition]type message:s reason:s nominatedNodeName:s hostIP:s "
                        "hostIPs:[HostIP]ip podIP:s podIPs:[PodIP]ip startTime:t "
                        "initContainerStatuses:[ContainerStatus] containerStatuses:[ContainerStatus] qosClass:s "
                        "ephemeralContainerStatuses:[ContainerStatus] resize:s resourceClaimStatuses:[any]name"),
    "PodCondition": (CORE, "type:s status:s lastProbeTime:t lastTransitionTime:t reason:s message:s"),
    "HostIP": (CORE, "ip:s"),
    "PodIP": (CORE, "ip:s"),
    "ContainerStatus": (CORE, "name:s state:ContainerState lastState:ContainerState ready:b restartCount:i image:s "
                              "imageID:s containerID:s started:b allocatedResources:{q} "
                              "resources:ResourceRequirements volumeMounts:[any] user:any "
                              "allocatedResourcesStatus:[any]"),
    "ContainerState": (CORE, "waiting:ContainerStateWaiting running:ContainerStateRunning "
                             "terminated:ContainerStateTerminated"),
    "ContainerStateWaiting": (CORE, "reason:s message:s"),
    "ContainerStateRunning": (CORE, "startedAt:t"),
    "ContainerStateTerminated": (CORE, "exitCode:i signal:i reason:s message:s startedAt:t finishedAt:t "
                                       "containerID:s"),
    # ---------------------------------------------------------------- core/v1: the rest
    "ServiceSpec": (CORE, "ports:[ServicePort]port,protocol selector:{s} clusterIP:s clusterIPs:[s] type:s "
                          "externalIPs:[s] sessionAffinity:s loadBalancerIP:s loadBalancerSourceRanges:[s] "
                          "externalName:s externalTrafficPolicy:s healthCheckNodePort:i publishNotReadyAddresses:b "
                          "sessionAffinityConfig:SessionAffinityConfig ipFamilies:[s] ipFamilyPolicy:s "
                          "allocateLoadBalancerNodePorts:b loadBalancerClass:s internalTrafficPolicy:s "
                          "trafficDistribution:s"),
    "ServicePort": (CORE, "name:s protocol:s=TCP appProtocol:s port:i targetPort:ios nodePort:i"),
    "SessionAffinityConfig": (CORE, "clientIP:ClientIPConfig"),
    "ClientIPConfig": (CORE, "timeoutSeconds:i"),
    "ServiceStatus": (CORE, "loadBalancer:LoadBalancerStatus conditions:[Condition]type"),
    "LoadBalancerStatus": (CORE, "ingress:[any]"),
    "ObjectReference": (CORE, "kind:s namespace:s name:s uid:s apiVersion:s resourceVersion:s fieldPath:s"),
    "NamespaceSpec": (CORE, "finalizers:[s]"),
    "NamespaceStatus": (CORE, "phase:s conditions:[NamespaceCondition]type"),
    "NamespaceCondition": (CORE, "type:s status:s lastTransitionTime:t reason:s message:s"),
    "EventSource": (CORE, "component:s host:s"),
    "EventSeries": (CORE, "count:i lastObservedTime:t"),
    # ---------------------------------------------------------------- apps/v1
    "DeploymentSpec": (APPS, "replicas:i selector:LabelSelector template:PodTemplateSpec "
                             "strategy:DeploymentStrategy minReadySeconds:i revisionHistoryLimit:i paused:b "
                             "progressDeadlineSeconds:i"),
    "DeploymentStrategy": (APPS, "type:s rollingUpdate:RollingUpdateDeployment"),
    "RollingUpdateDeployment": (APPS, "maxUnavailable:ios maxSurge:ios"),
    "DeploymentStatus": (APPS, "observedGeneration:i replicas:i updatedReplicas:i readyReplicas:i "
                               "availableReplicas:i unavailableReplicas:i conditions:[DeploymentCondition]type "
                               "collisionCount:i"),
    "DeploymentCondition": (APPS, "type:s status:s lastUpdateTime:t lastTransitionTime:t reason:s message:s"),
    "ReplicaSetSpec": (APPS, "replicas:i minReadySeconds:i selector:LabelSelector template:PodTemplateSpec"),
    "ReplicaSetStatus": (APPS, "replicas:i fullyLabeledReplicas:i readyReplicas:i availableReplicas:i "
                               "observedGeneration:i conditions:[ReplicaSetCondition]type"),
    "ReplicaSetCondition": (APPS, "type:s status:s lastTransitionTime:t reason:s message:s"),
    "StatefulSetSpec": (APPS, "replicas:i selector:LabelSelector template:PodTemplateSpec "
                              "volumeClaimTemplates:[any] serviceName:s podManagementPolicy:s "
                              "updateStrategy:StatefulSetUpdateStrategy revisionHistoryLimit:i minReadySeconds:i "
                              "persistentVolumeClaimRetentionPolicy:StatefulSetPersistentVolumeClaimRetentionPolicy "
                              "ordinals:StatefulSetOrdinals"),
    "StatefulSetUpdateStrategy": (APPS, "type:s rollingUpdate:RollingUpdateStatefulSetStrategy"),
    "RollingUpdateStatefulSetStrategy": (APPS, "partition:i maxUnavailable:ios"),
    "StatefulSetPersistentVolumeClaimRetentionPolicy": (APPS, "whenDeleted:s whenScaled:s"),
    "StatefulSetOrdinals": (APPS, "start:i"),
    "StatefulSetStatus": (APPS, "observedGeneration:i replicas:i readyReplicas:i currentReplicas:i "
                                "updatedReplicas:i currentRevision:s updateRevision:s collisionCount:i "
                                "conditions:[StatefulSetCondition]type availableReplicas:i"),
    "StatefulSetCondition": (APPS, "type:s status:s lastTransitionTime:t reason:s message:s"),
    "DaemonSetSpec": (APPS, "selector:LabelSelector template:PodTemplateSpec updateStrategy:DaemonSetUpdateStrategy "
                            "minReadySeconds:i revisionHistoryLimit:i"),
    "DaemonSetUpdateStrategy": (APPS, "type:s rollingUpdate:RollingUpdateDaemonSet"),
    "RollingUpdateDaemonSet": (APPS, "maxUnavailable:ios maxSurge:ios"),
    "DaemonSetStatus": (APPS, "currentNumberScheduled:i numberMisscheduled:i desiredNumberScheduled:i numberReady:i "
                              "observedGeneration:i updatedNumberScheduled:i numberAvailable:i "
                              "numberUnavailable:i collisionCount:i conditions:[DaemonSetCondition]type"),
    "DaemonSetCondition": (APPS, "type:s status:s lastTransitionTime:t reason:s message:s"),
    # ---------------------------------------------------------------- rbac, coordination, events
    "PolicyRule": (RBAC, "verbs:[s] apiGroups:[s] resources:[s] resourceNames:[s] nonResourceURLs:[s]"),
    "AggregationRule": (RBAC, "clusterRoleSelectors:[LabelSelector]"),
    "Subject": (RBAC, "kind:s apiGroup:s name:s namespace:s"),
    "RoleRef": (RBAC, "apiGroup:s kind:s name:s"),
    "LeaseSpec": (COORD, "holderIdentity:s leaseDurationSeconds:i acquireTime:t renewTime:t leaseTransitions:i "
                         "strategy:s preferredHolder:s"),
    "EventsEventSeries": (EVENTS, "count:i lastObservedTime:t"),
    # ---------------------------------------------------------------- apiextensions/v1
    "CustomResourceDefinitionSpec": (APIEXT, "group:s names:CustomResourceDefinitionNames scope:s "
                                             "versions:[CustomResourceDefinitionVersion] "
                                             "conversion:CustomResourceConversion preserveUnknownFields:b"),
    "CustomResourceDefinitionNames": (APIEXT, "plural:s singular:s shortNames:[s] kind:s listKind:s "
                                              "categories:[s]"),
    "CustomResourceDefinitionVersion": (APIEXT, "name:s served:b storage:b deprecated:b deprecationWarning:s "
                                                "schema:CustomResourceValidation "
                                                "subresources:CustomResourceSubresources "
                                                "additionalPrinterColumns:[CustomResourceColumnDefinition] "
                                                "selectableFields:[SelectableField]"),
    "CustomResourceValidation": (APIEXT, "openAPIV3Schema:JSONSchemaProps"),
    "CustomResourceSubresources": (APIEXT, "status:CustomResourceSubresourceStatus "
                                           "scale:CustomResourceSubresourceScale"),
    "CustomResourceSubresourceStatus": (APIEXT, ""),
    "CustomResourceSubresourceScale": (APIEXT, "specReplicasPath:s statusReplicasPath:s labelSelectorPath:s"),
    "CustomResourceColumnDefinition": (APIEXT, "name:s type:s format:s description:s priority:i jsonPath:s"),
    "SelectableField": (APIEXT, "jsonPath:s"),
    "CustomResourceConversion": (APIEXT, "strategy:s webhook:WebhookConversion"),
    "WebhookConversion": (APIEXT, "clientConfig:WebhookClientConfig conversionReviewVersions:[s]"),
    "WebhookClientConfig": (APIEXT, "url:s service:ServiceReference caBundle:s"),
    "ServiceReference": (APIEXT, "namespace:s name:s path:s port:i"),
    "CustomResourceDefinitionStatus": (APIEXT, "conditions:[CustomResourceDefinitionCondition]type "
                                               "acceptedNames:CustomResourceDefinitionNames storedVersions:[s]"),
    "CustomResourceDefinitionCondition": (APIEXT, "type:s status:s lastTransitionTime:t reason:s message:s"),
    # items, additionalProperties, default, enum, example and dependencies are untyped in the real OpenAPI
    # (JSONSchemaPropsOrArray, JSONSchemaPropsOrBool, JSON): anything goes there.
    "JSONSchemaProps": (APIEXT, "id:s $schema:s $ref:s description:s type:s format:s title:s default:any "
                                "maximum:n exclusiveMaximum:b minimum:n exclusiveMinimum:b maxLength:i minLength:i "
                                "pattern:s maxItems:i minItems:i uniqueItems:b multipleOf:n enum:[any] "
                                "maxProperties:i minProperties:i required:[s] items:any allOf:[JSONSchemaProps] "
                                "oneOf:[JSONSchemaProps] anyOf:[JSONSchemaProps] not:JSONSchemaProps "
                                "properties:{JSONSchemaProps} additionalProperties:any "
                                "patternProperties:{JSONSchemaProps} dependencies:{any} additionalItems:any "
                                "definitions:{JSONSchemaProps} externalDocs:ExternalDocumentation example:any "
                                "nullable:b x-kubernetes-preserve-unknown-fields:b "
                                "x-kubernetes-embedded-resource:b x-kubernetes-int-or-string:b "
                                "x-kubernetes-list-map-keys:[s] x-kubernetes-list-type:s x-kubernetes-map-type:s "
                                "x-kubernetes-validations:[ValidationRule]rule"),
    "ExternalDocumentation": (APIEXT, "description:s url:s"),
    "ValidationRule": (APIEXT, "rule:s message:s messageExpression:s reason:s fieldPath:s optionalOldSelf:b"),
}

# (group, version, kind) -> (package, fields besides apiVersion, kind and metadata)
KINDS = {
    ("", "v1", "Namespace"): (CORE, "spec:NamespaceSpec status:NamespaceStatus"),
    ("", "v1", "Pod"): (CORE, "spec:PodSpec status:PodStatus"),
    ("", "v1", "Service"): (CORE, "spec:ServiceSpec status:ServiceStatus"),
    ("", "v1", "ConfigMap"): (CORE, "data:{s} binaryData:{s} immutable:b"),
    ("", "v1", "Secret"): (CORE, "data:{s} stringData:{s} type:s immutable:b"),
    ("", "v1", "ServiceAccount"): (CORE, "secrets:[ObjectReference]name imagePullSecrets:[LocalObjectReference] "
                                         "automountServiceAccountToken:b"),
    ("", "v1", "Event"): (CORE, "involvedObject:ObjectReference reason:s message:s source:EventSource "
                                "firstTimestamp:t lastTimestamp:t count:i type:s eventTime:t series:EventSeries "
                                "action:s related:ObjectReference reportingComponent:s reportingInstance:s"),
    ("apps", "v1", "Deployment"): (APPS, "spec:DeploymentSpec status:DeploymentStatus"),
    ("apps", "v1", "ReplicaSet"): (APPS, "spec:ReplicaSetSpec status:ReplicaSetStatus"),
    ("apps", "v1", "StatefulSet"): (APPS, "spec:StatefulSetSpec status:StatefulSetStatus"),
    ("apps", "v1", "DaemonSet"): (APPS, "spec:DaemonSetSpec status:DaemonSetStatus"),
    ("apps", "v1", "ControllerRevision"): (APPS, "data:any revision:i"),
    ("coordination.k8s.io", "v1", "Lease"): (COORD, "spec:LeaseSpec"),
    ("events.k8s.io", "v1", "Event"): (EVENTS, "eventTime:t series:EventsEventSeries reportingController:s "
                                               "reportingInstance:s action:s reason:s regarding:ObjectReference "
                                               "related:ObjectReference note:s type:s deprecatedSource:EventSource "
                                               "deprecatedFirstTimestamp:t deprecatedLastTimestamp:t "
                                               "deprecatedCount:i"),
    ("rbac.authorization.k8s.io", "v1", "Role"): (RBAC, "rules:[PolicyRule]"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"): (RBAC, "rules:[PolicyRule] aggregationRule:AggregationRule"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"): (RBAC, "subjects:[Subject] roleRef:RoleRef"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"): (RBAC, "subjects:[Subject] roleRef:RoleRef"),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"): (
        APIEXT, "spec:CustomResourceDefinitionSpec status:CustomResourceDefinitionStatus"),
}

_SCALARS = {
    "s": {"type": "string"},
    "i": {"type": "integer", "format": "int64"},
    "b": {"type": "boolean"},
    "n": {"type": "number"},
    "t": {"type": "string", "format": "date-time"},
    "ios": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
    "q": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "string"}]},
    "any": {"x-kubernetes-preserve-unknown-fields": True},
}


def ref_name(type_name):
    return f"{TYPES[type_name][0]}.{type_name.replace('EventsEventSeries', 'EventSeries')}"


def _type(spec):
    """The OpenAPI v3 schema of one TYPE of the table."""
    if spec.startswith("["):
        inner, _, keys = spec[1:].partition("]")
        out = {"type": "array", "items": _type(inner)}
        if keys == "set":
            out["x-kubernetes-list-type"] = "set"
        elif keys:
            out["x-kubernetes-list-type"] = "map"
            out["x-kubernetes-list-map-keys"] = keys.split(",")
        else:
            out["x-kubernetes-list-type"] = "atomic"
        return out
    if spec.startswith("{"):
        return {"type": "object", "additionalProperties": _type(spec[1:-1])}
    if spec in _SCALARS:
        return dict(_SCALARS[spec])
    if spec not in TYPES:
        raise KeyError(f"builtin_schema: no type {spec!r}")
    return {"$ref": f"#/components/schemas/{ref_name(spec)}"}


def _struct(fields):
    props = {}
    for item in fields.split():
        name, _, spec = item.partition(":")
        spec, _, default = spec.partition("=")
        props[name] = _type(spec)
        if default:
            props[name]["default"] = default
    return {"type": "object", "properties": props}


def _build():
    comps = {ref_name(name): _struct(fields) for name, (_, fields) in TYPES.items()}
    kinds = {}
    for (group, version, kind), (package, fields) in KINDS.items():
        s = _struct("apiVersion:s kind:s metadata:ObjectMeta " + fields)
        s["x-kubernetes-group-version-kind"] = [{"group": group, "version": version, "kind": kind}]
        name = f"{package}.{kind}"
        comps[name] = s
        kinds[(group, version, kind)] = name
    return comps, kinds


COMPONENTS, KIND_SCHEMAS = _build()


def resolve(schema):
    """The schema a `$ref` names (itself when it is none)."""
    while isinstance(schema, dict) and "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def kind_schema(group, version, kind):
    """The schema of a built-in kind, or None where kubesim has none (those are not field-validated)."""
    name = KIND_SCHEMAS.get((group, version, kind))
    return COMPONENTS[name] if name else None


def object_meta():
    return COMPONENTS[ref_name("ObjectMeta")]


def components_for(group, version):
    """The component schemas a group-version's OpenAPI v3 document needs: its kinds and every type they reach."""
    out, todo = {}, [name for (g, v, _), name in KIND_SCHEMAS.items() if (g, v) == (group, version)]
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out[name] = COMPONENTS[name]
        text = json.dumps(out[name])
        for part in text.split('"$ref": "#/components/schemas/')[1:]:
            todo.append(part.split('"', 1)[0])
    return out
