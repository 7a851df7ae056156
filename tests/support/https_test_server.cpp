// The test HTTPS server: one thread accepts, one thread per connection reads requests and writes answers.
#include "support/https_test_server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>

#include <utility>  // boost 1.74 asio uses std::exchange without including it

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace kubert::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void sh(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) throw std::runtime_error("test PKI: failed: " + cmd);
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else if (s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

const char* status_text(int code) {
  switch (code) {
    case 200: return "OK";
    case 201: return "Created";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

}  // namespace

const TestPki& TestPki::get() {
  static const TestPki pki = [] {
    TestPki p;
    std::random_device rd;
    const fs::path d = fs::temp_directory_path() / ("kubert-pki-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(d);
    p.dir = d.string();
    const std::string D = p.dir + "/";
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    sh("openssl req -x509 " + key + " -keyout " + D + "ca.key -out " + D + "ca.crt -days 3 -subj /CN=kubert-test-ca");
    sh("openssl req -x509 " + key + " -keyout " + D + "other.key -out " + D + "other.crt -days 3 -subj /CN=other-ca");
    std::ofstream(D + "server.ext") << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                       "extendedKeyUsage=serverAuth\n";
    std::ofstream(D + "client.ext") << "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
    sh("openssl req " + key + " -keyout " + D + "server.key -out " + D + "server.csr -subj /CN=127.0.0.1");
    sh("openssl x509 -req -in " + D + "server.csr -CA " + D + "ca.crt -CAkey " + D + "ca.key -CAcreateserial -out " +
       D + "server.crt -days 3 -extfile " + D + "server.ext");
    sh("openssl req " + key + " -keyout " + D + "client.key -out " + D + "client.csr -subj /O=system:masters/CN=admin");
    sh("openssl x509 -req -in " + D + "client.csr -CA " + D + "ca.crt -CAkey " + D + "ca.key -CAcreateserial -out " +
       D + "client.crt -days 3 -extfile " + D + "client.ext");
    p.ca_pem = slurp(D + "ca.crt");
    p.other_ca_pem = slurp(D + "other.crt");
    p.server_cert_pem = slurp(D + "server.crt");
    p.server_key_pem = slurp(D + "server.key");
    p.client_cert_pem = slurp(D + "client.crt");
    p.client_key_pem = slurp(D + "client.key");
    return p;
  }();
  return pki;
}

std::string TestRequest::header(const std::string& lower_name) const {
  const auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

std::string TestRequest::param(const std::string& name) const {
  const auto it = query.find(name);
  return it == query.end() ? "" : it->second;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= until) return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// A byte stream over TLS or plain TCP, so one connection loop serves both.
class Conn {
 public:
  Conn(tcp::socket sock, asio::ssl::context* ctx) : sock_(std::move(sock)) {
    if (ctx) tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(sock_, *ctx);
  }
  void handshake() {
    if (tls_) tls_->handshake(asio::ssl::stream_base::server);
  }
  std::string client_cn() {
    if (!tls_) return "";
    X509* cert = SSL_get_peer_certificate(tls_->native_handle());
    if (!cert) return "";
    char buf[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
    X509_free(cert);
    return buf;
  }
  std::size_t read_until(asio::streambuf& buf, const std::string& delim) {
    return tls_ ? asio::read_until(*tls_, buf, delim) : asio::read_until(sock_, buf, delim);
  }
  std::size_t read_exact(asio::streambuf& buf, std::size_t n) {
    return tls_ ? asio::read(*tls_, buf, asio::transfer_exactly(n)) : asio::read(sock_, buf, asio::transfer_exactly(n));
  }
  std::size_t read_some(char* data, std::size_t n, boost::system::error_code& ec) {
    return tls_ ? tls_->read_some(asio::buffer(data, n), ec) : sock_.read_some(asio::buffer(data, n), ec);
  }
  void write(const std::string& s) {
    if (tls_) {
      asio::write(*tls_, asio::buffer(s));
    } else {
      asio::write(sock_, asio::buffer(s));
    }
  }
  int fd() { return sock_.native_handle(); }
  void kill() { ::shutdown(sock_.native_handle(), SHUT_RDWR); }

 private:
  tcp::socket sock_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
};

class ConnWriter final : public ChunkWriter {
 public:
  explicit ConnWriter(Conn& c) : c_(c) {}
  bool write(const std::string& data) override {
    if (data.empty()) return true;
    std::ostringstream chunk;
    chunk << std::hex << data.size() << "\r\n" << data << "\r\n";
    try {
      c_.write(chunk.str());
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  bool wait_client_closed(std::chrono::milliseconds deadline) override {
    const auto until = std::chrono::steady_clock::now() + deadline;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{c_.fd(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      if (p.revents & (POLLHUP | POLLERR)) return true;
      char buf[512];
      boost::system::error_code ec;
      c_.read_some(buf, sizeof buf, ec);
      if (ec) return true;
    }
  }

 private:
  Conn& c_;
};

struct HttpsTestServer::Impl {
  TestServerOptions opts;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::unique_ptr<asio::ssl::context> ssl;
  int port = 0;
  std::atomic<bool> stopping{false};
  std::atomic<int> connections{0};
  mutable std::mutex mu;
  TestHandler handler;
  std::vector<TestRequest> requests;
  std::vector<std::shared_ptr<Conn>> conns;
  std::vector<std::thread> threads;
  std::thread accept_thread;

  void serve(std::shared_ptr<Conn> conn, int id) {
    try {
      conn->handshake();
      const std::string cn = conn->client_cn();
      asio::streambuf buf;
      while (!stopping) {
        conn->read_until(buf, "\r\n\r\n");
        std::istream in(&buf);
        TestRequest req;
        req.connection = id;
        req.client_cn = cn;
        std::string line;
        std::getline(in, line);
        std::istringstream rl(line);
        std::string version;
        rl >> req.method >> req.target >> version;
        while (std::getline(in, line) && line != "\r") {
          const auto colon = line.find(':');
          if (colon == std::string::npos) continue;
          std::string name = line.substr(0, colon);
          for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          std::string value = line.substr(colon + 1);
          value.erase(0, value.find_first_not_of(' '));
          while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
          req.headers[name] = value;
        }
        if (const auto cl = req.header("content-length"); !cl.empty()) {
          const std::size_t n = std::stoul(cl);
          if (buf.size() < n) conn->read_exact(buf, n - buf.size());
          req.body.resize(n);
          in.read(req.body.data(), static_cast<std::streamsize>(n));
        }
        const auto q = req.target.find('?');
        req.path = url_decode(req.target.substr(0, q));
        if (q != std::string::npos) {
          std::istringstream qs(req.target.substr(q + 1));
          for (std::string kv; std::getline(qs, kv, '&');) {
            const auto eq = kv.find('=');
            req.query[url_decode(kv.substr(0, eq))] = eq == std::string::npos ? "" : url_decode(kv.substr(eq + 1));
          }
        }
        TestHandler h;
        {
          std::lock_guard lock(mu);
          requests.push_back(req);
          h = handler;
        }
        TestResponse resp = h ? h(req) : TestResponse::json(404, R"({"kind":"Status","code":404,"reason":"NotFound"})");
        std::ostringstream head;
        head << "HTTP/1.1 " << resp.code << " " << status_text(resp.code) << "\r\n"
             << "Content-Type: " << resp.content_type << "\r\n";
        for (const auto& [k, v] : resp.headers) head << k << ": " << v << "\r\n";
        if (resp.close_after) head << "Connection: close\r\n";
        if (resp.stream) {
          head << "Transfer-Encoding: chunked\r\n\r\n";
          conn->write(head.str());
          ConnWriter w(*conn);
          if (!resp.stream(w)) break;  // drop mid-stream
          conn->write("0\r\n\r\n");
        } else {
          head << "Content-Length: " << resp.body.size() << "\r\n\r\n" << resp.body;
          conn->write(head.str());
        }
        if (resp.close_after || req.header("connection") == "close") break;
      }
    } catch (const std::exception&) {
      // The client went away or the server is stopping: end this connection.
    }
    conn->kill();
  }

  void accept_loop() {
    while (!stopping) {
      pollfd p{acceptor.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      boost::system::error_code ec;
      tcp::socket sock(io);
      acceptor.accept(sock, ec);
      if (ec) continue;
      const int id = ++connections;
      auto conn = std::make_shared<Conn>(std::move(sock), ssl.get());
      std::lock_guard lock(mu);
      conns.push_back(conn);
      threads.emplace_back([this, conn, id] { serve(conn, id); });
    }
  }
};

HttpsTestServer::HttpsTestServer(TestHandler handler, TestServerOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->opts = opts;
  impl_->handler = std::move(handler);
  if (opts.tls) {
    const TestPki& pki = TestPki::get();
    impl_->ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    impl_->ssl->use_certificate_chain(asio::buffer(pki.server_cert_pem));
    impl_->ssl->use_private_key(asio::buffer(pki.server_key_pem), asio::ssl::context::pem);
    if (opts.require_client_cert) {
      impl_->ssl->add_certificate_authority(asio::buffer(pki.ca_pem));
      impl_->ssl->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    }
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->acceptor.non_blocking(false);
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept_thread = std::thread([this] { impl_->accept_loop(); });
}

HttpsTestServer::~HttpsTestServer() {
  impl_->stopping = true;
  impl_->accept_thread.join();
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& c : impl_->conns) c->kill();
    threads.swap(impl_->threads);
  }
  for (auto& t : threads) t.join();
}

int HttpsTestServer::port() const noexcept { return impl_->port; }
std::string HttpsTestServer::url() const {
  return std::string(impl_->opts.tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(impl_->port);
}
int HttpsTestServer::connections() const noexcept { return impl_->connections.load(); }
std::vector<TestRequest> HttpsTestServer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->requests;
}
void HttpsTestServer::set_handler(TestHandler handler) {
  std::lock_guard lock(impl_->mu);
  impl_->handler = std::move(handler);
}

}  // namespace kubert::testing
