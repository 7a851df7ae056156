// Every flag in both spellings; unknown flags and bad values are UsageErrors (main exits 2 on them).
#include <catch2/catch.hpp>

#include <vector>

#include "operator/options.h"

using namespace kubert;

namespace {
ManagerOptions parse(std::vector<std::string> args) {
  args.insert(args.begin(), "meshupgrade-operator");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return parse_flags(static_cast<int>(argv.size()), argv.data());
}
}  // namespace

TEST_CASE("options: defaults") {
  const ManagerOptions o = parse({});
  CHECK(o.kubeconfig.empty());
  CHECK(o.watch_namespace.empty());
  CHECK(o.metrics_bind_address == ":8080");
  CHECK(o.health_probe_bind_address == ":8081");
  CHECK_FALSE(o.leader_elect);
  CHECK(o.leader_election_id == "meshupgrade-operator");
  CHECK(o.max_concurrent_reconciles == 1);
  CHECK(o.kube_api_qps == 20);
  CHECK(o.kube_api_burst == 30);
  CHECK(o.log_level == LogLevel::Info);
  CHECK(o.log_format == LogFormat::Json);
  CHECK_FALSE(o.show_help);
  CHECK_FALSE(o.show_version);
}

TEST_CASE("options: every flag, as --flag value and --flag=value") {
  const ManagerOptions a = parse({"--kubeconfig", "/k", "--context", "c", "--namespace", "ns",
                                  "--metrics-bind-address", "127.0.0.1:9090", "--health-probe-bind-address", "0",
                                  "--leader-elect", "--leader-election-namespace", "le", "--leader-election-id",
                                  "id", "--max-concurrent-reconciles", "4", "--kube-api-qps", "50.5",
                                  "--kube-api-burst", "100", "--log-level", "debug", "--log-format", "text"});
  const ManagerOptions b = parse({"--kubeconfig=/k", "--context=c", "--namespace=ns",
                                  "--metrics-bind-address=127.0.0.1:9090", "--health-probe-bind-address=0",
                                  "--leader-elect=true", "--leader-election-namespace=le", "--leader-election-id=id",
                                  "--max-concurrent-reconciles=4", "--kube-api-qps=50.5", "--kube-api-burst=100",
                                  "--log-level=debug", "--log-format=text"});
  for (const ManagerOptions& o : {a, b}) {
    CHECK(o.kubeconfig == "/k");
    CHECK(o.context == "c");
    CHECK(o.watch_namespace == "ns");
    CHECK(o.metrics_bind_address == "127.0.0.1:9090");
    CHECK(o.health_probe_bind_address == "0");
    CHECK(o.leader_elect);
    CHECK(o.leader_election_namespace == "le");
    CHECK(o.leader_election_id == "id");
    CHECK(o.max_concurrent_reconciles == 4);
    CHECK(o.kube_api_qps == 50.5);
    CHECK(o.kube_api_burst == 100);
    CHECK(o.log_level == LogLevel::Debug);
    CHECK(o.log_format == LogFormat::Text);
  }
  CHECK_FALSE(parse({"--leader-elect=false"}).leader_elect);
  CHECK(parse({"--help"}).show_help);
  CHECK(parse({"--version"}).show_version);
}

TEST_CASE("options: unknown flags and bad values are usage errors") {
  const std::vector<std::vector<std::string>> bad = {
      {"--nope"},
      {"--kubeconfig"},                        // missing value
      {"--max-concurrent-reconciles", "0"},
      {"--max-concurrent-reconciles=two"},
      {"--kube-api-qps=-1"},
      {"--kube-api-qps=fast"},
      {"--kube-api-burst=1.5"},
      {"--log-level=loud"},
      {"--log-format=xml"},
      {"--leader-elect=maybe"},
      {"--metrics-bind-address=8080"},
      {"--health-probe-bind-address=:http"},
      {"--leader-election-id="},
      {"positional"},
  };
  for (const auto& args : bad) {
    INFO(args.front());
    CHECK_THROWS_AS(parse(args), UsageError);
  }
}

TEST_CASE("options: usage lists every flag") {
  const std::string u = usage();
  for (const char* f : {"--kubeconfig", "--context", "--namespace", "--metrics-bind-address",
                        "--health-probe-bind-address", "--leader-elect", "--leader-election-namespace",
                        "--leader-election-id", "--max-concurrent-reconciles", "--kube-api-qps", "--kube-api-burst",
                        "--log-level", "--log-format", "--version", "--help"}) {
    INFO(f);
    CHECK(u.find(f) != std::string::npos);
  }
}
