// RestClient::watch against the in-process HTTPS server: streamed events, drops, 410, bookmarks, stop.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <thread>

#include <nlohmann/json.hpp>

#include "operator/errors.h"
#include "operator/rest_client.h"
#include "support/https_test_server.h"

using namespace std::chrono_literals;
using kubert::ApiError;
using kubert::Gvr;
using kubert::json;
using kubert::RestClient;
using kubert::RestConfig;
using kubert::WatchEvent;
using kubert::WatchOptions;
using kubert::testing::ChunkWriter;
using kubert::testing::eventually;
using kubert::testing::HttpsTestServer;
using kubert::testing::TestPki;
using kubert::testing::TestRequest;
using kubert::testing::TestResponse;

namespace {

const Gvr kPods{"", "v1", "pods", true};

RestConfig config_for(const HttpsTestServer& server) {
  RestConfig cfg;
  cfg.server = server.url();
  cfg.ca_pem = TestPki::get().ca_pem;
  cfg.token = "t";
  cfg.qps = 1000;
  cfg.burst = 1000;
  return cfg;
}

std::string event(const std::string& type, const std::string& name, const std::string& rv) {
  return json{{"type", type},
              {"object", {{"kind", "Pod"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}}}}
             .dump() +
         "\n";
}

struct Seen {
  std::mutex mu;
  std::vector<std::string> events;  // "TYPE name rv"
  bool record(const WatchEvent& e) {
    std::lock_guard lock(mu);
    events.push_back(e.type + " " + e.object["metadata"].value("name", "") + " " +
                     e.object["metadata"].value("resourceVersion", ""));
    return true;
  }
  std::size_t size() {
    std::lock_guard lock(mu);
    return events.size();
  }
};

}  // namespace

TEST_CASE("watch: streams events in order, including bookmarks, then returns when the server ends") {
  HttpsTestServer server([](const TestRequest&) {
    TestResponse r;
    r.stream = [](ChunkWriter& w) {
      // Split an event across chunks and put two in one: the client must frame by line, not by chunk.
      const std::string two = event("ADDED", "a", "11") + event("MODIFIED", "a", "12");
      const std::string third = event("BOOKMARK", "", "13");
      return w.write(two.substr(0, 10)) && w.write(two.substr(10)) && w.write(third.substr(0, 5)) &&
             w.write(third.substr(5)) && w.write(event("DELETED", "a", "14"));
    };
    return r;
  });
  RestClient client(config_for(server));
  Seen seen;
  client.watch(kPods, "ns", {.label_selector = "", .field_selector = "", .resource_version = "10", .allow_bookmarks = true, .timeout_seconds = 300},
               [&](const WatchEvent& e) { return seen.record(e); }, {});
  CHECK(seen.events == std::vector<std::string>{"ADDED a 11", "MODIFIED a 12", "BOOKMARK  13", "DELETED a 14"});
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].path == "/api/v1/namespaces/ns/pods");
  CHECK(reqs[0].param("watch") == "true");
  CHECK(reqs[0].param("resourceVersion") == "10");
  CHECK(reqs[0].param("allowWatchBookmarks") == "true");
  CHECK(reqs[0].param("timeoutSeconds") == "300");
}

TEST_CASE("watch: a connection dropped mid-stream delivers what arrived, then fails as transport, not ApiError") {
  HttpsTestServer server([](const TestRequest&) {
    TestResponse r;
    r.stream = [](ChunkWriter& w) {
      w.write(event("ADDED", "a", "2") + event("ADDED", "b", "3") + event("MODIFIED", "b", "4"));
      return false;  // drop without the last chunk
    };
    return r;
  });
  RestClient client(config_for(server));
  Seen seen;
  bool api_error = false;
  try {
    client.watch(kPods, "", {}, [&](const WatchEvent& e) { return seen.record(e); }, {});
  } catch (const ApiError&) {
    api_error = true;
  } catch (const std::exception&) {
    // A broken stream: the caller re-watches from the last resourceVersion.
  }
  CHECK_FALSE(api_error);
  CHECK(seen.events == std::vector<std::string>{"ADDED a 2", "ADDED b 3", "MODIFIED b 4"});
}

TEST_CASE("watch: 410 Gone at the start and as an ERROR event are ApiError Gone") {
  bool as_event = false;
  HttpsTestServer server([&](const TestRequest&) {
    const json gone = {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"code", 410},
                       {"reason", "Expired"}, {"message", "too old resource version: 1 (50)"}};
    if (!as_event) return TestResponse::json(410, gone.dump());
    TestResponse r;
    r.stream = [gone](ChunkWriter& w) {
      return w.write(event("ADDED", "a", "2")) && w.write(json{{"type", "ERROR"}, {"object", gone}}.dump() + "\n");
    };
    return r;
  });
  RestClient client(config_for(server));
  for (bool ev : {false, true}) {
    as_event = ev;
    INFO("as event: " << ev);
    Seen seen;
    try {
      client.watch(kPods, "ns", {.label_selector = "", .field_selector = "", .resource_version = "1"}, [&](const WatchEvent& e) { return seen.record(e); }, {});
      FAIL("no error");
    } catch (const ApiError& e) {
      CHECK(e.is_gone());
      CHECK(e.reason() == "Expired");
      CHECK(e.verb() == "GET");
      CHECK(e.path() == "/api/v1/namespaces/ns/pods");
    }
    CHECK(seen.size() == (ev ? 1u : 0u));
  }
}

TEST_CASE("watch: on_event returning false ends the watch") {
  HttpsTestServer server([](const TestRequest&) {
    TestResponse r;
    r.stream = [](ChunkWriter& w) {
      w.write(event("ADDED", "a", "2") + event("ADDED", "b", "3"));
      return w.wait_client_closed(30s) || true;
    };
    return r;
  });
  RestClient client(config_for(server));
  int calls = 0;
  client.watch(kPods, "", {}, [&](const WatchEvent&) { return ++calls < 1; }, {});
  CHECK(calls == 1);
}

TEST_CASE("watch: a stop request cancels a blocked watch promptly and closes its connection") {
  std::mutex mu;
  std::condition_variable cv;
  bool client_closed = false;
  HttpsTestServer server([&](const TestRequest&) {
    TestResponse r;
    r.stream = [&](ChunkWriter& w) {
      w.write(event("ADDED", "a", "2"));
      const bool closed = w.wait_client_closed(60s);  // never sends more: the client is blocked reading
      {
        std::lock_guard lock(mu);
        client_closed = closed;
      }
      cv.notify_all();
      return false;
    };
    return r;
  });
  RestClient client(config_for(server));
  Seen seen;
  std::stop_source stop;
  std::atomic<bool> returned{false};
  std::exception_ptr failure;
  std::jthread watcher([&] {
    try {
      client.watch(kPods, "", {}, [&](const WatchEvent& e) { return seen.record(e); }, stop.get_token());
    } catch (...) {
      failure = std::current_exception();
    }
    returned = true;
  });
  REQUIRE(eventually([&] { return seen.size() == 1; }));
  CHECK_FALSE(returned);
  const auto asked = std::chrono::steady_clock::now();
  stop.request_stop();
  REQUIRE(eventually([&] { return returned.load(); }, 10s));
  CHECK(std::chrono::steady_clock::now() - asked < 5s);
  CHECK_FALSE(failure);  // a requested stop is a normal return
  std::unique_lock lock(mu);
  CHECK(cv.wait_for(lock, 30s, [&] { return client_closed; }));
}

TEST_CASE("watch: a stop requested before the call returns at once without a request") {
  HttpsTestServer server([](const TestRequest&) { return TestResponse::json(200, ""); });
  RestClient client(config_for(server));
  std::stop_source stop;
  stop.request_stop();
  client.watch(kPods, "", {}, [](const WatchEvent&) { return true; }, stop.get_token());
  CHECK(server.requests().empty());
}

TEST_CASE("watch: an exception from on_event passes through unwrapped") {
  HttpsTestServer server([](const TestRequest&) {
    TestResponse r;
    r.stream = [](ChunkWriter& w) {
      w.write(event("ADDED", "a", "2"));
      return w.wait_client_closed(30s) || true;
    };
    return r;
  });
  RestClient client(config_for(server));
  CHECK_THROWS_WITH(client.watch(kPods, "", {}, [](const WatchEvent&) -> bool { throw std::logic_error("mine"); }, {}),
                    "mine");
}
