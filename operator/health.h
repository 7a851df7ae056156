// /healthz and /readyz over plain HTTP on their own small thread; every other path is 404.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

namespace kubert {

class HealthServer {
 public:
  HealthServer();
  ~HealthServer();  // stops serving
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  // /healthz: 200 when every health check passes (none: the process answers, so it is alive).
  void add_health_check(std::string name, std::function<bool()> check);
  // /readyz: 200 when every ready check passes (e.g. caches synced), else 500 naming the failing ones.
  void add_ready_check(std::string name, std::function<bool()> check);

  // Serves on bind_address (":8081", "127.0.0.1:8081"); "0" disables (returns false). Throws
  // std::runtime_error when it cannot listen.
  bool serve(const std::string& bind_address);
  void stop();

  // The answer for a path, as served: (status, body). Also used by the HTTP handler.
  std::pair<int, std::string> handle(const std::string& path) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kubert
