// Paths of resource types and objects, as the API server lays them out.
#include "operator/kube_api.h"

namespace kubert {

std::string Gvr::collection_path(const std::string& ns) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + ns;
  return p + "/" + resource;
}

std::string ObjectRef::path() const { return gvr.collection_path(ns) + "/" + name; }

std::string ObjectRef::str() const { return gvr.str() + " " + (ns.empty() ? name : ns + "/" + name); }

}  // namespace kubert
