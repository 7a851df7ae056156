// The informer's loop: list, watch from the list's resourceVersion, resume or re-list, back off on failures.
#include "operator/informer.h"

#include <random>

#include <nlohmann/json.hpp>

#include "operator/errors.h"

namespace kubert {
namespace {

std::string rv_of(const json& obj) {
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return {};
  auto rv = m->find("resourceVersion");
  return rv != m->end() && rv->is_string() ? rv->get<std::string>() : std::string();
}

double jitter() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.8, 1.2)(rng);
}

}  // namespace

Informer::Informer(KubeApi& api, InformerOptions opts, const Clock& clock, Logger log)
    : api_(api), opts_(std::move(opts)), clock_(clock),
      log_(log.with({{"resource", opts_.gvr.str()}, {"namespace", opts_.ns}})) {}

Informer::~Informer() { stop(); }

void Informer::add_handler(InformerHandler handler) { handlers_.push_back(std::move(handler)); }

void Informer::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void Informer::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  cv_.notify_all();
  thread_.join();
}

bool Informer::has_synced() const {
  std::lock_guard lock(mu_);
  return synced_;
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return synced_; });
}

std::string Informer::last_resource_version() const {
  std::lock_guard lock(mu_);
  return rv_;
}

json Informer::prepare(const json& object) const {
  json obj = object;
  if (opts_.strip_managed_fields && obj.contains("metadata") && obj["metadata"].is_object()) {
    obj["metadata"].erase("managedFields");
  }
  if (opts_.transform) opts_.transform(obj);
  return obj;
}

void Informer::notify(const json* old_obj, const json* new_obj) {
  for (const InformerHandler& h : handlers_) {
    // A handler's bug must not stop the cache from following the server.
    try {
      h(old_obj, new_obj);
    } catch (const std::exception& e) {
      log_.error("informer handler failed", {{"error", describe(e)}});
    }
  }
}

void Informer::relist() {
  ListOptions lo;
  lo.label_selector = opts_.label_selector;
  lo.field_selector = opts_.field_selector;
  lo.item_transform = [this](json& item) { item = prepare(item); };  // page by page: never the whole list raw
  json list = api_.list(opts_.gvr, opts_.ns, lo);
  if (lists_++ > 0) ++relists_;
  std::set<std::string> seen;
  auto it = list.find("items");
  json items = it != list.end() && it->is_array() ? std::move(*it) : json::array();
  list.erase("items");
  for (json& item : items) {
    auto obj = std::make_shared<const json>(std::move(item));
    seen.insert(Store::key_of(*obj));
    ObjectPtr old = store_.upsert(obj);
    notify(old.get(), obj.get());
  }
  for (const std::string& key : store_.keys()) {
    if (seen.count(key)) continue;
    const auto slash = key.find('/');
    ObjectPtr old = slash == std::string::npos ? store_.remove("", key)
                                                : store_.remove(key.substr(0, slash), key.substr(slash + 1));
    if (old) notify(old.get(), nullptr);
  }
  std::lock_guard lock(mu_);
  rv_ = list.contains("metadata") ? rv_of(list) : std::string();
  synced_ = true;
  cv_.notify_all();
}

void Informer::apply(const std::string& type, const json& object) {
  const std::string rv = rv_of(object);
  if (type == "BOOKMARK") {
    // A bookmark only moves where we resume from; it carries no object change.
  } else if (type == "ADDED" || type == "MODIFIED") {
    auto obj = std::make_shared<const json>(prepare(object));
    ObjectPtr old = store_.upsert(obj);
    notify(old.get(), obj.get());
  } else if (type == "DELETED") {
    const auto& m = object.at("metadata");
    ObjectPtr old = store_.remove(m.value("namespace", ""), m.value("name", ""));
    // Deleted while we were not watching and already gone from the store: nothing to tell.
    if (old) notify(old.get(), nullptr);
  } else {
    log_.warn("ignoring unknown watch event", {{"type", type}});
  }
  if (!rv.empty()) {
    std::lock_guard lock(mu_);
    rv_ = rv;
  }
}

void Informer::watch_once(std::stop_token stop, std::size_t& events) {
  WatchOptions wo;
  wo.label_selector = opts_.label_selector;
  wo.field_selector = opts_.field_selector;
  wo.resource_version = last_resource_version();
  wo.allow_bookmarks = true;
  wo.timeout_seconds = opts_.watch_timeout_seconds > 0
                           ? opts_.watch_timeout_seconds
                           : static_cast<long>(300 * (1.0 + (jitter() - 0.8) * 2.5));
  api_.watch(opts_.gvr, opts_.ns, wo,
             [&](const WatchEvent& e) {
               ++events;
               apply(e.type, e.object);
               return !stop.stop_requested();
             },
             stop);
}

bool Informer::wait_backoff(std::stop_token stop, std::chrono::milliseconds& backoff) {
  const auto wait = std::chrono::milliseconds(static_cast<long>(static_cast<double>(backoff.count()) * jitter()));
  backoff = std::min(backoff * 2, opts_.backoff_cap);
  std::unique_lock lock(mu_);
  // Waits on the stop token, not the Clock: stopping must be prompt and backoff is real time by nature.
  cv_.wait_for(lock, stop, std::min(wait, opts_.backoff_cap), [] { return false; });
  return !stop.stop_requested();
}

void Informer::run(std::stop_token stop) {
  bool need_list = true;
  std::chrono::milliseconds backoff = opts_.backoff_initial;
  int empty_watches = 0;
  while (!stop.stop_requested()) {
    try {
      if (need_list) {
        relist();
        need_list = false;
        backoff = opts_.backoff_initial;
        log_.debug("listed", {{"objects", store_.size()}, {"resourceVersion", last_resource_version()}});
      }
      std::size_t events = 0;
      watch_once(stop, events);
      if (stop.stop_requested()) break;
      // The server ended the watch: resume from the last resourceVersion at once, unless it keeps ending
      // watches without sending anything, which would otherwise spin.
      if (events > 0) {
        empty_watches = 0;
        backoff = opts_.backoff_initial;
      } else if (++empty_watches > 1) {
        if (!wait_backoff(stop, backoff)) break;
      }
    } catch (const ApiError& e) {
      if (stop.stop_requested()) break;
      if (e.is_gone()) {
        // Our resourceVersion is older than the server keeps: only a fresh list can catch up.
        log_.info("watch expired, re-listing", {{"error", describe(e)}});
        if (!need_list) {
          need_list = true;
          continue;
        }
      } else {
        log_.warn(need_list ? "list failed" : "watch failed", {{"error", describe(e)}});
      }
      if (!wait_backoff(stop, backoff)) break;
    } catch (const std::exception& e) {
      if (stop.stop_requested()) break;
      log_.warn(need_list ? "list failed" : "watch failed", {{"error", describe(e)}});
      if (!wait_backoff(stop, backoff)) break;
    }
  }
}

}  // namespace kubert
