// RestClient's typed calls: paths, query parameters, paging, patch types, delete options and discovery.
#include "operator/rest_client_impl.h"

namespace kubert {

const char* patch_content_type(PatchType type) noexcept {
  switch (type) {
    case PatchType::Merge: return "application/merge-patch+json";
    case PatchType::Json: return "application/json-patch+json";
    case PatchType::Strategic: return "application/strategic-merge-patch+json";
    case PatchType::Apply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

RestClient::RestClient(RestConfig cfg, RestClientOptions opts)
    : impl_(std::make_unique<Impl>(std::move(cfg), opts)) {}

RestClient::~RestClient() = default;

const RestConfig& RestClient::config() const noexcept { return impl_->cfg; }

json RestClient::request(const std::string& method, const std::string& path_and_query, const json* body,
                         const std::string& content_type) {
  return impl_->call(method, path_and_query, body, content_type);
}

std::optional<json> RestClient::get(const ObjectRef& ref) {
  try {
    return impl_->call("GET", ref.path());
  } catch (const ApiError& e) {
    if (e.is_not_found()) return std::nullopt;
    throw;
  }
}

json RestClient::list(const Gvr& gvr, const std::string& ns, const ListOptions& opts) {
  const std::string base = gvr.collection_path(ns);
  const long page = opts.limit > 0 ? opts.limit : impl_->opts.page_size;
  json items = json::array();
  json first;
  std::string cont;
  bool paging = page > 0;
  for (;;) {
    std::string q;
    add_query(q, "labelSelector", opts.label_selector);
    add_query(q, "fieldSelector", opts.field_selector);
    if (paging) add_query(q, "limit", std::to_string(page));
    if (cont.empty()) {
      add_query(q, "resourceVersion", opts.resource_version);
    } else {
      add_query(q, "continue", cont);
    }
    json res;
    try {
      res = impl_->call("GET", base + q);
    } catch (const ApiError& e) {
      if (e.is_gone() && !cont.empty()) {
        // The continue token expired mid-way: start again with one unpaged list, as client-go's pager does.
        items = json::array();
        first = nullptr;
        cont.clear();
        paging = false;
        continue;
      }
      throw;
    }
    if (const auto it = res.find("items"); it != res.end() && it->is_array()) {
      for (auto& item : *it) {
        if (opts.item_transform) opts.item_transform(item);
        items.push_back(std::move(item));
      }
      res.erase("items");
    }
    cont = res.contains("metadata") ? res["metadata"].value("continue", "") : "";
    if (first.is_null()) first = std::move(res);
    if (cont.empty()) break;
  }
  json out = std::move(first);
  if (!out.is_object()) out = json::object();
  out["items"] = std::move(items);
  if (!out.contains("metadata") || !out["metadata"].is_object()) out["metadata"] = json::object();
  out["metadata"].erase("continue");
  out["metadata"].erase("remainingItemCount");
  return out;
}

void RestClient::watch(const Gvr& gvr, const std::string& ns, const WatchOptions& opts,
                       const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) {
  std::string q = "?watch=true";
  add_query(q, "labelSelector", opts.label_selector);
  add_query(q, "fieldSelector", opts.field_selector);
  add_query(q, "resourceVersion", opts.resource_version);
  if (opts.allow_bookmarks) add_query(q, "allowWatchBookmarks", "true");
  if (opts.timeout_seconds > 0) add_query(q, "timeoutSeconds", std::to_string(opts.timeout_seconds));
  impl_->watch(gvr.collection_path(ns) + q, on_event, stop);
}

json RestClient::create(const Gvr& gvr, const std::string& ns, const json& body) {
  return impl_->call("POST", gvr.collection_path(ns), &body);
}

json RestClient::update(const ObjectRef& ref, const json& body) { return impl_->call("PUT", ref.path(), &body); }

json RestClient::update_status(const ObjectRef& ref, const json& body) {
  return impl_->call("PUT", ref.path() + "/status", &body);
}

json RestClient::patch(const ObjectRef& ref, PatchType type, const json& body, const PatchOptions& opts) {
  return impl_->do_patch(ref.path(), type, body, opts);
}

json RestClient::patch_status(const ObjectRef& ref, PatchType type, const json& body, const PatchOptions& opts) {
  return impl_->do_patch(ref.path() + "/status", type, body, opts);
}

bool RestClient::remove(const ObjectRef& ref, const DeleteOptions& opts) {
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  switch (opts.propagation) {
    case Propagation::Default: break;
    case Propagation::Background: body["propagationPolicy"] = "Background"; break;
    case Propagation::Foreground: body["propagationPolicy"] = "Foreground"; break;
    case Propagation::Orphan: body["propagationPolicy"] = "Orphan"; break;
  }
  if (!opts.precondition_uid.empty()) body["preconditions"]["uid"] = opts.precondition_uid;
  if (!opts.precondition_resource_version.empty())
    body["preconditions"]["resourceVersion"] = opts.precondition_resource_version;
  try {
    impl_->call("DELETE", ref.path(), &body);
    return true;
  } catch (const ApiError& e) {
    if (e.is_not_found()) return false;
    throw;
  }
}

json RestClient::server_version() { return impl_->call("GET", "/version"); }

Gvr RestClient::resolve(const std::string& api_version, const std::string& kind) {
  const auto slash = api_version.find('/');
  Gvr gvr;
  gvr.group = slash == std::string::npos ? "" : api_version.substr(0, slash);
  gvr.version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
  const std::string path = gvr.group.empty() ? "/api/" + gvr.version : "/apis/" + api_version;
  json resources;
  {
    std::lock_guard lock(impl_->discovery_mu);
    if (const auto it = impl_->discovery.find(api_version); it != impl_->discovery.end()) resources = it->second;
  }
  const bool cached = !resources.is_null();
  for (int pass = 0; pass < 2; ++pass) {
    if (pass == 1 && !cached) break;  // freshly read already: a second read would say the same
    if (pass == 1 || !cached) {
      resources = impl_->call("GET", path).value("resources", json::array());
      std::lock_guard lock(impl_->discovery_mu);
      impl_->discovery[api_version] = resources;
    }
    for (const auto& r : resources) {
      const std::string name = r.value("name", "");
      if (r.value("kind", "") == kind && name.find('/') == std::string::npos) {
        gvr.resource = name;
        gvr.namespaced = r.value("namespaced", true);
        return gvr;
      }
    }
  }
  throw std::runtime_error("GET " + path + ": kind " + kind + " is not served by " + api_version);
}

}  // namespace kubert
