// parse_flags: a table of flags, each with its help line and a setter that validates its value.
#include "operator/options.h"

#include <charconv>
#include <functional>
#include <sstream>
#include <vector>

#include "operator/metrics.h"

namespace kubert {
namespace {

struct Flag {
  const char* name;
  const char* value_name;  // nullptr: a boolean
  const char* help;
  std::function<void(ManagerOptions&, const std::string&)> set;
};

int parse_int(const std::string& flag, const std::string& v, int min) {
  int out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || out < min) {
    throw UsageError("invalid value \"" + v + "\" for --" + flag + ": want an integer >= " + std::to_string(min));
  }
  return out;
}

double parse_positive(const std::string& flag, const std::string& v) {
  double out = 0;
  std::size_t used = 0;
  try {
    out = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (v.empty() || used != v.size() || !(out > 0)) {
    throw UsageError("invalid value \"" + v + "\" for --" + flag + ": want a number > 0");
  }
  return out;
}

bool parse_bool(const std::string& flag, const std::string& v) {
  if (v == "true" || v == "1" || v == "t" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "0" || v == "f" || v == "False" || v == "FALSE") return false;
  throw UsageError("invalid value \"" + v + "\" for --" + flag + ": want true or false");
}

std::string bind_address(const std::string& flag, const std::string& v) {
  if (v == "0") return v;
  try {
    normalize_bind_address(v);
  } catch (const std::invalid_argument& e) {
    throw UsageError("invalid value \"" + v + "\" for --" + flag + ": want [host]:port or 0");
  }
  return v;
}

const std::vector<Flag>& flags() {
  static const std::vector<Flag> table = {
      {"kubeconfig", "path", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, then in-cluster config)",
       [](ManagerOptions& o, const std::string& v) { o.kubeconfig = v; }},
      {"context", "name", "kubeconfig context to use (default: its current-context)",
       [](ManagerOptions& o, const std::string& v) { o.context = v; }},
      {"namespace", "name", "watch MeshUpgrades in this namespace only (default: all namespaces)",
       [](ManagerOptions& o, const std::string& v) { o.watch_namespace = v; }},
      {"metrics-bind-address", "addr", "address of the /metrics endpoint, \"0\" disables (default \":8080\")",
       [](ManagerOptions& o, const std::string& v) { o.metrics_bind_address = bind_address("metrics-bind-address", v); }},
      {"health-probe-bind-address", "addr", "address of /healthz and /readyz, \"0\" disables (default \":8081\")",
       [](ManagerOptions& o, const std::string& v) {
         o.health_probe_bind_address = bind_address("health-probe-bind-address", v);
       }},
      {"leader-elect", nullptr, "elect a leader through a Lease, so one replica acts at a time (default false)",
       [](ManagerOptions& o, const std::string& v) { o.leader_elect = parse_bool("leader-elect", v); }},
      {"leader-election-namespace", "name", "namespace of the Lease (default: the operator's own namespace)",
       [](ManagerOptions& o, const std::string& v) { o.leader_election_namespace = v; }},
      {"leader-election-id", "name", "name of the Lease (default \"meshupgrade-operator\")",
       [](ManagerOptions& o, const std::string& v) {
         if (v.empty()) throw UsageError("invalid value \"\" for --leader-election-id: must not be empty");
         o.leader_election_id = v;
       }},
      {"max-concurrent-reconciles", "n", "MeshUpgrades reconciled at once (default 1)",
       [](ManagerOptions& o, const std::string& v) {
         o.max_concurrent_reconciles = parse_int("max-concurrent-reconciles", v, 1);
       }},
      {"kube-api-qps", "qps", "sustained requests per second to the API server (default 20)",
       [](ManagerOptions& o, const std::string& v) { o.kube_api_qps = parse_positive("kube-api-qps", v); }},
      {"kube-api-burst", "n", "burst of requests to the API server (default 30)",
       [](ManagerOptions& o, const std::string& v) { o.kube_api_burst = parse_int("kube-api-burst", v, 1); }},
      {"log-level", "level", "debug, info, warn or error (default info)",
       [](ManagerOptions& o, const std::string& v) {
         try {
           o.log_level = parse_log_level(v);
         } catch (const std::invalid_argument& e) {
           throw UsageError("invalid value \"" + v + "\" for --log-level: want debug, info, warn or error");
         }
       }},
      {"log-format", "format", "json or text (default json)",
       [](ManagerOptions& o, const std::string& v) {
         try {
           o.log_format = parse_log_format(v);
         } catch (const std::invalid_argument& e) {
           throw UsageError("invalid value \"" + v + "\" for --log-format: want json or text");
         }
       }},
      {"version", nullptr, "print the version and exit",
       [](ManagerOptions& o, const std::string& v) { o.show_version = parse_bool("version", v); }},
      {"help", nullptr, "print this help and exit",
       [](ManagerOptions& o, const std::string& v) { o.show_help = parse_bool("help", v); }},
  };
  return table;
}

}  // namespace

ManagerOptions parse_flags(int argc, char** argv) {
  ManagerOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg.size() == 2) {
      // client-go style single-dash flags are accepted too ("-kubeconfig"), positional arguments are not.
      if (arg.size() > 1 && arg[0] == '-' && arg[1] != '-') {
        arg = "-" + arg;
      } else {
        throw UsageError("unexpected argument \"" + arg + "\"");
      }
    }
    std::string name = arg.substr(2), value;
    bool has_value = false;
    if (const auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = nullptr;
    for (const Flag& f : flags()) {
      if (name == f.name) flag = &f;
    }
    if (!flag) throw UsageError("unknown flag --" + name);
    if (!flag->value_name) {
      flag->set(o, has_value ? value : "true");
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) throw UsageError("flag --" + name + " needs a value");
      value = argv[++i];
    }
    flag->set(o, value);
  }
  return o;
}

std::string usage(const std::string& program) {
  std::ostringstream out;
  out << "Usage: " << program << " [flags]\n\n"
      << "Upgrades an osm-edge service mesh as MeshUpgrade resources ask.\n\nFlags:\n";
  for (const Flag& f : flags()) {
    std::string left = std::string("  --") + f.name + (f.value_name ? std::string(" ") + f.value_name : "");
    if (left.size() < 36) left.resize(36, ' ');
    else left += "\n" + std::string(36, ' ');
    out << left << f.help << "\n";
  }
  return out.str();
}

}  // namespace kubert
