// Names the operator writes and reads: annotations, labels, the finalizer, resource types.
#pragma once

#include <string_view>

#include "operator/kube_api.h"

namespace meshupgrade {

inline constexpr std::string_view kFinalizer = "upgrade.flomesh.io/finalizer";
inline constexpr std::string_view kFieldManager = "meshupgrade-operator";
// On a workload: which upgrade attempt restarted it ("<uid>.<attempt generation>"), and when.
inline constexpr std::string_view kRestartedBy = "upgrade.flomesh.io/restarted-by";
inline constexpr std::string_view kRestartedAt = "upgrade.flomesh.io/restarted-at";
inline constexpr std::string_view kRolledBackBy = "upgrade.flomesh.io/rolled-back-by";
// On the pod template: what `kubectl rollout restart` sets.
inline constexpr std::string_view kKubectlRestartedAt = "kubectl.kubernetes.io/restartedAt";
// On the image pull-check pod.
inline constexpr std::string_view kPullCheckLabel = "upgrade.flomesh.io/pull-check";
// osm-edge's own.
inline constexpr std::string_view kMonitoredBy = "openservicemesh.io/monitored-by";
inline constexpr std::string_view kProxyUuid = "osm-proxy-uuid";
inline constexpr std::string_view kOsmNameLabel = "app.kubernetes.io/name";
inline constexpr std::string_view kOsmNameValue = "openservicemesh.io";
inline constexpr std::string_view kMeshConfigName = "osm-mesh-config";
inline constexpr std::string_view kSidecarContainer = "sidecar";

inline const kubert::Gvr kMeshUpgrades{"upgrade.flomesh.io", "v1alpha1", "meshupgrades", true};
inline const kubert::Gvr kMeshConfigs{"config.openservicemesh.io", "v1alpha2", "meshconfigs", true};
inline const kubert::Gvr kDeployments{"apps", "v1", "deployments", true};
inline const kubert::Gvr kStatefulSets{"apps", "v1", "statefulsets", true};
inline const kubert::Gvr kDaemonSets{"apps", "v1", "daemonsets", true};
inline const kubert::Gvr kPods{"", "v1", "pods", true};
inline const kubert::Gvr kNamespaces{"", "v1", "namespaces", false};
inline const kubert::Gvr kSecrets{"", "v1", "secrets", true};
inline const kubert::Gvr kConfigMaps{"", "v1", "configmaps", true};
inline const kubert::Gvr kEvents{"", "v1", "events", true};
inline const kubert::Gvr kCrds{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};

// The control-plane Deployments an upgrade moves, bootstrap first: it brings the CRDs.
inline constexpr std::string_view kControlPlane[] = {"osm-bootstrap", "osm-controller", "osm-injector"};
// Add-ons the guide upgrades with `kubectl set image`, when they exist.
inline constexpr std::string_view kAddonDeployments[] = {"osm-prometheus", "osm-grafana", "jaeger"};

}  // namespace meshupgrade
