// kubeconfig parsing: each auth form, file resolution, and one clear line for each kind of broken file.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "operator/kubeconfig.h"

namespace fs = std::filesystem;
using kubert::ConfigError;
using kubert::load_kubeconfig;

namespace {

const char* kCaPem = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n";
const char* kCertPem = "-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n";
const char* kKeyPem = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n";

std::string b64(const std::string& s) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned val = 0;
  int bits = -6;
  for (unsigned char c : s) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(a[(val >> bits) & 0x3f]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(a[((val << 8) >> (bits + 8)) & 0x3f]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("kubeconfig-test-" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const fs::path p = path / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
};

std::string config_with(const std::string& cluster, const std::string& user, const std::string& extra = "") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: kubesim\n"
         "clusters:\n- name: sim\n  cluster:\n" + cluster +
         "users:\n- name: admin\n  user:\n" + user +
         "contexts:\n- name: kubesim\n  context:\n    cluster: sim\n    user: admin\n    namespace: shop\n" + extra;
}

std::string error_of(const std::string& path, const std::string& context = "") {
  try {
    load_kubeconfig(path, context);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("kubeconfig: inline CA, client certificate and key") {
  TempDir dir;
  const auto path = dir.write("config", config_with(
      "    server: https://127.0.0.1:6443/\n    certificate-authority-data: " + b64(kCaPem) + "\n",
      "    client-certificate-data: " + b64(kCertPem) + "\n    client-key-data: " + b64(kKeyPem) + "\n"));
  const auto cfg = load_kubeconfig(path);
  CHECK(cfg.server == "https://127.0.0.1:6443");
  CHECK(cfg.ca_pem == kCaPem);
  CHECK(cfg.client_cert_pem == kCertPem);
  CHECK(cfg.client_key_pem == kKeyPem);
  CHECK(cfg.namespace_ == "shop");
  CHECK_FALSE(cfg.insecure_skip_tls_verify);
  CHECK(cfg.source == "kubeconfig " + path + " context kubesim");
}

TEST_CASE("kubeconfig: relative file paths resolve against the kubeconfig's directory") {
  TempDir dir;
  dir.write("pki/ca.crt", kCaPem);
  dir.write("pki/client.crt", kCertPem);
  dir.write("pki/client.key", kKeyPem);
  dir.write("pki/token", "file-token\n");
  const auto path = dir.write("sub/../config", config_with(
      "    server: https://h:1\n    certificate-authority: pki/ca.crt\n",
      "    client-certificate: pki/client.crt\n    client-key: pki/client.key\n    tokenFile: pki/token\n"));
  const auto cfg = load_kubeconfig(path);
  CHECK(cfg.ca_pem == kCaPem);
  CHECK(cfg.client_cert_pem == kCertPem);
  CHECK(cfg.client_key_pem == kKeyPem);
  CHECK(fs::equivalent(cfg.token_file, dir.path / "pki/token"));
}

TEST_CASE("kubeconfig: bearer token and insecure-skip-tls-verify") {
  TempDir dir;
  const auto path = dir.write("config", config_with("    server: https://h:1\n    insecure-skip-tls-verify: true\n",
                                                    "    token: abc.def\n"));
  const auto cfg = load_kubeconfig(path);
  CHECK(cfg.token == "abc.def");
  CHECK(cfg.insecure_skip_tls_verify);
  CHECK(cfg.ca_pem.empty());
}

TEST_CASE("kubeconfig: exec plugin with args, env and a command relative to the file") {
  TempDir dir;
  const auto path = dir.write("config", config_with(
      "    server: https://h:1\n",
      "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./bin/cred\n"
      "      args: [get, --x]\n      env:\n      - name: A\n        value: b\n      provideClusterInfo: true\n"));
  const auto cfg = load_kubeconfig(path);
  REQUIRE(cfg.exec);
  CHECK(cfg.exec->command == (dir.path / "./bin/cred").string());
  CHECK(cfg.exec->args == std::vector<std::string>{"get", "--x"});
  REQUIRE(cfg.exec->env.size() == 1);
  CHECK(cfg.exec->env[0] == std::pair<std::string, std::string>{"A", "b"});
  CHECK(cfg.exec->provide_cluster_info);
}

TEST_CASE("kubeconfig: --context picks another context; unknown context is named with the list") {
  TempDir dir;
  const auto path = dir.write("config", config_with("    server: https://h:1\n", "    token: t\n",
      "- name: other\n  context:\n    cluster: sim\n    user: admin\n"));
  CHECK(load_kubeconfig(path, "other").namespace_.empty());
  CHECK(error_of(path, "foo") ==
        "kubeconfig " + path + ": context \"foo\" (from --context) not found; contexts: kubesim, other");
}

TEST_CASE("kubeconfig: KUBECONFIG lists merge with the first file winning") {
  TempDir dir;
  const auto a = dir.write("a", "current-context: kubesim\n");
  const auto b = dir.write("b", config_with("    server: https://b:1\n", "    token: t\n"));
  ::setenv("KUBECONFIG", (a + ":" + dir.path.string() + "/missing:" + b).c_str(), 1);
  const auto cfg = load_kubeconfig();
  ::unsetenv("KUBECONFIG");
  CHECK(cfg.server == "https://b:1");
}

TEST_CASE("kubeconfig: each kind of broken file gives one line naming file and field") {
  TempDir dir;
  const std::string ok_cluster = "    server: https://h:1\n";
  struct Row {
    const char* name;
    std::string text;
    std::string want;  // substring after "kubeconfig <path>: "
  };
  const Row rows[] = {
      {"not YAML", "clusters: [\n", "not valid YAML"},
      {"not a mapping", "- a\n- b\n", "the top level must be a mapping"},
      {"no current-context", "clusters: []\n", "current-context is not set and no --context was given; contexts: none"},
      {"current-context unknown", "current-context: gone\ncontexts:\n- name: x\n  context: {cluster: c}\n",
       "context \"gone\" (current-context) not found; contexts: x"},
      {"cluster missing", config_with(ok_cluster, "    token: t\n").replace(
           config_with(ok_cluster, "    token: t\n").find("cluster: sim"), 12, "cluster: nope"),
       "context \"kubesim\": cluster \"nope\" not found in clusters"},
      {"server missing", config_with("    insecure-skip-tls-verify: true\n", "    token: t\n"),
       "cluster \"sim\".server is missing"},
      {"server not a URL", config_with("    server: 127.0.0.1:6443\n", "    token: t\n"),
       "cluster \"sim\".server \"127.0.0.1:6443\" must start with https:// or http://"},
      {"bad base64", config_with("    server: https://h:1\n    certificate-authority-data: '%%%'\n", "    token: t\n"),
       "cluster \"sim\".certificate-authority-data is not valid base64"},
      {"CA not PEM", config_with("    server: https://h:1\n    certificate-authority-data: " + b64("junk") + "\n",
                                 "    token: t\n"),
       "cluster \"sim\".certificate-authority is not PEM data"},
      {"CA file missing", config_with("    server: https://h:1\n    certificate-authority: nope.crt\n", "    token: t\n"),
       "cluster \"sim\".certificate-authority: cannot read " + (dir.path / "nope.crt").string()},
      {"cert without key", config_with(ok_cluster, "    client-certificate-data: " + b64(kCertPem) + "\n"),
       "user \"admin\": client-certificate and client-key must be given together"},
      {"token file missing", config_with(ok_cluster, "    tokenFile: /nonexistent/token\n"),
       "user \"admin\".tokenFile: cannot read /nonexistent/token"},
      {"exec without command", config_with(ok_cluster, "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"),
       "user \"admin\".exec.command is missing"},
      {"exec old apiVersion", config_with(ok_cluster, "    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n"
                                                      "      command: x\n"),
       "user \"admin\".exec.apiVersion \"client.authentication.k8s.io/v1alpha1\" is not supported"},
      {"auth-provider", config_with(ok_cluster, "    auth-provider:\n      name: gcp\n"),
       "user \"admin\".auth-provider is not supported; use exec"},
      {"insecure bool", config_with("    server: https://h:1\n    insecure-skip-tls-verify: maybe\n", "    token: t\n"),
       "cluster \"sim\".insecure-skip-tls-verify must be true or false"},
      {"clusters not a list", "current-context: a\nclusters: {a: 1}\n", "clusters must be a list"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    const auto path = dir.write(std::string("bad-") + row.name, row.text);
    const std::string err = error_of(path);
    CHECK(err.rfind("kubeconfig " + path + ": ", 0) == 0);
    CHECK_THAT(err, Catch::Contains(row.want));
    CHECK(err.find('\n') == std::string::npos);
  }
  CHECK(error_of(dir.path.string()) == "kubeconfig " + dir.path.string() + ": is a directory, not a file");
  CHECK(error_of((dir.path / "absent").string()) == "kubeconfig " + (dir.path / "absent").string() + ": file not found");
}

TEST_CASE("kubeconfig: errors never carry the token or key") {
  TempDir dir;
  const auto path = dir.write("config", config_with("    server: nope\n", "    token: s3cr3t-token\n"));
  CHECK(error_of(path).find("s3cr3t") == std::string::npos);
}

TEST_CASE("in-cluster config reads the service account files") {
  TempDir dir;
  dir.write("token", "sa-token\n");
  dir.write("ca.crt", kCaPem);
  dir.write("namespace", "osm-system\n");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  const auto cfg = kubert::in_cluster_config(dir.path.string());
  CHECK(cfg.server == "https://10.96.0.1:443");
  CHECK(cfg.token_file == (dir.path / "token").string());
  CHECK(cfg.ca_pem == kCaPem);
  CHECK(cfg.namespace_ == "osm-system");
  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  CHECK(kubert::in_cluster_config(dir.path.string()).server == "https://[fd00::1]:443");
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_THROWS_WITH(kubert::in_cluster_config(dir.path.string()),
                    "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  CHECK_THROWS_AS(kubert::in_cluster_config((dir.path / "nope").string()), ConfigError);
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  ::unsetenv("KUBERNETES_SERVICE_PORT");
}

TEST_CASE("base64_decode accepts padding and whitespace, rejects garbage") {
  CHECK(kubert::base64_decode("aGVsbG8=") == "hello");
  CHECK(kubert::base64_decode("aGVs\nbG8h") == "hello!");
  CHECK_THROWS(kubert::base64_decode("a$=="));
  CHECK_THROWS(kubert::base64_decode("aGVsb"));
}
