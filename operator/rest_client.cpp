// RestClient: one keep-alive cpprestsdk client per server, TLS from memory, rate limit, retries, watches.
#include "operator/rest_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

// cpprestsdk's U() macro breaks fmt (spdlog); we never need it.
#define _TURN_OFF_PLATFORM_STRING
#include <boost/asio/ssl.hpp>
#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <cpprest/uri.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "operator/credentials.h"
#include "operator/rate_limiter.h"
#include "operator/rest_status.h"

namespace kubert {

namespace http = web::http;
using http::client::http_client;
using http::client::http_client_config;

const char* patch_content_type(PatchType type) noexcept {
  switch (type) {
    case PatchType::Merge: return "application/merge-patch+json";
    case PatchType::Json: return "application/json-patch+json";
    case PatchType::Strategic: return "application/strategic-merge-patch+json";
    case PatchType::Apply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

namespace {

std::string path_only(const std::string& path_and_query) { return path_and_query.substr(0, path_and_query.find('?')); }

// Appends "k=v" with the value percent-encoded.
void add_query(std::string& q, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  q += (q.empty() ? "?" : "&") + key + "=" + web::uri::encode_data_string(value);
}

bool is_safe(const std::string& method) { return method == "GET" || method == "HEAD"; }

struct Answer {
  int code = 0;
  std::string body;
};

}  // namespace

struct RestClient::Impl {
  RestConfig cfg;
  RestClientOptions opts;
  RealClock real_clock;
  const Clock& clock;
  CredentialSource creds;
  TokenBucket limiter;
  std::string user_agent;

  // The TLS client identity the ssl context callback installs on each new connection; refreshed before every
  // request so exec-plugin certificates apply to connections opened after they change.
  std::mutex tls_mu;
  std::string tls_cert, tls_key;

  std::unique_ptr<http_client> client;        // requests: keep-alive pool, request timeout
  std::unique_ptr<http_client> watch_client;  // watches: long-lived, inactivity timeout only

  std::mutex discovery_mu;
  std::map<std::string, nlohmann::json> discovery;  // group version -> APIResourceList.resources

  std::mutex rng_mu;
  std::mt19937 rng{std::random_device{}()};

  Impl(RestConfig c, RestClientOptions o)
      : cfg(std::move(c)),
        opts(o),
        clock(o.clock ? *o.clock : real_clock),
        creds(cfg, clock),
        limiter(cfg.qps, cfg.burst, clock),
        user_agent(cfg.user_agent.empty() ? std::string("meshupgrade-operator/") + MESHUPGRADE_VERSION
                                          : cfg.user_agent) {
    tls_cert = cfg.client_cert_pem;
    tls_key = cfg.client_key_pem;
    if (!cfg.tls_server_name.empty())
      spdlog::warn("tls-server-name {} is not supported; verifying the certificate against {}", cfg.tls_server_name,
                   cfg.server);
    if (cfg.insecure_skip_tls_verify)
      spdlog::warn("TLS certificate verification is disabled for {} (insecure-skip-tls-verify)", cfg.server);
    client = make_client(std::chrono::duration_cast<std::chrono::seconds>(cfg.timeout));
    watch_client = make_client(opts.watch_idle_timeout);
  }

  std::unique_ptr<http_client> make_client(std::chrono::seconds timeout) {
    http_client_config hc;
    hc.set_timeout(timeout);
    hc.set_validate_certificates(!cfg.insecure_skip_tls_verify);
    const std::string ca = cfg.ca_pem;
    hc.set_ssl_context_callback([this, ca](boost::asio::ssl::context& ctx) {
      if (!ca.empty()) {
        // Trust only the kubeconfig's CA, not the system store as well (as client-go does).
        SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
        ctx.add_certificate_authority(boost::asio::buffer(ca.data(), ca.size()));
      }
      std::lock_guard lock(tls_mu);
      if (!tls_cert.empty()) {
        ctx.use_certificate_chain(boost::asio::buffer(tls_cert.data(), tls_cert.size()));
        ctx.use_private_key(boost::asio::buffer(tls_key.data(), tls_key.size()), boost::asio::ssl::context::pem);
      }
    });
    try {
      return std::make_unique<http_client>(web::uri(cfg.server), hc);
    } catch (const std::exception& e) {
      throw ConfigError("server \"" + cfg.server + "\" is not a usable URL: " + e.what());
    }
  }

  std::chrono::milliseconds backoff(int attempt) {
    const double base = static_cast<double>(opts.backoff_base.count()) * (1 << std::min(attempt, 16));
    std::lock_guard lock(rng_mu);
    const double jittered = base * std::uniform_real_distribution<double>(0.5, 1.5)(rng);
    return std::chrono::milliseconds(
        static_cast<long long>(std::min(jittered, static_cast<double>(opts.backoff_cap.count()))));
  }

  http::http_request make_request(const std::string& method, const std::string& path_and_query, const json* body,
                                  const std::string& content_type) {
    Credentials c = creds.current();
    {
      std::lock_guard lock(tls_mu);
      tls_cert = c.client_cert_pem;
      tls_key = c.client_key_pem;
    }
    http::http_request req(method);
    req.set_request_uri(path_and_query);
    req.headers().add("User-Agent", user_agent);
    req.headers().add("Accept", "application/json");
    if (!c.token.empty()) req.headers().add("Authorization", "Bearer " + c.token);
    if (body) {
      // Bytes, not std::string: cpprestsdk's string overload reinterprets a char stream buffer as an
      // unsigned char one, which UBSan (rightly) rejects.
      const std::string text = body->dump();
      req.set_body(std::vector<unsigned char>(text.begin(), text.end()));
      req.headers().set_content_type(content_type);
    }
    return req;
  }

  void observe(const std::string& method, int code, std::chrono::steady_clock::time_point start) {
    if (opts.observer)
      opts.observer->on_request(method, code,
                                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }

  // One logical request with rate limiting and retries. Returns the final answer (any code).
  Answer send(const std::string& method, const std::string& path_and_query, const json* body,
              const std::string& content_type) {
    const std::string path = path_only(path_and_query);
    bool reauthed = false;
    for (int attempt = 0;; ++attempt) {
      limiter.acquire();
      const auto start = std::chrono::steady_clock::now();
      Answer a;
      int retry_after = 0;
      try {
        http::http_response resp = client->request(make_request(method, path_and_query, body, content_type)).get();
        a.code = resp.status_code();
        a.body = resp.extract_utf8string(true).get();
        if (const auto it = resp.headers().find("Retry-After"); it != resp.headers().end()) {
          try {
            retry_after = std::max(0, std::stoi(it->second));
          } catch (const std::exception&) {
            retry_after = 0;  // an HTTP date: fall back to our own backoff
          }
        }
      } catch (const ConfigError&) {
        throw;  // credentials could not be obtained: retrying will not help
      } catch (const std::exception& e) {
        observe(method, 0, start);
        if (is_safe(method) && attempt < opts.max_retries) {
          std::this_thread::sleep_for(backoff(attempt));
          continue;
        }
        std::throw_with_nested(std::runtime_error(method + " " + path + ": transport error"));
      }
      observe(method, a.code, start);
      spdlog::debug("{} {} -> {} (attempt {})", method, path, a.code, attempt + 1);
      if (a.code == 401 && !reauthed && creds.refreshable()) {
        // A rotated token or an expired exec credential: fetch anew once.
        reauthed = true;
        creds.invalidate();
        continue;
      }
      // 429 means the request was not processed, so any verb may be retried; 5xx only for safe verbs.
      const bool retryable = a.code == 429 || (a.code >= 500 && is_safe(method));
      if (retryable && attempt < opts.max_retries) {
        const auto wait = retry_after > 0 ? std::chrono::milliseconds(retry_after * 1000LL) : backoff(attempt);
        std::this_thread::sleep_for(wait);
        continue;
      }
      if (a.code >= 400 || a.code < 200) throw api_error_from_response(a.code, a.body, method, path, retry_after);
      return a;
    }
  }

  json call(const std::string& method, const std::string& path_and_query, const json* body = nullptr,
            const std::string& content_type = "application/json") {
    const Answer a = send(method, path_and_query, body, content_type);
    if (a.body.empty()) return nullptr;
    try {
      return json::parse(a.body);
    } catch (const json::exception&) {
      throw std::runtime_error(method + " " + path_only(path_and_query) + ": " + std::to_string(a.code) +
                               " answer is not JSON");
    }
  }

  json do_patch(const std::string& path, PatchType type, const json& body, const PatchOptions& o) {
    std::string q;
    if (type == PatchType::Apply && o.field_manager.empty())
      throw std::invalid_argument("PATCH " + path + ": server-side apply needs a field manager");
    add_query(q, "fieldManager", o.field_manager);
    if (type == PatchType::Apply && o.force) add_query(q, "force", "true");
    return call("PATCH", path + q, &body, patch_content_type(type));
  }

  void watch(const std::string& path_and_query, const std::function<bool(const WatchEvent&)>& on_event,
             std::stop_token stop);
};

void RestClient::Impl::watch(const std::string& path_and_query,
                             const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) {
  const std::string path = path_only(path_and_query);
  if (stop.stop_requested()) return;
  if (!limiter.acquire(stop)) return;
  pplx::cancellation_token_source cts;
  // Cancelling the request closes its connection, which fails the pending body read at once.
  std::stop_callback on_stop(stop, [&cts] { cts.cancel(); });
  const auto start = std::chrono::steady_clock::now();
  http::http_response resp;
  try {
    resp = watch_client->request(make_request("GET", path_and_query, nullptr, ""), cts.get_token()).get();
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception&) {
    observe("GET", 0, start);
    if (stop.stop_requested()) return;
    std::throw_with_nested(std::runtime_error("GET " + path + " (watch): transport error"));
  }
  observe("GET", resp.status_code(), start);
  if (resp.status_code() != 200) {
    std::string body;
    try {
      body = resp.extract_utf8string(true).get();
    } catch (const std::exception&) {
    }
    throw api_error_from_response(resp.status_code(), body, "GET", path);
  }
  // Read from the stream buffer, not the istream: istream reads rethrow a transport error as soon as it is
  // recorded, dropping events that had already arrived; the buffer hands those out first.
  auto in = resp.body().streambuf();
  using traits = concurrency::streams::streambuf<uint8_t>::traits;
  std::string pending;
  std::vector<uint8_t> chunk(16 * 1024);
  bool stopped_by_us = false;
  std::exception_ptr handler_error;
  // Returns false when on_event asked to stop.
  const auto dispatch = [&](const std::string& text) {
    if (text.find_first_not_of(" \r\n\t") == std::string::npos) return true;  // keep-alive blank line
    json ev = json::parse(text, nullptr, false);
    if (!ev.is_object() || !ev.contains("type") || !ev["type"].is_string())
      throw std::runtime_error("GET " + path + " (watch): event is not JSON: " + text.substr(0, 80));
    const std::string type = ev["type"].get<std::string>();
    if (type == "ERROR") {
      const json& obj = ev["object"];
      if (obj.is_object() && obj.value("kind", "") == "Status") throw api_error_from_status(obj, "GET", path);
      throw ApiError(500, "InternalError", "watch ERROR event without a Status", "GET", path);
    }
    try {
      return on_event(WatchEvent{type, ev["object"]});
    } catch (...) {
      handler_error = std::current_exception();  // the caller's own failure: passed through unwrapped
      throw;
    }
  };
  try {
    while (!stop.stop_requested() && !stopped_by_us) {
      // Wait for one byte (EOF, or the transport error after the data), then take what is already there.
      const auto c = in.bumpc().get();
      if (c == traits::eof()) break;  // the server ended the watch
      pending.push_back(static_cast<char>(c));
      if (const std::size_t avail = in.in_avail(); avail > 0) {
        const std::size_t n = in.getn(chunk.data(), std::min(avail, chunk.size())).get();
        pending.append(reinterpret_cast<const char*>(chunk.data()), n);
      }
      std::size_t nl;
      while (!stopped_by_us && (nl = pending.find('\n')) != std::string::npos) {
        const std::string line = pending.substr(0, nl);
        pending.erase(0, nl + 1);
        if (!dispatch(line)) stopped_by_us = true;
      }
    }
    if (!stopped_by_us && !stop.stop_requested() && !pending.empty() && !dispatch(pending)) stopped_by_us = true;
  } catch (const ApiError&) {
    cts.cancel();
    throw;
  } catch (const std::exception&) {
    cts.cancel();
    if (handler_error) std::rethrow_exception(handler_error);
    if (stop.stop_requested()) return;
    std::throw_with_nested(std::runtime_error("GET " + path + " (watch): stream broken"));
  }
  // Do not leave a half-read response on a connection that could be reused.
  if (stopped_by_us || stop.stop_requested()) cts.cancel();
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
    if (first.is_null()) first = res;
    if (const auto it = res.find("items"); it != res.end() && it->is_array())
      for (auto& item : *it) items.push_back(std::move(item));
    cont = res.contains("metadata") ? res["metadata"].value("continue", "") : "";
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
