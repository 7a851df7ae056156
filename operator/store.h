// A thread-safe cache of objects of one type, keyed "ns/name", indexed by namespace and by label.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace kubert {

class LabelSelector;
using ObjectPtr = std::shared_ptr<const nlohmann::json>;

class Store {
 public:
  // nullptr when absent. Cluster-scoped objects have ns "".
  ObjectPtr get(const std::string& ns, const std::string& name) const;
  // Sorted by namespace then name. ns "": every namespace.
  std::vector<ObjectPtr> list(const std::string& ns = "") const;
  std::vector<ObjectPtr> list_by_label(const std::string& key, const std::string& value) const;
  std::vector<ObjectPtr> list_by_selector(const LabelSelector& selector, const std::string& ns = "") const;
  std::vector<std::string> keys() const;  // "ns/name" (or "name"), sorted
  std::size_t size() const;

  // Mutators, for the informer. Each returns the object it replaced or removed (nullptr: none).
  ObjectPtr upsert(ObjectPtr obj);
  ObjectPtr remove(const std::string& ns, const std::string& name);

  static std::string key_of(const std::string& ns, const std::string& name);
  static std::string key_of(const nlohmann::json& obj);

 private:
  void unindex_locked(const std::string& key, const nlohmann::json& obj);
  void index_locked(const std::string& key, const nlohmann::json& obj);

  mutable std::shared_mutex mu_;
  std::map<std::string, ObjectPtr> objects_;
  std::unordered_map<std::string, std::set<std::string>> by_namespace_;
  std::unordered_map<std::string, std::set<std::string>> by_label_;  // "key=value" → object keys
};

}  // namespace kubert
