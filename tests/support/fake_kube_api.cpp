// FakeKubeApi: objects in a map, a global resourceVersion counter, a change history that watches replay.
#include "support/fake_kube_api.h"

#include <mutex>
#include <stdexcept>
#include <thread>

#include "operator/clock.h"
#include "operator/label_selector.h"

namespace kubert {
namespace {

json without_meta_and_status(const json& obj) {
  json j = obj;
  if (j.is_object()) {
    j.erase("metadata");
    j.erase("status");
  }
  return j;
}

std::string meta_string(const json& obj, const char* field) {
  if (!obj.is_object() || !obj.contains("metadata") || !obj["metadata"].is_object()) return {};
  const json& m = obj["metadata"];
  if (!m.contains(field) || !m[field].is_string()) return {};
  return m[field].get<std::string>();
}

long rv_number(const std::string& rv) {
  try {
    return std::stol(rv);
  } catch (const std::exception&) {
    return -1;
  }
}

bool field_selector_matches(const std::string& sel, const json& obj) {
  if (sel.empty()) return true;
  std::size_t start = 0;
  while (start <= sel.size()) {
    std::size_t end = sel.find(',', start);
    if (end == std::string::npos) end = sel.size();
    const std::string term = sel.substr(start, end - start);
    start = end + 1;
    if (term.empty()) continue;
    bool negate = false;
    std::size_t pos = term.find("!=");
    std::size_t vpos;
    if (pos != std::string::npos) {
      negate = true;
      vpos = pos + 2;
    } else if ((pos = term.find("==")) != std::string::npos) {
      vpos = pos + 2;
    } else if ((pos = term.find('=')) != std::string::npos) {
      vpos = pos + 1;
    } else {
      throw std::invalid_argument("field selector term \"" + term + "\"");
    }
    const std::string field = term.substr(0, pos), value = term.substr(vpos);
    std::string actual;
    if (field == "metadata.name") {
      actual = meta_string(obj, "name");
    } else if (field == "metadata.namespace") {
      actual = meta_string(obj, "namespace");
    } else {
      throw std::invalid_argument("field selector: unsupported field \"" + field + "\"");
    }
    if ((actual == value) == negate) return false;
  }
  return true;
}

bool selected(const json& obj, const LabelSelector& labels, const std::string& fields) {
  const json* l = nullptr;
  if (obj.contains("metadata") && obj["metadata"].contains("labels")) l = &obj["metadata"]["labels"];
  return labels.matches(l ? *l : json(nullptr)) && field_selector_matches(fields, obj);
}

bool in_scope(const Gvr& want, const std::string& ns, const Gvr& gvr, const json& obj) {
  return want == gvr && (ns.empty() || meta_string(obj, "namespace") == ns);
}

ApiError status_error(int code, const std::string& reason, const std::string& message, const std::string& verb,
                      const std::string& path) {
  return ApiError(code, reason, message, verb, path);
}

}  // namespace

FakeKubeApi::FakeKubeApi() = default;
FakeKubeApi::~FakeKubeApi() = default;

std::string FakeKubeApi::key_of(const ObjectRef& ref) { return ref.gvr.str() + "|" + ref.ns + "|" + ref.name; }

void FakeKubeApi::check_failure_locked(const std::string& verb, const std::string& path) {
  auto it = failures_.find(verb);
  if (it == failures_.end() || it->second.empty()) return;
  ApiError err = it->second.front();
  it->second.pop_front();
  throw err;
}

void FakeKubeApi::before_write_hook(const std::string& verb, const ObjectRef& ref) {
  std::function<void(const std::string&, const ObjectRef&)> hook;
  {
    std::lock_guard lock(mu_);
    check_failure_locked(verb, ref.path());
    hook = before_write;
  }
  if (hook) hook(verb, ref);
}

void FakeKubeApi::fail_next(const std::string& verb, const ApiError& err) {
  std::lock_guard lock(mu_);
  failures_[verb].push_back(err);
}

std::vector<FakeKubeApi::Write> FakeKubeApi::writes() const {
  std::lock_guard lock(mu_);
  return writes_;
}

void FakeKubeApi::clear_writes() {
  std::lock_guard lock(mu_);
  writes_.clear();
}

std::vector<FakeKubeApi::WatchCall> FakeKubeApi::watch_calls() const {
  std::lock_guard lock(mu_);
  return watch_calls_;
}

std::vector<FakeKubeApi::ListCall> FakeKubeApi::list_calls() const {
  std::lock_guard lock(mu_);
  return list_calls_;
}

void FakeKubeApi::emit_locked(const Gvr& gvr, const std::string& type, json obj, bool pushed) {
  history_.push_back(Event{gvr, type, std::make_shared<const json>(std::move(obj)), rv_, pushed, watch_seq_});
  cv_.notify_all();
}

json FakeKubeApi::store_locked(const ObjectRef& ref, json obj, const json* old) {
  ++rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(rv_);
  const std::string key = key_of(ref);
  // The last finalizer removed from an object being deleted: the server deletes it now.
  const json& meta = obj["metadata"];
  const bool finalizers_empty = !meta.contains("finalizers") || meta["finalizers"].empty();
  if (old && meta.contains("deletionTimestamp") && finalizers_empty) {
    objects_.erase(key);
    emit_locked(ref.gvr, "DELETED", obj, false);
    return obj;
  }
  objects_[key] = Stored{ref, obj};
  emit_locked(ref.gvr, old ? "MODIFIED" : "ADDED", obj, false);
  return obj;
}

void FakeKubeApi::erase_locked(const ObjectRef& ref) {
  auto it = objects_.find(key_of(ref));
  if (it == objects_.end()) return;
  json obj = std::move(it->second.obj);
  objects_.erase(it);
  ++rv_;
  obj["metadata"]["resourceVersion"] = std::to_string(rv_);
  emit_locked(ref.gvr, "DELETED", std::move(obj), false);
}

void FakeKubeApi::before_read_hook(const std::string& verb) {
  std::function<void(const std::string&)> hook;
  {
    std::lock_guard lock(mu_);
    hook = before_read;
  }
  if (hook) hook(verb);
}

std::optional<json> FakeKubeApi::get(const ObjectRef& ref) {
  before_read_hook("get");
  std::lock_guard lock(mu_);
  check_failure_locked("get", ref.path());
  auto it = objects_.find(key_of(ref));
  if (it == objects_.end()) return std::nullopt;
  return it->second.obj;
}

std::optional<json> FakeKubeApi::peek(const ObjectRef& ref) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key_of(ref));
  if (it == objects_.end()) return std::nullopt;
  return it->second.obj;
}

json FakeKubeApi::list(const Gvr& gvr, const std::string& ns, const ListOptions& opts) {
  before_read_hook("list");
  std::lock_guard lock(mu_);
  list_calls_.push_back({gvr, ns, opts});
  check_failure_locked("list", gvr.collection_path(ns));
  const LabelSelector sel = LabelSelector::parse(opts.label_selector);
  json items = json::array();
  for (const auto& [key, s] : objects_) {
    if (in_scope(gvr, ns, s.ref.gvr, s.obj) && selected(s.obj, sel, opts.field_selector)) {
      items.push_back(s.obj);
      if (opts.item_transform) opts.item_transform(items.back());
    }
  }
  return json{{"apiVersion", gvr.api_version()},
              {"kind", "List"},
              {"metadata", {{"resourceVersion", std::to_string(rv_)}}},
              {"items", std::move(items)}};
}

void FakeKubeApi::watch(const Gvr& gvr, const std::string& ns, const WatchOptions& opts,
                        const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) {
  before_read_hook("watch");
  const LabelSelector sel = LabelSelector::parse(opts.label_selector);
  const std::string path = gvr.collection_path(ns) + "?watch=true";
  std::deque<std::pair<std::string, std::shared_ptr<const json>>> initial;
  std::size_t pos = 0;
  long start_rv = 0;
  long epoch = 0;
  long my_seq = 0;
  {
    std::lock_guard lock(mu_);
    watch_calls_.push_back({gvr, ns, opts});
    cv_.notify_all();
    check_failure_locked("watch", path);
    epoch = close_epoch_;
    my_seq = ++watch_seq_;
    if (opts.resource_version.empty()) {
      // "Most recent": the current state as ADDED events, then live changes.
      for (const auto& [key, s] : objects_) {
        if (in_scope(gvr, ns, s.ref.gvr, s.obj) && selected(s.obj, sel, opts.field_selector)) {
          initial.emplace_back("ADDED", std::make_shared<const json>(s.obj));
        }
      }
      pos = history_.size();
      start_rv = rv_;
    } else {
      start_rv = rv_number(opts.resource_version);
      if (start_rv < 0) throw status_error(400, "BadRequest", "invalid resourceVersion", "WATCH", path);
      if (start_rv < compacted_rv_) {
        throw status_error(410, "Expired", "too old resource version: " + opts.resource_version, "WATCH", path);
      }
    }
    ++watchers_;
    cv_.notify_all();
  }
  struct Leave {
    FakeKubeApi* self;
    ~Leave() {
      std::lock_guard lock(self->mu_);
      --self->watchers_;
      self->cv_.notify_all();
    }
  } leave{this};
  std::stop_callback wake(stop, [this] {
    std::lock_guard lock(mu_);
    cv_.notify_all();
  });

  auto deliver = [&](const std::string& type, const json& obj) {
    if (type == "ERROR" && obj.is_object() && obj.value("kind", "") == "Status") {
      throw status_error(obj.value("code", 500), obj.value("reason", ""), obj.value("message", ""), "WATCH", path);
    }
    return on_event(WatchEvent{type, obj});
  };
  for (auto& [type, obj] : initial) {
    if (stop.stop_requested() || !deliver(type, *obj)) return;
  }
  for (;;) {
    std::pair<std::string, std::shared_ptr<const json>> next;
    {
      std::unique_lock lock(mu_);
      for (;;) {
        if (stop.stop_requested()) return;
        bool found = false;
        while (pos < history_.size()) {
          const Event& e = history_[pos++];
          if (!(e.rv > start_rv || (e.pushed && e.rv >= start_rv))) continue;
          if (e.type == "BOOKMARK") {
            if (e.gvr == gvr && opts.allow_bookmarks) {
              next = {e.type, e.object};
              found = true;
              break;
            }
            continue;
          }
          if (e.type == "ERROR") {
            if (e.gvr == gvr && my_seq <= e.last_watch) {
              next = {e.type, e.object};
              found = true;
              break;
            }
            continue;
          }
          if (in_scope(gvr, ns, e.gvr, *e.object) && selected(*e.object, sel, opts.field_selector)) {
            next = {e.type, e.object};
            found = true;
            break;
          }
        }
        if (found) break;
        // Closed: what was queued before the close has been delivered, as a server flushing its stream.
        if (close_epoch_ != epoch) return;
        cv_.wait(lock);
      }
    }
    if (!deliver(next.first, *next.second)) return;
  }
}

json FakeKubeApi::create_locked(const Gvr& gvr, const std::string& ns, json body, const std::string& verb) {
  if (!body.is_object()) throw status_error(400, "BadRequest", "body is not an object", verb, gvr.collection_path(ns));
  json& meta = body["metadata"];
  std::string name = meta.value("name", "");
  if (name.empty() && meta.contains("generateName")) {
    name = meta["generateName"].get<std::string>() + std::to_string(++uid_counter_);
    meta["name"] = name;
  }
  const std::string path = gvr.collection_path(ns);
  if (name.empty()) throw status_error(422, "Invalid", "metadata.name: Required value", verb, path);
  const std::string obj_ns = gvr.namespaced ? (ns.empty() ? meta.value("namespace", "") : ns) : "";
  if (gvr.namespaced && obj_ns.empty()) throw status_error(422, "Invalid", "metadata.namespace: Required", verb, path);
  const ObjectRef ref{gvr, obj_ns, name};
  if (objects_.count(key_of(ref))) {
    throw status_error(409, "AlreadyExists", gvr.resource + " \"" + name + "\" already exists", verb, ref.path());
  }
  if (gvr.namespaced) meta["namespace"] = obj_ns;
  meta["uid"] = "uid-" + std::to_string(++uid_counter_);
  meta["generation"] = 1;
  meta["creationTimestamp"] = "2027-01-15T08:00:00Z";
  meta.erase("deletionTimestamp");
  return store_locked(ref, std::move(body), nullptr);
}

json FakeKubeApi::create(const Gvr& gvr, const std::string& ns, const json& body) {
  std::string name = body.contains("metadata") ? meta_string(body, "name") : "";
  const ObjectRef ref{gvr, gvr.namespaced ? (ns.empty() ? meta_string(body, "namespace") : ns) : "", name};
  before_write_hook("create", ref);
  std::lock_guard lock(mu_);
  json out = create_locked(gvr, ns, body, "POST");
  writes_.push_back({"create", ObjectRef{gvr, ref.ns, meta_string(out, "name")}, body});
  return out;
}

namespace {

// The parts of metadata the server owns, carried over whatever the client sent.
void keep_server_fields(json& next, const json& cur) {
  for (const char* f : {"uid", "creationTimestamp", "generation", "name", "namespace", "deletionTimestamp"}) {
    if (cur["metadata"].contains(f)) {
      next["metadata"][f] = cur["metadata"][f];
    } else {
      next["metadata"].erase(f);
    }
  }
}

void check_rv(const json& body, const json& cur, const std::string& verb, const ObjectRef& ref) {
  const std::string want = meta_string(body, "resourceVersion");
  if (!want.empty() && want != meta_string(cur, "resourceVersion")) {
    throw ApiError(409, "Conflict",
                   "Operation cannot be fulfilled on " + ref.gvr.resource + " \"" + ref.name +
                       "\": the object has been modified; please apply your changes to the latest version and try again",
                   verb, ref.path());
  }
}

}  // namespace

json FakeKubeApi::update(const ObjectRef& ref, const json& body) {
  before_write_hook("update", ref);
  std::lock_guard lock(mu_);
  auto it = objects_.find(key_of(ref));
  if (it == objects_.end()) throw status_error(404, "NotFound", ref.gvr.resource + " \"" + ref.name + "\" not found", "PUT", ref.path());
  const json cur = it->second.obj;
  check_rv(body, cur, "PUT", ref);
  json next = body;
  if (!next.contains("metadata") || !next["metadata"].is_object()) next["metadata"] = json::object();
  keep_server_fields(next, cur);
  if (cur.contains("status")) next["status"] = cur["status"]; else next.erase("status");
  if (without_meta_and_status(next) != without_meta_and_status(cur)) {
    next["metadata"]["generation"] = cur["metadata"].value("generation", 1) + 1;
  }
  json out = store_locked(ref, std::move(next), &cur);
  writes_.push_back({"update", ref, body});
  return out;
}

json FakeKubeApi::update_status(const ObjectRef& ref, const json& body) {
  before_write_hook("update_status", ref);
  std::lock_guard lock(mu_);
  auto it = objects_.find(key_of(ref));
  if (it == objects_.end()) throw status_error(404, "NotFound", ref.gvr.resource + " \"" + ref.name + "\" not found", "PUT", ref.path() + "/status");
  const json cur = it->second.obj;
  check_rv(body, cur, "PUT", ref);
  json next = cur;
  if (body.contains("status")) next["status"] = body["status"]; else next.erase("status");
  json out = store_locked(ref, std::move(next), &cur);
  writes_.push_back({"update_status", ref, body});
  return out;
}

json FakeKubeApi::apply_patch(const json& current, PatchType type, const json& patch, const ObjectRef& ref,
                              const std::string& verb) const {
  try {
    if (type == PatchType::Json) return current.patch(patch);
    json out = current;
    out.merge_patch(patch);
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw ApiError(422, "Invalid", std::string("the patch cannot be applied: ") + e.what(), verb, ref.path());
  }
}

json FakeKubeApi::patch(const ObjectRef& ref, PatchType type, const json& body, const PatchOptions& opts) {
  before_write_hook("patch", ref);
  std::lock_guard lock(mu_);
  auto it = objects_.find(key_of(ref));
  if (it == objects_.end()) {
    if (type == PatchType::Apply) {
      // Server-side apply creates what is not there.
      json obj = body;
      obj["metadata"]["name"] = ref.name;
      json out = create_locked(ref.gvr, ref.ns, std::move(obj), "PATCH");
      writes_.push_back({"patch", ref, body});
      return out;
    }
    throw status_error(404, "NotFound", ref.gvr.resource + " \"" + ref.name + "\" not found", "PATCH", ref.path());
  }
  const json cur = it->second.obj;
  if (type != PatchType::Json) check_rv(body, cur, "PATCH", ref);
  json next = apply_patch(cur, type, body, ref, "PATCH");
  if (type == PatchType::Json) check_rv(next, cur, "PATCH", ref);
  if (!next.contains("metadata") || !next["metadata"].is_object()) next["metadata"] = json::object();
  keep_server_fields(next, cur);
  if (cur.contains("status")) next["status"] = cur["status"]; else next.erase("status");
  if (without_meta_and_status(next) != without_meta_and_status(cur)) {
    next["metadata"]["generation"] = cur["metadata"].value("generation", 1) + 1;
  }
  json out = store_locked(ref, std::move(next), &cur);
  writes_.push_back({"patch", ref, body});
  return out;
}

json FakeKubeApi::patch_status(const ObjectRef& ref, PatchType type, const json& body, const PatchOptions& opts) {
  before_write_hook("patch_status", ref);
  std::lock_guard lock(mu_);
  auto it = objects_.find(key_of(ref));
  if (it == objects_.end()) throw status_error(404, "NotFound", ref.gvr.resource + " \"" + ref.name + "\" not found", "PATCH", ref.path() + "/status");
  const json cur = it->second.obj;
  if (type != PatchType::Json) check_rv(body, cur, "PATCH", ref);
  const json patched = apply_patch(cur, type, body, ref, "PATCH");
  json next = cur;
  if (patched.contains("status")) next["status"] = patched["status"]; else next.erase("status");
  json out = store_locked(ref, std::move(next), &cur);
  writes_.push_back({"patch_status", ref, body});
  return out;
}

bool FakeKubeApi::remove(const ObjectRef& ref, const DeleteOptions& opts) {
  before_write_hook("delete", ref);
  std::lock_guard lock(mu_);
  auto it = objects_.find(key_of(ref));
  if (it == objects_.end()) return false;
  const json cur = it->second.obj;
  if ((!opts.precondition_uid.empty() && opts.precondition_uid != meta_string(cur, "uid")) ||
      (!opts.precondition_resource_version.empty() &&
       opts.precondition_resource_version != meta_string(cur, "resourceVersion"))) {
    throw status_error(409, "Conflict", "Precondition failed", "DELETE", ref.path());
  }
  writes_.push_back({"delete", ref, json(nullptr)});
  const json& meta = cur["metadata"];
  if (meta.contains("finalizers") && !meta["finalizers"].empty()) {
    if (!meta.contains("deletionTimestamp")) {
      json next = cur;
      next["metadata"]["deletionTimestamp"] = "2027-01-15T08:00:00Z";
      store_locked(ref, std::move(next), &cur);
    }
    return true;
  }
  erase_locked(ref);
  return true;
}

json FakeKubeApi::server_version() {
  return json{{"major", "1"}, {"minor", "29"}, {"gitVersion", "v1.29.0"}, {"platform", "linux/amd64"}};
}

json FakeKubeApi::put(const Gvr& gvr, json obj) {
  std::lock_guard lock(mu_);
  const ObjectRef ref{gvr, gvr.namespaced ? meta_string(obj, "namespace") : "", meta_string(obj, "name")};
  auto it = objects_.find(key_of(ref));
  if (it == objects_.end()) {
    json& meta = obj["metadata"];
    if (!meta.contains("uid")) meta["uid"] = "uid-" + std::to_string(++uid_counter_);
    if (!meta.contains("generation")) meta["generation"] = 1;
    if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = "2027-01-15T08:00:00Z";
    return store_locked(ref, std::move(obj), nullptr);
  }
  const json cur = it->second.obj;
  return store_locked(ref, std::move(obj), &cur);
}

void FakeKubeApi::push_event(const Gvr& gvr, const std::string& type, const json& object) {
  std::lock_guard lock(mu_);
  emit_locked(gvr, type, object, true);
}

void FakeKubeApi::close_watches() {
  std::lock_guard lock(mu_);
  ++close_epoch_;
  cv_.notify_all();
}

void FakeKubeApi::compact() {
  std::lock_guard lock(mu_);
  compacted_rv_ = rv_;
}

bool FakeKubeApi::wait_for_watches(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return watchers_ >= n; });
}

bool FakeKubeApi::wait_for_watch_calls(std::size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return watch_calls_.size() >= n; });
}

std::size_t FakeKubeApi::open_watches() const {
  std::lock_guard lock(mu_);
  return watchers_;
}

std::string FakeKubeApi::current_resource_version() const {
  std::lock_guard lock(mu_);
  return std::to_string(rv_);
}

}  // namespace kubert
