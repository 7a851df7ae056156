// Informer transforms: strip objects to the fields the reconciler reads.
#include "controllers/mesh_upgrade/transforms.h"

#include <nlohmann/json.hpp>

#include "controllers/mesh_upgrade/names.h"

namespace meshupgrade {

using nlohmann::json;

namespace {

json slim_metadata(const json& meta) {
  json out = json::object();
  for (const char* key : {"name", "namespace", "uid", "resourceVersion", "generation", "deletionTimestamp"}) {
    if (meta.contains(key)) out[key] = meta[key];
  }
  if (meta.contains("annotations") && meta["annotations"].is_object()) {
    json ours = json::object();
    for (const auto& [k, v] : meta["annotations"].items()) {
      if (k.rfind("upgrade.flomesh.io/", 0) == 0) ours[k] = v;
    }
    if (!ours.empty()) out["annotations"] = std::move(ours);
  }
  return out;
}

json slim_container_status(const json& cs) {
  json out = {{"name", cs.value("name", "")}};
  json state = json::object();
  const json st = cs.value("state", json::object());
  if (st.contains("waiting")) {
    state["waiting"] = {{"reason", st["waiting"].value("reason", "")}, {"message", st["waiting"].value("message", "")}};
  }
  if (st.contains("running")) state["running"] = json::object();
  if (st.contains("terminated")) state["terminated"] = json::object();
  out["state"] = std::move(state);
  return out;
}

}  // namespace

void keep_workload_fields(json& obj) {
  json out = {{"metadata", slim_metadata(obj.value("metadata", json::object()))}};
  const json spec = obj.value("spec", json::object());
  json slim_spec = json::object();
  if (spec.contains("replicas")) slim_spec["replicas"] = spec["replicas"];
  if (spec.contains("updateStrategy")) slim_spec["updateStrategy"] = {{"type", spec["updateStrategy"].value("type", "")}};
  out["spec"] = std::move(slim_spec);
  json status = obj.value("status", json::object());
  if (status.contains("conditions")) {
    json conds = json::array();
    for (const auto& c : status["conditions"]) {
      if (c.value("type", "") == "Progressing") {
        conds.push_back({{"type", "Progressing"}, {"reason", c.value("reason", "")}, {"message", c.value("message", "")}});
      }
    }
    status["conditions"] = std::move(conds);
  }
  out["status"] = std::move(status);
  obj = std::move(out);
}

void keep_pod_fields(json& obj) {
  const json meta = obj.value("metadata", json::object());
  json m = {{"name", meta.value("name", "")}, {"namespace", meta.value("namespace", "")}};
  if (meta.contains("resourceVersion")) m["resourceVersion"] = meta["resourceVersion"];
  const json labels = meta.value("labels", json::object());
  if (labels.contains("pod-template-hash")) m["labels"] = {{"pod-template-hash", labels["pod-template-hash"]}};
  for (const auto& ref : meta.value("ownerReferences", json::array())) {
    if (ref.value("controller", false)) {
      m["ownerReferences"] = json::array({{{"kind", ref.value("kind", "")}, {"name", ref.value("name", "")}, {"controller", true}}});
    }
  }
  json containers = json::array();
  for (const auto& c : obj.value("spec", json::object()).value("containers", json::array())) {
    if (c.value("name", "") == kSidecarContainer) containers.push_back({{"name", c.value("name", "")}, {"image", c.value("image", "")}});
  }
  json status = json::object();
  const json st = obj.value("status", json::object());
  for (const auto& c : st.value("conditions", json::array())) {
    if (c.value("type", "") == "Ready") status["conditions"] = json::array({{{"type", "Ready"}, {"status", c.value("status", "")}}});
  }
  for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
    json out = json::array();
    for (const auto& cs : st.value(list, json::array())) {
      if (cs.contains("state") && cs["state"].contains("waiting")) out.push_back(slim_container_status(cs));
    }
    if (!out.empty()) status[list] = std::move(out);
  }
  obj = {{"metadata", std::move(m)}, {"spec", {{"containers", std::move(containers)}}}, {"status", std::move(status)}};
}

void keep_namespace_fields(json& obj) {
  const json meta = obj.value("metadata", json::object());
  json m = {{"name", meta.value("name", "")}};
  if (meta.contains("labels")) m["labels"] = meta["labels"];
  obj = {{"metadata", std::move(m)}};
}

void keep_crd_fields(json& obj) {
  const json meta = obj.value("metadata", json::object());
  json conds = json::array();
  for (const auto& c : obj.value("status", json::object()).value("conditions", json::array())) {
    conds.push_back({{"type", c.value("type", "")}, {"status", c.value("status", "")}});
  }
  obj = {{"metadata", {{"name", meta.value("name", "")}}}, {"status", {{"conditions", std::move(conds)}}}};
}

}  // namespace meshupgrade
