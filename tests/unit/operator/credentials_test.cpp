// Credentials: token files re-read on rotation, exec plugins run and cached until expiry, 401 refresh.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "operator/credentials.h"
#include "operator/rest_client.h"
#include "support/https_test_server.h"

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using kubert::ConfigError;
using kubert::CredentialSource;
using kubert::RestConfig;
using kubert::testing::HttpsTestServer;
using kubert::testing::TestRequest;
using kubert::testing::TestResponse;

namespace {

class WallClock final : public kubert::Clock {
 public:
  std::chrono::system_clock::time_point wall() const override { return now; }
  std::chrono::steady_clock::time_point steady() const override { return std::chrono::steady_clock::time_point{}; }
  std::chrono::system_clock::time_point now = kubert::parse_rfc3339("2030-01-01T00:00:00Z");
};

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("cred-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text, bool exec = false) const {
    const fs::path p = path / name;
    std::ofstream(p) << text;
    if (exec) fs::permissions(p, fs::perms::owner_all);
    return p.string();
  }
};

// A plugin that counts its runs, saves KUBERNETES_EXEC_INFO, and prints an ExecCredential.
std::string plugin(const TempDir& dir, const std::string& status_json) {
  return dir.write("plugin.sh",
                   "#!/bin/sh\n"
                   "echo run >> \"" + (dir.path / "runs").string() + "\"\n"
                   "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"" + (dir.path / "info.json").string() + "\"\n"
                   "echo \"$PLUGIN_GREETING\" > \"" + (dir.path / "env").string() + "\"\n"
                   "cat <<'EOF'\n{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":" +
                       status_json + "}\nEOF\n",
                   true);
}

RestConfig exec_config(const std::string& command) {
  RestConfig cfg;
  cfg.server = "https://127.0.0.1:1";
  cfg.exec = kubert::ExecConfig{.command = command, .args = {}, .env = {{"PLUGIN_GREETING", "hi"}},
                                .api_version = "client.authentication.k8s.io/v1", .provide_cluster_info = true,
                                .install_hint = ""};
  return cfg;
}

}  // namespace

TEST_CASE("credentials: a token file is re-read when it changes") {
  TempDir dir;
  const auto file = dir.write("token", "first\n");
  RestConfig cfg;
  cfg.token_file = file;
  WallClock clock;
  CredentialSource creds(cfg, clock);
  CHECK(creds.current().token == "first");
  dir.write("token", "second-token\n");  // a different size, so the change is seen even within one mtime tick
  CHECK(creds.current().token == "second-token");
  fs::remove(file);
  CHECK(creds.current().token == "second-token");  // mid-rotation: keep the last good token
}

TEST_CASE("credentials: exec plugin output is cached until its expiration") {
  TempDir dir;
  WallClock clock;
  CredentialSource creds(exec_config(plugin(dir, R"({"token":"exec-tok","expirationTimestamp":"2030-01-01T00:10:00Z"})")),
                         clock);
  CHECK(creds.current().token == "exec-tok");
  CHECK(creds.current().token == "exec-tok");
  CHECK(creds.exec_runs_for_test() == 1);
  clock.now += 10min;
  CHECK(creds.current().token == "exec-tok");
  CHECK(creds.exec_runs_for_test() == 2);
  creds.invalidate();
  creds.current();
  CHECK(creds.exec_runs_for_test() == 3);
  const auto info = nlohmann::json::parse(std::ifstream(dir.path / "info.json"));
  CHECK(info["kind"] == "ExecCredential");
  CHECK(info["apiVersion"] == "client.authentication.k8s.io/v1");
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == "https://127.0.0.1:1");
  std::string greeting;
  std::ifstream(dir.path / "env") >> greeting;
  CHECK(greeting == "hi");
}

TEST_CASE("credentials: exec plugin client certificates are returned") {
  TempDir dir;
  WallClock clock;
  CredentialSource creds(
      exec_config(plugin(dir, R"({"clientCertificateData":"-----BEGIN CERTIFICATE-----\nx\n","clientKeyData":"-----BEGIN EC PRIVATE KEY-----\ny\n"})")),
      clock);
  const auto c = creds.current();
  CHECK(c.token.empty());
  CHECK(c.client_cert_pem.rfind("-----BEGIN CERTIFICATE", 0) == 0);
  CHECK(c.client_key_pem.rfind("-----BEGIN EC PRIVATE KEY", 0) == 0);
}

TEST_CASE("credentials: broken exec plugins give one clear line without the output") {
  TempDir dir;
  WallClock clock;
  const auto fails = dir.write("fails.sh", "#!/bin/sh\necho secret-ish-output\nexit 3\n", true);
  CHECK_THROWS_WITH(CredentialSource(exec_config(fails), clock).current(),
                    "exec plugin " + fails + " exited with status 3");
  const auto garbage = dir.write("garbage.sh", "#!/bin/sh\necho not json\n", true);
  CHECK_THROWS_WITH(CredentialSource(exec_config(garbage), clock).current(),
                    "exec plugin " + garbage + ": output is not an ExecCredential JSON object");
  CHECK_THROWS_WITH(CredentialSource(exec_config(plugin(dir, "{}")), clock).current(),
                    Catch::Contains("neither status.token nor a client certificate"));
  CHECK_THROWS_AS(CredentialSource(exec_config((dir.path / "missing").string()), clock).current(), ConfigError);
}

TEST_CASE("credentials: the client re-runs the exec plugin once after a 401 and retries") {
  TempDir dir;
  std::atomic<int> calls{0};
  HttpsTestServer server([&](const TestRequest&) {
    return calls++ == 0 ? TestResponse::json(401, R"({"kind":"Status","code":401,"reason":"Unauthorized"})")
                        : TestResponse::json(200, R"({"gitVersion":"v1.32.0"})");
  });
  RestConfig cfg = exec_config(plugin(dir, R"({"token":"exec-tok"})"));
  cfg.server = server.url();
  cfg.ca_pem = kubert::testing::TestPki::get().ca_pem;
  kubert::RestClient client(cfg);
  CHECK(client.server_version()["gitVersion"] == "v1.32.0");
  const auto reqs = server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].header("authorization") == "Bearer exec-tok");
  std::ifstream runs(dir.path / "runs");
  int n = 0;
  for (std::string line; std::getline(runs, line);) ++n;
  CHECK(n == 2);
}
