// HealthServer: named checks evaluated per request, answered by a minimal HTTP/1.1 loop on one thread.
#include "operator/health.h"

#include <mutex>
#include <stdexcept>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "operator/metrics.h"

namespace kubert {

struct HealthServer::Impl {
  mutable std::mutex mu;
  std::vector<std::pair<std::string, std::function<bool()>>> health, ready;
  std::thread thread;
  int listen_fd = -1, wake_read = -1, wake_write = -1;
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
  const auto colon = addr.rfind(':');
  const std::string host = addr.substr(0, colon);
  const int port = std::stoi(addr.substr(colon + 1));
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("health probes: socket: " + std::string(std::strerror(errno)));
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &sa.sin_addr) != 1 ||
      bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(fd, 16) != 0) {
    const std::string err = std::strerror(errno);
    close(fd);
    throw std::runtime_error("health probes: cannot listen on " + addr + ": " + err);
  }
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) {
    close(fd);
    throw std::runtime_error("health probes: pipe: " + std::string(std::strerror(errno)));
  }
  std::lock_guard lock(impl_->mu);
  impl_->listen_fd = fd;
  impl_->wake_read = wake[0];
  impl_->wake_write = wake[1];
  impl_->thread = std::thread([this, fd, wake_fd = wake[0]] {
    for (;;) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents) return;
      const int conn = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      // Probes are tiny and local: one request per connection, answered inline, bounded by a timeout.
      timeval tv{5, 0};
      setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      std::string req;
      char buf[1024];
      while (req.find("\r\n\r\n") == std::string::npos && req.size() < 8192) {
        const ssize_t n = recv(conn, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      const auto sp1 = req.find(' ');
      const auto sp2 = sp1 == std::string::npos ? sp1 : req.find(' ', sp1 + 1);
      std::pair<int, std::string> answer{400, "bad request"};
      if (sp2 != std::string::npos) {
        const std::string method = req.substr(0, sp1);
        std::string path = req.substr(sp1 + 1, sp2 - sp1 - 1);
        if (const auto q = path.find('?'); q != std::string::npos) path.resize(q);
        answer = (method == "GET" || method == "HEAD") ? handle(path) : std::pair<int, std::string>{404, "404 page not found"};
        if (method == "HEAD") answer.second.clear();
      }
      const char* reason = answer.first == 200 ? "OK" : answer.first == 404 ? "Not Found"
                         : answer.first == 400 ? "Bad Request" : "Internal Server Error";
      const std::string resp = "HTTP/1.1 " + std::to_string(answer.first) + " " + reason +
                               "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                               std::to_string(answer.second.size()) + "\r\nConnection: close\r\n\r\n" + answer.second;
      std::size_t sent = 0;
      while (sent < resp.size()) {
        const ssize_t n = send(conn, resp.data() + sent, resp.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
      }
      close(conn);
    }
  });
  return true;
}

void HealthServer::stop() {
  std::thread t;
  int listen_fd, wake_read, wake_write;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->thread.joinable()) return;
    t = std::move(impl_->thread);
    listen_fd = impl_->listen_fd;
    wake_read = impl_->wake_read;
    wake_write = impl_->wake_write;
  }
  const char c = 'x';
  [[maybe_unused]] ssize_t ignored = write(wake_write, &c, 1);
  t.join();
  close(listen_fd);
  close(wake_read);
  close(wake_write);
}

}  // namespace kubert
