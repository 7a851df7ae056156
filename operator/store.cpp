// Store: the informer's cache with its namespace and label indexes kept in step on every change.
#include "operator/store.h"

#include <mutex>

#include <nlohmann/json.hpp>

#include "operator/label_selector.h"

namespace kubert {
namespace {

std::string meta(const nlohmann::json& obj, const char* field) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return {};
  auto f = m->find(field);
  return f != m->end() && f->is_string() ? f->get<std::string>() : std::string();
}

template <typename F>
void for_each_label(const nlohmann::json& obj, F&& f) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return;
  auto labels = m->find("labels");
  if (labels == m->end() || !labels->is_object()) return;
  for (auto it = labels->begin(); it != labels->end(); ++it) {
    if (it.value().is_string()) f(it.key() + "=" + it.value().get<std::string>());
  }
}

}  // namespace

std::string Store::key_of(const std::string& ns, const std::string& name) {
  return ns.empty() ? name : ns + "/" + name;
}

std::string Store::key_of(const nlohmann::json& obj) { return key_of(meta(obj, "namespace"), meta(obj, "name")); }

ObjectPtr Store::get(const std::string& ns, const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = objects_.find(key_of(ns, name));
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Store::list(const std::string& ns) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  if (ns.empty()) {
    out.reserve(objects_.size());
    for (const auto& [key, obj] : objects_) out.push_back(obj);
    return out;
  }
  auto it = by_namespace_.find(ns);
  if (it == by_namespace_.end()) return out;
  for (const std::string& key : it->second) out.push_back(objects_.at(key));
  return out;
}

std::vector<ObjectPtr> Store::list_by_label(const std::string& key, const std::string& value) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto it = by_label_.find(key + "=" + value);
  if (it == by_label_.end()) return out;
  for (const std::string& k : it->second) out.push_back(objects_.at(k));
  return out;
}

std::vector<ObjectPtr> Store::list_by_selector(const LabelSelector& selector, const std::string& ns) const {
  std::vector<ObjectPtr> out;
  for (ObjectPtr& obj : list(ns)) {
    const nlohmann::json* labels = nullptr;
    auto m = obj->find("metadata");
    if (m != obj->end() && m->contains("labels")) labels = &(*m)["labels"];
    if (selector.matches(labels ? *labels : nlohmann::json(nullptr))) out.push_back(std::move(obj));
  }
  return out;
}

std::vector<std::string> Store::keys() const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  out.reserve(objects_.size());
  for (const auto& [key, obj] : objects_) out.push_back(key);
  return out;
}

std::size_t Store::size() const {
  std::shared_lock lock(mu_);
  return objects_.size();
}

void Store::unindex_locked(const std::string& key, const nlohmann::json& obj) {
  const std::string ns = meta(obj, "namespace");
  if (auto it = by_namespace_.find(ns); it != by_namespace_.end()) {
    it->second.erase(key);
    if (it->second.empty()) by_namespace_.erase(it);
  }
  for_each_label(obj, [&](const std::string& kv) {
    if (auto it = by_label_.find(kv); it != by_label_.end()) {
      it->second.erase(key);
      if (it->second.empty()) by_label_.erase(it);
    }
  });
}

void Store::index_locked(const std::string& key, const nlohmann::json& obj) {
  by_namespace_[meta(obj, "namespace")].insert(key);
  for_each_label(obj, [&](const std::string& kv) { by_label_[kv].insert(key); });
}

ObjectPtr Store::upsert(ObjectPtr obj) {
  const std::string key = key_of(*obj);
  std::unique_lock lock(mu_);
  ObjectPtr old;
  auto it = objects_.find(key);
  if (it != objects_.end()) {
    old = it->second;
    unindex_locked(key, *old);
  }
  index_locked(key, *obj);
  objects_[key] = std::move(obj);
  return old;
}

ObjectPtr Store::remove(const std::string& ns, const std::string& name) {
  const std::string key = key_of(ns, name);
  std::unique_lock lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr old = std::move(it->second);
  objects_.erase(it);
  unindex_locked(key, *old);
  return old;
}

}  // namespace kubert
