// Where the API server is and how to authenticate: kubeconfig files (yaml-cpp) and in-cluster config.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace kubert {

// A kubeconfig or in-cluster configuration that cannot be used. what() is one line naming the file, the
// field and what is wrong; it never contains a token, key or certificate.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A client.authentication.k8s.io exec credential plugin, as the kubeconfig user declares it.
struct ExecConfig {
  std::string command;  // resolved: a relative path with a slash is taken against the kubeconfig's directory
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string api_version = "client.authentication.k8s.io/v1";
  bool provide_cluster_info = false;
  std::string install_hint;
};

struct RestConfig {
  std::string server;                    // "https://127.0.0.1:6443" (no trailing slash)
  std::string ca_pem;                    // "" : the system trust store
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;           // SNI / host check override; "" : the server's host
  std::string client_cert_pem;           // client certificate chain (PEM), with client_key_pem
  std::string client_key_pem;
  std::string token;                     // static bearer token
  std::string token_file;                // re-read when it changes (service-account token rotation)
  std::optional<ExecConfig> exec;        // exec credential plugin
  std::string namespace_;                // the context's namespace ("" : none given)
  std::string source;                    // for logs: "kubeconfig /root/.kube/config context kubesim"
  // Client behaviour, set from flags by the caller.
  double qps = 20;
  int burst = 30;
  std::chrono::seconds timeout{30};      // per request; watches have no overall timeout
  std::string user_agent;                // "" : meshupgrade-operator/<version>
};

// Loads a kubeconfig. path "" : $KUBECONFIG (a ':'-separated list, merged, first wins) or ~/.kube/config.
// context "" : the file's current-context. Throws ConfigError.
RestConfig load_kubeconfig(const std::string& path = "", const std::string& context = "");

// Builds the config a pod gets: KUBERNETES_SERVICE_HOST/PORT, and root's token, ca.crt and namespace.
// Throws ConfigError.
RestConfig in_cluster_config(const std::string& root = "/var/run/secrets/kubernetes.io/serviceaccount");

// client-go's order: an explicit path, else $KUBECONFIG, else ~/.kube/config if it exists, else in-cluster
// if KUBERNETES_SERVICE_HOST is set. nullopt when none applies. Throws ConfigError for a broken one.
std::optional<RestConfig> load_default(const std::string& kubeconfig_path = "", const std::string& context = "");

// Strict RFC 4648 base64 (whitespace ignored); throws std::invalid_argument. Exposed for tests.
std::string base64_decode(const std::string& in);

}  // namespace kubert
