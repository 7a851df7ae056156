// What controllers and runtime pieces need from a Kubernetes API server, nothing more.
#pragma once

#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace kubert {

using json = nlohmann::json;

// A resource type as the API serves it: group ("" for core), version, plural resource name.
struct Gvr {
  std::string group;
  std::string version;
  std::string resource;
  bool namespaced = true;

  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
  // "/api/v1/namespaces/NS/pods" or "/apis/apps/v1/deployments" (ns empty: all namespaces).
  std::string collection_path(const std::string& ns) const;
  std::string str() const { return (group.empty() ? "core" : group) + "/" + version + "/" + resource; }
  bool operator==(const Gvr&) const = default;
};

// One object: its type, namespace ("" for cluster-scoped) and name.
struct ObjectRef {
  Gvr gvr;
  std::string ns;
  std::string name;

  std::string path() const;  // collection_path(ns) + "/" + name
  std::string str() const;   // "apps/v1/deployments osm-system/osm-controller"
  bool operator==(const ObjectRef&) const = default;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  long limit = 0;                 // 0: no limit (the client pages through everything anyway)
  std::string resource_version;   // "" : most recent
  // Applied to each item as its page arrives, so a large list is never held whole (an informer strips
  // what it does not keep before the next page is read).
  std::function<void(json&)> item_transform;
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;
  bool allow_bookmarks = true;
  long timeout_seconds = 0;       // 0: server default
};

struct WatchEvent {
  std::string type;               // ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
  const json& object;
};

enum class PatchType { Merge, Json, Strategic, Apply };

struct PatchOptions {
  std::string field_manager;      // required for Apply
  bool force = false;             // Apply: take ownership of conflicting fields
};

enum class Propagation { Default, Background, Foreground, Orphan };

struct DeleteOptions {
  Propagation propagation = Propagation::Default;
  std::string precondition_uid;
  std::string precondition_resource_version;
};

// Every call may throw kubert::ApiError (see errors.h) for an API Status, or a transport error.
class KubeApi {
 public:
  virtual ~KubeApi() = default;

  virtual std::optional<json> get(const ObjectRef& ref) = 0;  // nullopt: 404
  // A full list (pages followed): {"items": [...], "metadata": {"resourceVersion": ...}}.
  virtual json list(const Gvr& gvr, const std::string& ns, const ListOptions& opts) = 0;
  // Streams events to on_event until the server ends the stream, on_event returns false or stop is
  // requested. Returns normally in those cases; throws ApiError for an HTTP error (410 Gone included)
  // and for an ERROR event carrying a Status.
  virtual void watch(const Gvr& gvr, const std::string& ns, const WatchOptions& opts,
                     const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) = 0;
  virtual json create(const Gvr& gvr, const std::string& ns, const json& body) = 0;
  virtual json update(const ObjectRef& ref, const json& body) = 0;         // body carries resourceVersion
  virtual json update_status(const ObjectRef& ref, const json& body) = 0;
  virtual json patch(const ObjectRef& ref, PatchType type, const json& body, const PatchOptions& opts = {}) = 0;
  virtual json patch_status(const ObjectRef& ref, PatchType type, const json& body,
                            const PatchOptions& opts = {}) = 0;
  virtual bool remove(const ObjectRef& ref, const DeleteOptions& opts = {}) = 0;  // false: was not there
  virtual json server_version() = 0;  // GET /version
};

}  // namespace kubert
