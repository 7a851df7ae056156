// An in-memory KubeApi for unit tests: behaves like the API server where controllers can tell.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "operator/errors.h"
#include "operator/kube_api.h"

namespace kubert {

// What FakeKubeApi does, as the real server does:
// - resourceVersion from one global counter on every change; metadata.generation starts at 1 and bumps
//   when anything outside metadata and status changes; uid and creationTimestamp set on create.
// - update / patch of the main resource keep the stored status (a status subresource); update_status /
//   patch_status change only status. A body carrying metadata.resourceVersion that is not current → 409.
// - Merge and JSON patches are applied; Strategic is treated as Merge; Apply as Merge (and creates).
// - remove() of an object with finalizers sets deletionTimestamp; it goes once the finalizers are cleared.
// - list filters by label selector and metadata.name / metadata.namespace field selectors.
// - watch() replays changes after the given resourceVersion, then streams live ones until stop,
//   on_event returning false, or close_watches() (which first flushes what was
//   already queued). An ERROR event whose object is a Status throws ApiError.
//   A resourceVersion older than compact() → 410 Gone.
class FakeKubeApi : public KubeApi {
 public:
  struct Write {
    std::string verb;  // create, update, update_status, patch, patch_status, delete
    ObjectRef ref;
    json body;         // what the caller sent (for patch: the patch)
  };
  struct WatchCall {
    Gvr gvr;
    std::string ns;
    WatchOptions opts;
  };
  struct ListCall {
    Gvr gvr;
    std::string ns;
    ListOptions opts;
  };

  FakeKubeApi();
  ~FakeKubeApi() override;

  // KubeApi
  std::optional<json> get(const ObjectRef& ref) override;
  json list(const Gvr& gvr, const std::string& ns, const ListOptions& opts) override;
  void watch(const Gvr& gvr, const std::string& ns, const WatchOptions& opts,
             const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) override;
  json create(const Gvr& gvr, const std::string& ns, const json& body) override;
  json update(const ObjectRef& ref, const json& body) override;
  json update_status(const ObjectRef& ref, const json& body) override;
  json patch(const ObjectRef& ref, PatchType type, const json& body, const PatchOptions& opts = {}) override;
  json patch_status(const ObjectRef& ref, PatchType type, const json& body, const PatchOptions& opts = {}) override;
  bool remove(const ObjectRef& ref, const DeleteOptions& opts = {}) override;
  json server_version() override;

  // Test controls.
  // Called before every write (verb as in Write::verb); throw from it to fail the write.
  std::function<void(const std::string& verb, const ObjectRef&)> before_write;
  // Called before every read (get, list, watch), outside the fake's lock: a test may change objects here.
  std::function<void(const std::string& verb)> before_read;
  // The next call of verb (a write verb, or get / list / watch) throws err instead.
  void fail_next(const std::string& verb, const ApiError& err);
  // Every write that passed before_write / fail_next, in order (failed ones are not recorded).
  std::vector<Write> writes() const;
  void clear_writes();
  std::vector<WatchCall> watch_calls() const;
  std::vector<ListCall> list_calls() const;

  // Stores an object as is (creating or replacing), without recording a write; watches see it.
  json put(const Gvr& gvr, json obj);
  // Reads an object without counting as a call.
  std::optional<json> peek(const ObjectRef& ref) const;
  // Queues an event to the open watches of gvr (and to later watches that start before it); BOOKMARK
  // objects need only metadata.resourceVersion; ERROR objects are Status objects.
  void push_event(const Gvr& gvr, const std::string& type, const json& object);
  // Ends every open watch normally, as a server closing the stream does.
  void close_watches();
  // Forgets history: a watch from a resourceVersion before now gets 410 Gone.
  void compact();
  // Blocks until at least n watches are open (total, any type), or the deadline passes.
  bool wait_for_watches(std::size_t n, std::chrono::milliseconds timeout) const;
  // Blocks until watch() has been called at least n times in all, or the deadline passes.
  bool wait_for_watch_calls(std::size_t n, std::chrono::milliseconds timeout) const;
  std::size_t open_watches() const;
  std::string current_resource_version() const;

 private:
  struct Event {
    Gvr gvr;
    std::string type;
    std::shared_ptr<const json> object;
    long rv;          // the change's resourceVersion (pushed events: the current one at push time)
    bool pushed;
    long last_watch;  // ERROR events reach only watches opened before the push, never a replay
  };
  struct Stored {
    ObjectRef ref;
    json obj;
  };

  static std::string key_of(const ObjectRef& ref);
  void check_failure_locked(const std::string& verb, const std::string& path);
  void before_read_hook(const std::string& verb);
  void before_write_hook(const std::string& verb, const ObjectRef& ref);
  json store_locked(const ObjectRef& ref, json obj, const json* old);  // bumps rv, emits an event
  void erase_locked(const ObjectRef& ref);
  void emit_locked(const Gvr& gvr, const std::string& type, json obj, bool pushed);
  json create_locked(const Gvr& gvr, const std::string& ns, json body, const std::string& verb);
  json apply_patch(const json& current, PatchType type, const json& patch, const ObjectRef& ref,
                   const std::string& verb) const;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, Stored> objects_;
  long rv_ = 100;
  long compacted_rv_ = 0;
  long uid_counter_ = 0;
  std::vector<Event> history_;
  std::size_t watchers_ = 0;
  long close_epoch_ = 0;
  long watch_seq_ = 0;
  std::map<std::string, std::deque<ApiError>> failures_;
  std::vector<Write> writes_;
  std::vector<WatchCall> watch_calls_;
  std::vector<ListCall> list_calls_;
};

}  // namespace kubert
