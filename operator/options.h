// The operator's command-line flags, parsed strictly: an unknown flag or a bad value is a UsageError.
#pragma once

#include <stdexcept>
#include <string>

#include "operator/log.h"

namespace kubert {

struct ManagerOptions {
  std::string kubeconfig;                 // "" : $KUBECONFIG, ~/.kube/config, then in-cluster
  std::string context;                    // "" : the kubeconfig's current-context
  std::string watch_namespace;            // --namespace; "" : all namespaces
  std::string metrics_bind_address = ":8080";        // "0" disables
  std::string health_probe_bind_address = ":8081";   // "0" disables
  bool leader_elect = false;
  std::string leader_election_namespace;  // "" : the in-cluster namespace, else the kubeconfig's, else "default"
  std::string leader_election_id = "meshupgrade-operator";
  int max_concurrent_reconciles = 1;
  double kube_api_qps = 20;
  int kube_api_burst = 30;
  LogLevel log_level = LogLevel::Info;
  LogFormat log_format = LogFormat::Json;
  bool show_version = false;              // --version: print and exit 0
  bool show_help = false;                 // --help: print usage and exit 0
};

// A bad command line; main prints what() and usage() to stderr and exits 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Both "--flag value" and "--flag=value"; booleans as "--leader-elect" or "--leader-elect=true|false".
ManagerOptions parse_flags(int argc, char** argv);
std::string usage(const std::string& program = "meshupgrade-operator");

}  // namespace kubert
