// RestClient against the in-process HTTPS server: TLS, auth headers, errors, retries, paging, keep-alive.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "operator/errors.h"
#include "operator/rest_client.h"
#include "support/https_test_server.h"

using namespace std::chrono_literals;
using kubert::ApiError;
using kubert::Gvr;
using kubert::json;
using kubert::ObjectRef;
using kubert::RestClient;
using kubert::RestClientOptions;
using kubert::RestConfig;
using kubert::testing::HttpsTestServer;
using kubert::testing::TestPki;
using kubert::testing::TestRequest;
using kubert::testing::TestResponse;

namespace {

const Gvr kConfigMaps{"", "v1", "configmaps", true};
const Gvr kDeployments{"apps", "v1", "deployments", true};

RestConfig config_for(const HttpsTestServer& server) {
  RestConfig cfg;
  cfg.server = server.url();
  cfg.ca_pem = TestPki::get().ca_pem;
  cfg.token = "s3cr3t-t0ken";
  cfg.qps = 1000;
  cfg.burst = 1000;
  return cfg;
}

RestClientOptions fast_retries() {
  RestClientOptions o;
  o.backoff_base = 5ms;
  o.backoff_cap = 50ms;
  return o;
}

std::string status(int code, const std::string& reason, const std::string& message) {
  return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"code", code}, {"reason", reason},
              {"message", message}}
      .dump();
}

json cm(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"namespace", "ns"}}}};
}

}  // namespace

TEST_CASE("rest client: get sends token, user agent and Accept over verified TLS; 404 is nullopt") {
  HttpsTestServer server([](const TestRequest& r) {
    if (r.path == "/api/v1/namespaces/ns/configmaps/a") return TestResponse::json(200, cm("a").dump());
    return TestResponse::json(404, status(404, "NotFound", "configmaps \"b\" not found"));
  });
  RestClient client(config_for(server));
  const auto a = client.get({kConfigMaps, "ns", "a"});
  REQUIRE(a);
  CHECK((*a)["metadata"]["name"] == "a");
  CHECK_FALSE(client.get({kConfigMaps, "ns", "b"}));
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "GET");
  CHECK(reqs[0].header("authorization") == "Bearer s3cr3t-t0ken");
  CHECK(reqs[0].header("user-agent") == std::string("meshupgrade-operator/") + MESHUPGRADE_VERSION);
  CHECK(reqs[0].header("accept") == "application/json");
}

TEST_CASE("rest client: several requests share one kept-alive TLS connection") {
  HttpsTestServer server([](const TestRequest&) { return TestResponse::json(200, cm("a").dump()); });
  RestClient client(config_for(server));
  for (int i = 0; i < 20; ++i) REQUIRE(client.get({kConfigMaps, "ns", "a"}));
  CHECK(server.requests().size() == 20);
  // cpprestsdk hands a connection back to its pool just after the answer completes, so a request sent at
  // once may open a second one; what matters is that connections are reused, not one per request.
  INFO("connections: " << server.connections());
  CHECK(server.connections() <= 5);
}

TEST_CASE("rest client: a server certificate from another CA is refused; insecure skips the check") {
  HttpsTestServer server([](const TestRequest&) { return TestResponse::json(200, R"({"gitVersion":"v1.32.0"})"); });
  RestConfig wrong = config_for(server);
  wrong.ca_pem = TestPki::get().other_ca_pem;
  RestClient refusing(wrong, fast_retries());
  CHECK_THROWS_AS(refusing.server_version(), std::runtime_error);
  CHECK(server.requests().empty());

  RestConfig insecure = config_for(server);
  insecure.ca_pem.clear();
  insecure.insecure_skip_tls_verify = true;
  RestClient trusting(insecure);
  CHECK(trusting.server_version()["gitVersion"] == "v1.32.0");
}

TEST_CASE("rest client: client certificate from memory authenticates to a server that requires one") {
  HttpsTestServer server([](const TestRequest&) { return TestResponse::json(200, R"({"gitVersion":"v1.32.0"})"); },
                         {.tls = true, .require_client_cert = true});
  RestConfig cfg = config_for(server);
  cfg.token.clear();
  cfg.client_cert_pem = TestPki::get().client_cert_pem;
  cfg.client_key_pem = TestPki::get().client_key_pem;
  RestClient client(cfg);
  CHECK(client.server_version()["gitVersion"] == "v1.32.0");
  REQUIRE(server.requests().size() == 1);
  CHECK(server.requests()[0].client_cn == "admin");
  CHECK(server.requests()[0].header("authorization").empty());

  RestConfig no_cert = config_for(server);
  RestClient anonymous(no_cert, fast_retries());
  CHECK_THROWS(anonymous.server_version());
}

TEST_CASE("rest client: list follows continue tokens and keeps the first page's resourceVersion") {
  HttpsTestServer server([](const TestRequest& r) {
    const std::string cont = r.param("continue");
    json page = {{"kind", "ConfigMapList"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "42"}}}};
    if (cont.empty()) {
      page["items"] = {cm("a"), cm("b")};
      page["metadata"]["continue"] = "tok/1=";
    } else if (cont == "tok/1=") {
      page["items"] = {cm("c")};
      page["metadata"]["continue"] = "tok2";
    } else {
      page["items"] = {cm("d")};
    }
    return TestResponse::json(200, page.dump());
  });
  RestClient client(config_for(server));
  const json list = client.list(kConfigMaps, "ns", {.label_selector = "app in (a,b)", .field_selector = "", .limit = 2, .resource_version = ""});
  REQUIRE(list["items"].size() == 4);
  CHECK(list["items"][3]["metadata"]["name"] == "d");
  CHECK(list["metadata"]["resourceVersion"] == "42");
  CHECK_FALSE(list["metadata"].contains("continue"));
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].path == "/api/v1/namespaces/ns/configmaps");
  CHECK(reqs[0].param("limit") == "2");
  CHECK(reqs[0].param("labelSelector") == "app in (a,b)");
  CHECK(reqs[1].param("continue") == "tok/1=");
  CHECK(reqs[2].param("continue") == "tok2");
}

TEST_CASE("rest client: list pages 500 at a time by default and re-lists whole when a continue token expires") {
  HttpsTestServer server([](const TestRequest& r) {
    json page = {{"kind", "ConfigMapList"}, {"metadata", {{"resourceVersion", "7"}}}};
    if (!r.param("continue").empty()) return TestResponse::json(410, status(410, "Expired", "continue expired"));
    page["items"] = r.param("limit").empty() ? json{cm("a"), cm("b")} : json{cm("a")};
    if (!r.param("limit").empty()) page["metadata"]["continue"] = "old";
    return TestResponse::json(200, page.dump());
  });
  RestClient client(config_for(server));
  const json list = client.list(kConfigMaps, "", {});
  CHECK(list["items"].size() == 2);
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 3);
  CHECK(reqs[0].path == "/api/v1/configmaps");
  CHECK(reqs[0].param("limit") == "500");
  CHECK(reqs[2].param("limit").empty());
  CHECK(reqs[2].param("continue").empty());
}

TEST_CASE("rest client: a 409 Status becomes a typed ApiError naming verb and path, not retried") {
  HttpsTestServer server([](const TestRequest&) {
    return TestResponse::json(409, status(409, "Conflict", "the object has been modified"));
  });
  RestClient client(config_for(server), fast_retries());
  try {
    client.update({kDeployments, "x", "y"}, {{"metadata", {{"resourceVersion", "1"}}}});
    FAIL("no error");
  } catch (const ApiError& e) {
    CHECK(e.is_conflict());
    CHECK(std::string(e.what()) == "PUT /apis/apps/v1/namespaces/x/deployments/y: 409 Conflict: the object has been modified");
  }
  CHECK(server.requests().size() == 1);
}

TEST_CASE("rest client: errors map other reasons and non-Status bodies by HTTP code, without secrets") {
  int code = 0;
  std::string body;
  HttpsTestServer server([&](const TestRequest&) { return TestResponse::json(code, body); });
  RestClientOptions o = fast_retries();
  o.max_retries = 0;
  RestClient client(config_for(server), o);
  const auto error_of = [&](int c, std::string b) -> ApiError {
    code = c;
    body = std::move(b);
    try {
      client.create(kConfigMaps, "ns", cm("a"));
    } catch (const ApiError& e) {
      return e;
    }
    return ApiError(0, "", "", "", "");
  };
  CHECK(error_of(409, status(409, "AlreadyExists", "exists")).is_already_exists());
  CHECK(error_of(403, status(403, "Forbidden", "no")).is_forbidden());
  CHECK(error_of(422, status(422, "Invalid", "bad")).is_invalid());
  const ApiError proxy = error_of(502, "<html>\nbad gateway\n</html>");
  CHECK(proxy.code() == 502);
  CHECK(proxy.reason() == "InternalError");
  CHECK(std::string(proxy.what()) == "POST /api/v1/namespaces/ns/configmaps: 502 InternalError: <html> bad gateway </html>");
  const ApiError unauthorized = error_of(401, status(401, "Unauthorized", "Unauthorized"));
  CHECK(unauthorized.code() == 401);
  CHECK(std::string(unauthorized.what()).find("s3cr3t") == std::string::npos);
}

TEST_CASE("rest client: 429 with Retry-After is retried for any verb after the given seconds") {
  std::atomic<int> calls{0};
  HttpsTestServer server([&](const TestRequest&) {
    if (calls++ == 0) {
      TestResponse r = TestResponse::json(429, status(429, "TooManyRequests", "slow down"));
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return TestResponse::json(201, cm("a").dump());
  });
  RestClient client(config_for(server), fast_retries());
  const auto start = std::chrono::steady_clock::now();
  CHECK(client.create(kConfigMaps, "ns", cm("a"))["metadata"]["name"] == "a");
  CHECK(std::chrono::steady_clock::now() - start >= 900ms);
  CHECK(calls == 2);
}

TEST_CASE("rest client: 5xx is retried for GET but not for POST") {
  std::atomic<int> calls{0};
  HttpsTestServer server([&](const TestRequest& r) {
    ++calls;
    if (r.method == "GET" && calls < 3) return TestResponse::json(503, status(503, "ServiceUnavailable", "busy"));
    if (r.method == "POST") return TestResponse::json(500, status(500, "InternalError", "boom"));
    return TestResponse::json(200, cm("a").dump());
  });
  RestClient client(config_for(server), fast_retries());
  CHECK(client.get({kConfigMaps, "ns", "a"}));
  CHECK(calls == 3);
  calls = 0;
  try {
    client.create(kConfigMaps, "ns", cm("a"));
    FAIL("no error");
  } catch (const ApiError& e) {
    CHECK(e.is_server_error());
  }
  CHECK(calls == 1);
}

TEST_CASE("rest client: GET gives up after max_retries with the last error") {
  std::atomic<int> calls{0};
  HttpsTestServer server([&](const TestRequest&) {
    ++calls;
    return TestResponse::json(503, status(503, "ServiceUnavailable", "down"));
  });
  RestClientOptions o = fast_retries();
  o.max_retries = 2;
  RestClient client(config_for(server), o);
  CHECK_THROWS_AS(client.get({kConfigMaps, "ns", "a"}), ApiError);
  CHECK(calls == 3);
}

TEST_CASE("rest client: patch types, apply parameters, status subresource and delete options") {
  HttpsTestServer server([](const TestRequest& r) {
    return TestResponse::json(200, r.method == "DELETE" && r.path.ends_with("/gone")
                                        ? status(404, "NotFound", "gone")
                                        : cm("a").dump());
  });
  server.set_handler([](const TestRequest& r) {
    if (r.path.ends_with("/gone")) return TestResponse::json(404, status(404, "NotFound", "gone"));
    return TestResponse::json(200, cm("a").dump());
  });
  RestClient client(config_for(server));
  const ObjectRef ref{kDeployments, "x", "y"};
  client.patch(ref, kubert::PatchType::Merge, {{"a", 1}});
  client.patch(ref, kubert::PatchType::Json, json::array({{{"op", "add"}, {"path", "/a"}, {"value", 1}}}));
  client.patch(ref, kubert::PatchType::Strategic, {{"a", 1}});
  client.patch(ref, kubert::PatchType::Apply, {{"a", 1}}, {.field_manager = "meshupgrade", .force = true});
  client.patch_status(ref, kubert::PatchType::Merge, {{"status", {{"phase", "Done"}}}});
  client.update_status(ref, cm("y"));
  CHECK_THROWS_AS(client.patch(ref, kubert::PatchType::Apply, {{"a", 1}}), std::invalid_argument);
  CHECK(client.remove(ref, {.propagation = kubert::Propagation::Foreground, .precondition_uid = "u1",
                            .precondition_resource_version = "9"}));
  CHECK_FALSE(client.remove({kDeployments, "x", "gone"}));
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 8);
  CHECK(reqs[0].header("content-type") == "application/merge-patch+json");
  CHECK(reqs[1].header("content-type") == "application/json-patch+json");
  CHECK(reqs[2].header("content-type") == "application/strategic-merge-patch+json");
  CHECK(reqs[3].header("content-type") == "application/apply-patch+yaml");
  CHECK(reqs[3].param("fieldManager") == "meshupgrade");
  CHECK(reqs[3].param("force") == "true");
  CHECK(reqs[0].param("force").empty());
  CHECK(reqs[4].path == "/apis/apps/v1/namespaces/x/deployments/y/status");
  CHECK(reqs[4].method == "PATCH");
  CHECK(reqs[5].path == "/apis/apps/v1/namespaces/x/deployments/y/status");
  CHECK(reqs[5].method == "PUT");
  CHECK(reqs[6].method == "DELETE");
  const json del = json::parse(reqs[6].body);
  CHECK(del["propagationPolicy"] == "Foreground");
  CHECK(del["preconditions"]["uid"] == "u1");
  CHECK(del["preconditions"]["resourceVersion"] == "9");
}

TEST_CASE("rest client: discovery resolves kinds to resources, caches, and re-reads once on a miss") {
  std::atomic<int> apps_reads{0};
  HttpsTestServer server([&](const TestRequest& r) {
    if (r.path == "/apis/apps/v1") {
      ++apps_reads;
      return TestResponse::json(200, R"({"kind":"APIResourceList","groupVersion":"apps/v1","resources":[
        {"name":"deployments","namespaced":true,"kind":"Deployment"},
        {"name":"deployments/status","namespaced":true,"kind":"Deployment"}]})");
    }
    if (r.path == "/api/v1")
      return TestResponse::json(200, R"({"kind":"APIResourceList","resources":[
        {"name":"namespaces","namespaced":false,"kind":"Namespace"}]})");
    return TestResponse::json(404, status(404, "NotFound", "the server could not find the requested resource"));
  });
  RestClient client(config_for(server));
  CHECK(client.resolve("apps/v1", "Deployment") == Gvr{"apps", "v1", "deployments", true});
  CHECK(client.resolve("apps/v1", "Deployment") == Gvr{"apps", "v1", "deployments", true});
  CHECK(apps_reads == 1);
  CHECK(client.resolve("v1", "Namespace") == Gvr{"", "v1", "namespaces", false});
  CHECK_THROWS_WITH(client.resolve("apps/v1", "Nope"), "GET /apis/apps/v1: kind Nope is not served by apps/v1");
  CHECK(apps_reads == 2);
  CHECK_THROWS_AS(client.resolve("x.io/v9", "Thing"), ApiError);
}

TEST_CASE("rest client: the observer sees every attempt with its code") {
  struct Recorder : kubert::RestClientObserver {
    std::mutex mu;
    std::vector<std::pair<std::string, int>> seen;
    void on_request(std::string_view method, int code, double seconds) override {
      std::lock_guard lock(mu);
      seen.emplace_back(std::string(method), code);
      CHECK(seconds >= 0);
    }
  } recorder;
  std::atomic<int> calls{0};
  HttpsTestServer server([&](const TestRequest&) {
    return calls++ == 0 ? TestResponse::json(500, status(500, "InternalError", "x")) : TestResponse::json(200, "{}");
  });
  RestClientOptions o = fast_retries();
  o.observer = &recorder;
  RestClient client(config_for(server), o);
  client.server_version();
  REQUIRE(recorder.seen.size() == 2);
  CHECK(recorder.seen[0] == std::pair<std::string, int>{"GET", 500});
  CHECK(recorder.seen[1] == std::pair<std::string, int>{"GET", 200});
}

TEST_CASE("rest client: client-side rate limit spaces requests at qps after the burst") {
  HttpsTestServer server([](const TestRequest&) { return TestResponse::json(200, "{}"); });
  RestConfig cfg = config_for(server);
  cfg.qps = 10;
  cfg.burst = 1;
  RestClient client(cfg);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i) client.server_version();
  CHECK(std::chrono::steady_clock::now() - start >= 250ms);  // 3 waits of 100 ms
}

TEST_CASE("rest client: a request that stalls past the timeout fails instead of hanging") {
  HttpsTestServer server([](const TestRequest&) {
    TestResponse r;
    r.stream = [](kubert::testing::ChunkWriter& w) {
      w.wait_client_closed(60s);  // headers sent, body never comes
      return false;
    };
    return r;
  });
  RestConfig cfg = config_for(server);
  cfg.timeout = 1s;
  RestClientOptions o = fast_retries();
  o.max_retries = 0;
  RestClient client(cfg, o);
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(client.server_version(), std::runtime_error);
  CHECK(std::chrono::steady_clock::now() - start < 20s);
}
