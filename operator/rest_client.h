// KubeApi over HTTPS (cpprestsdk behind a pimpl): auth, TLS, rate limit, retries, paging, streamed watches.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "operator/clock.h"
#include "operator/kube_api.h"
#include "operator/kubeconfig.h"

namespace kubert {

// Called once per HTTP attempt (retries included). code 0: no HTTP answer (transport error, timeout,
// cancellation). method is the HTTP verb ("GET" for lists and watches, as client-go counts them).
struct RestClientObserver {
  virtual ~RestClientObserver() = default;
  virtual void on_request(std::string_view method, int code, double seconds) = 0;
};

struct RestClientOptions {
  RestClientObserver* observer = nullptr;  // not owned; must outlive the client
  const Clock* clock = nullptr;            // nullptr: a RealClock owned by the client
  int max_retries = 5;                     // extra attempts after the first (429 any verb; 5xx/transport GET)
  std::chrono::milliseconds backoff_base{250};  // jittered exponential: base * 2^attempt * [0.5, 1.5)
  std::chrono::milliseconds backoff_cap{8000};
  long page_size = 500;                    // list page size when ListOptions.limit is 0
  // Inactivity timeout of watch connections (no bytes at all for this long: the connection is dead).
  // Watches have no overall timeout; keep allowWatchBookmarks or timeoutSeconds below this.
  std::chrono::seconds watch_idle_timeout{std::chrono::minutes(15)};
};

class RestClient final : public KubeApi {
 public:
  // Connects lazily. Throws ConfigError for unusable TLS material. Logs one warning line when
  // cfg.insecure_skip_tls_verify is set.
  explicit RestClient(RestConfig cfg, RestClientOptions opts = {});
  ~RestClient() override;
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

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

  // API discovery: the resource serving `kind` in `api_version` ("v1", "apps/v1"), namespaced or not.
  // Cached per group version; a miss re-reads the group version once (a CRD may have just appeared).
  // Throws ApiError (404: unknown group version) or std::runtime_error (kind not served).
  Gvr resolve(const std::string& api_version, const std::string& kind);

  // Any request: path with query ("/apis/x/v1/...?a=b"), JSON body or null, returns the parsed JSON body
  // (null for an empty body). Same auth, limits, retries and errors as the typed calls.
  json request(const std::string& method, const std::string& path_and_query, const json* body = nullptr,
               const std::string& content_type = "application/json");

  const RestConfig& config() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The Content-Type each patch type is sent with.
const char* patch_content_type(PatchType type) noexcept;

}  // namespace kubert
