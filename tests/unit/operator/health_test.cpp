// /healthz and /readyz answer from their checks over HTTP; nothing else is served.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cpprest/http_client.h>

#include "operator/health.h"

using namespace kubert;

namespace {

// A port free right now (the kernel's pick for port 0).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int status_of(int port, const std::string& path) {
  web::http::client::http_client_config cfg;
  cfg.set_timeout(std::chrono::seconds(30));
  web::http::client::http_client client(U("http://127.0.0.1:" + std::to_string(port)), cfg);
  return client.request(web::http::methods::GET, path).get().status_code();
}

}  // namespace

TEST_CASE("health: readyz follows its checks; healthz is up; other paths are 404") {
  HealthServer h;
  std::atomic<bool> synced{false};
  h.add_ready_check("caches", [&] { return synced.load(); });
  CHECK(h.handle("/readyz").first == 500);
  CHECK(h.handle("/readyz").second.find("caches") != std::string::npos);
  synced = true;
  CHECK(h.handle("/readyz").first == 200);
  CHECK(h.handle("/healthz").first == 200);
  CHECK(h.handle("/").first == 404);
  CHECK(h.handle("/metrics").first == 404);
}

TEST_CASE("health: served over HTTP on the bind address; \"0\" disables") {
  HealthServer h;
  std::atomic<bool> synced{false};
  h.add_ready_check("caches", [&] { return synced.load(); });
  CHECK_FALSE(h.serve("0"));
  const int port = free_port();
  REQUIRE(h.serve("127.0.0.1:" + std::to_string(port)));
  CHECK(status_of(port, "/healthz") == 200);
  CHECK(status_of(port, "/readyz") == 500);
  synced = true;
  CHECK(status_of(port, "/readyz") == 200);
  CHECK(status_of(port, "/metrics") == 404);
  CHECK(status_of(port, "/healthz/../etc") == 404);
  h.stop();
}
