// What the informers keep of each object: only the fields the reconciler reads, so memory stays small
// with thousands of meshed workloads.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace meshupgrade {

void keep_workload_fields(nlohmann::json& obj);   // Deployments, StatefulSets, DaemonSets
void keep_pod_fields(nlohmann::json& obj);        // meshed pods: owner, sidecar image, readiness, failures
void keep_namespace_fields(nlohmann::json& obj);  // name and labels
void keep_crd_fields(nlohmann::json& obj);        // name and conditions: CRD schemas are large

}  // namespace meshupgrade
