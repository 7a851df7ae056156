// Internal to the REST client's .cpp files: the pimpl's definition, which needs cpprestsdk and boost.
#pragma once

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

namespace rest_detail {

inline std::string path_only(const std::string& path_and_query) {
  return path_and_query.substr(0, path_and_query.find('?'));
}

// Appends "k=v" with the value percent-encoded.
inline void add_query(std::string& q, const std::string& key, const std::string& value) {
  if (value.empty()) return;
  q += (q.empty() ? "?" : "&") + key + "=" + web::uri::encode_data_string(value);
}

inline bool is_safe(const std::string& method) { return method == "GET" || method == "HEAD"; }

struct Answer {
  int code = 0;
  std::string body;
};

}  // namespace rest_detail

using rest_detail::add_query;
using rest_detail::Answer;
using rest_detail::is_safe;
using rest_detail::path_only;

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

}  // namespace kubert
