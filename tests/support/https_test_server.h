// An in-process HTTP/1.1 server over TLS (boost::asio) for client tests: scripted answers, streamed
// chunked bodies, abrupt drops, and a count of accepted connections to observe keep-alive.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace kubert::testing {

// A throwaway PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1 (subjectAltName
// IP:127.0.0.1), a client certificate signed by the same CA, and an unrelated CA. Made once per process.
struct TestPki {
  std::string dir;
  std::string ca_pem, server_cert_pem, server_key_pem, client_cert_pem, client_key_pem, other_ca_pem;
  static const TestPki& get();
};

struct TestRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;    // decoded path without query
  std::map<std::string, std::string> query;    // decoded
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  int connection = 0;      // 1-based index of the connection it came on
  std::string client_cn;   // subject CN of the client certificate, "" if none
  std::string header(const std::string& lower_name) const;
  std::string param(const std::string& name) const;
};

// Writes a streamed (chunked) body. write() returns false once the client has gone.
class ChunkWriter {
 public:
  virtual ~ChunkWriter() = default;
  virtual bool write(const std::string& data) = 0;
  // Blocks until the client closes the connection or the deadline passes; true if it closed.
  virtual bool wait_client_closed(std::chrono::milliseconds deadline) = 0;
};

struct TestResponse {
  int code = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is sent chunked by this function instead. Return true to end the body properly,
  // false to drop the connection mid-stream (a broken watch).
  std::function<bool(ChunkWriter&)> stream;
  bool close_after = false;  // close the connection after answering

  static TestResponse json(int code, std::string body) {
    TestResponse r;
    r.code = code;
    r.body = std::move(body);
    return r;
  }
};

using TestHandler = std::function<TestResponse(const TestRequest&)>;

struct TestServerOptions {
  bool tls = true;
  bool require_client_cert = false;
};

class HttpsTestServer {
 public:
  explicit HttpsTestServer(TestHandler handler, TestServerOptions opts = {});
  ~HttpsTestServer();  // closes every connection and joins every thread
  HttpsTestServer(const HttpsTestServer&) = delete;
  HttpsTestServer& operator=(const HttpsTestServer&) = delete;

  int port() const noexcept;
  std::string url() const;  // "https://127.0.0.1:PORT" (http:// without TLS)
  int connections() const noexcept;  // connections accepted so far
  std::vector<TestRequest> requests() const;
  void set_handler(TestHandler handler);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Waits for pred with a deadline, polling; returns pred's last value. For asserting on another thread's work.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds deadline = std::chrono::seconds(20));

}  // namespace kubert::testing
