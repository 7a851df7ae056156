// HealthServer: named checks evaluated per request, answered through a cpprestsdk http_listener.
#include "operator/health.h"

#include <mutex>
#include <stdexcept>
#include <vector>

#include <cpprest/http_listener.h>

#include "operator/metrics.h"

namespace kubert {

struct HealthServer::Impl {
  mutable std::mutex mu;
  std::vector<std::pair<std::string, std::function<bool()>>> health, ready;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener;
};

namespace {

std::pair<int, std::string> evaluate(const std::vector<std::pair<std::string, std::function<bool()>>>& checks) {
  std::string failing;
  for (const auto& [name, check] : checks) {
    bool ok = false;
    try {
      ok = check();
    } catch (const std::exception&) {
      ok = false;
    }
    if (!ok) failing += "[-]" + name + " failed\n";
  }
  if (failing.empty()) return {200, "ok"};
  return {500, failing + "check failed"};
}

}  // namespace

HealthServer::HealthServer() : impl_(std::make_unique<Impl>()) {}

HealthServer::~HealthServer() { stop(); }

void HealthServer::add_health_check(std::string name, std::function<bool()> check) {
  std::lock_guard lock(impl_->mu);
  impl_->health.emplace_back(std::move(name), std::move(check));
}

void HealthServer::add_ready_check(std::string name, std::function<bool()> check) {
  std::lock_guard lock(impl_->mu);
  impl_->ready.emplace_back(std::move(name), std::move(check));
}

std::pair<int, std::string> HealthServer::handle(const std::string& path) const {
  std::vector<std::pair<std::string, std::function<bool()>>> checks;
  {
    std::lock_guard lock(impl_->mu);
    if (path == "/healthz") {
      checks = impl_->health;
    } else if (path == "/readyz") {
      checks = impl_->ready;
    } else {
      return {404, "404 page not found"};
    }
  }
  return evaluate(checks);
}

bool HealthServer::serve(const std::string& bind_address) {
  if (bind_address == "0") return false;
  const std::string addr = normalize_bind_address(bind_address);
  using web::http::experimental::listener::http_listener;
  auto listener = std::make_unique<http_listener>(web::uri(U("http://" + addr)));
  listener->support([this](web::http::http_request req) {
    const std::string path = req.relative_uri().path();
    auto [code, body] = (req.method() == web::http::methods::GET || req.method() == web::http::methods::HEAD)
                            ? handle(path)
                            : std::pair<int, std::string>{404, "404 page not found"};
    web::http::http_response resp(static_cast<web::http::status_code>(code));
    resp.headers().set_content_type(U("text/plain; charset=utf-8"));
    resp.set_body(body);
    req.reply(resp).then([](pplx::task<void> t) {
      try {
        t.get();
      } catch (const std::exception&) {
        // The prober hung up; nothing to do.
      }
    });
  });
  try {
    listener->open().wait();
  } catch (const std::exception& e) {
    throw std::runtime_error("health probes: cannot listen on " + addr + ": " + e.what());
  }
  std::lock_guard lock(impl_->mu);
  impl_->listener = std::move(listener);
  return true;
}

void HealthServer::stop() {
  std::unique_ptr<web::http::experimental::listener::http_listener> listener;
  {
    std::lock_guard lock(impl_->mu);
    listener = std::move(impl_->listener);
  }
  if (!listener) return;
  try {
    listener->close().wait();
  } catch (const std::exception&) {
    // Closing a listener that failed is not worth failing shutdown for.
  }
}

}  // namespace kubert
