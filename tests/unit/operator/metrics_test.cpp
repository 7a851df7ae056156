// Metrics: names and labels as controller-runtime / client-go, served over HTTP on /metrics only.
#include <catch2/catch.hpp>

#include <cpprest/http_client.h>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "operator/metrics.h"

using namespace kubert;

namespace {
std::pair<int, std::string> http_get(int port, const std::string& path) {
  web::http::client::http_client_config cfg;
  cfg.set_timeout(std::chrono::seconds(30));
  web::http::client::http_client client(U("http://127.0.0.1:" + std::to_string(port)), cfg);
  auto resp = client.request(web::http::methods::GET, path).get();
  return {resp.status_code(), resp.extract_string(true).get()};
}
}  // namespace

TEST_CASE("metrics: every family the issue lists is exposed with controller-runtime's labels") {
  Metrics m;
  m.set_max_workers("meshupgrade", 2);
  m.reconcile_done("meshupgrade", "success", 0.01);
  m.reconcile_error("meshupgrade", false);
  m.reconcile_done("meshupgrade", "error", 0.02);
  m.set_depth("meshupgrade", 3);
  m.inc_adds("meshupgrade");
  m.inc_retries("meshupgrade");
  m.observe_queue_duration("meshupgrade", 0.001);
  m.observe_work_duration("meshupgrade", 0.002);
  m.on_request("GET", 200, 0.05);
  m.on_request("PATCH", 409, 0.05);
  m.set_leader("meshupgrade-operator", true);
  const std::string text = m.render();
  for (const char* want : {
           "controller_runtime_reconcile_total{controller=\"meshupgrade\",result=\"success\"} 1",
           "controller_runtime_reconcile_total{controller=\"meshupgrade\",result=\"error\"} 1",
           "controller_runtime_reconcile_errors_total{controller=\"meshupgrade\"} 1",
           "controller_runtime_reconcile_time_seconds_bucket{controller=\"meshupgrade\"",
           "controller_runtime_max_concurrent_reconciles{controller=\"meshupgrade\"} 2",
           "workqueue_depth{controller=\"meshupgrade\",name=\"meshupgrade\"} 3",
           "workqueue_adds_total{controller=\"meshupgrade\",name=\"meshupgrade\"} 1",
           "workqueue_retries_total{controller=\"meshupgrade\",name=\"meshupgrade\"} 1",
           "workqueue_queue_duration_seconds_count{controller=\"meshupgrade\",name=\"meshupgrade\"} 1",
           "workqueue_work_duration_seconds_count{controller=\"meshupgrade\",name=\"meshupgrade\"} 1",
           "rest_client_requests_total{code=\"200\",method=\"GET\"} 1",
           "rest_client_requests_total{code=\"409\",method=\"PATCH\"} 1",
           "rest_client_request_duration_seconds_count{verb=\"GET\"} 1",
           "leader_election_master_status{name=\"meshupgrade-operator\"} 1",
           "process_resident_memory_bytes ", "process_cpu_seconds_total ", "process_start_time_seconds ",
       }) {
    INFO(want);
    CHECK(text.find(want) != std::string::npos);
  }
}

TEST_CASE("metrics: /metrics is served over HTTP, with registered collectables; other paths are 404") {
  Metrics m;
  auto& fam = prometheus::BuildCounter().Name("meshupgrade_test_total").Help("test").Register(m.registry());
  fam.Add({}).Increment();
  m.on_request("GET", 200, 0.01);
  REQUIRE(m.serve("127.0.0.1:0"));
  const int port = m.bound_port();
  REQUIRE(port > 0);
  auto [code, body] = http_get(port, "/metrics");
  CHECK(code == 200);
  CHECK(body.find("meshupgrade_test_total 1") != std::string::npos);
  CHECK(body.find("rest_client_requests_total{code=\"200\",method=\"GET\"} 1") != std::string::npos);
  CHECK(body.find("process_resident_memory_bytes") != std::string::npos);
  CHECK(http_get(port, "/").first == 404);
  CHECK(http_get(port, "/healthz").first == 404);
}

TEST_CASE("metrics: \"0\" disables serving; bad addresses are rejected") {
  Metrics m;
  CHECK_FALSE(m.serve("0"));
  CHECK(m.bound_port() == 0);
  CHECK(normalize_bind_address(":8080") == "0.0.0.0:8080");
  CHECK(normalize_bind_address("127.0.0.1:9") == "127.0.0.1:9");
  CHECK_THROWS_AS(normalize_bind_address("8080"), std::invalid_argument);
  CHECK_THROWS_AS(normalize_bind_address(":99999"), std::invalid_argument);
  CHECK_THROWS_AS(normalize_bind_address(":http"), std::invalid_argument);
}
