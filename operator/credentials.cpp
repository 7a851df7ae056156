// Token file re-reads and the client.authentication.k8s.io ExecCredential protocol, cached until expiry.
#include "operator/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

extern char** environ;

namespace kubert {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string base64_encode(const std::string& in) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += {a[v >> 18], a[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], '='};
  }
  return out;
}

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Runs argv with extra environment, returns (exit status, stdout). stdin is /dev/null: the operator is
// never interactive; stderr passes through so the plugin's own messages reach our log stream.
std::pair<int, std::string> run(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                                const std::string& what) {
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw ConfigError(what + ": pipe: " + std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) env_store.emplace_back(*e);
  for (const auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> envp, args;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_store = argv;
  for (auto& a : argv_store) args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    throw ConfigError(what + ": cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(out_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

}  // namespace

CredentialSource::CredentialSource(const RestConfig& cfg, const Clock& clock)
    : base_(cfg), token_file_(cfg.token.empty() ? cfg.token_file : ""), exec_(cfg.exec), clock_(clock) {}

int CredentialSource::exec_runs_for_test() const {
  std::lock_guard lock(mu_);
  return exec_runs_;
}

void CredentialSource::invalidate() {
  std::lock_guard lock(mu_);
  exec_cached_.reset();
  exec_expiry_.reset();
  file_mtime_.reset();
}

Credentials CredentialSource::current() {
  std::lock_guard lock(mu_);
  Credentials out{base_.token, base_.client_cert_pem, base_.client_key_pem};
  if (!token_file_.empty()) {
    std::error_code ec;
    const auto mtime = fs::last_write_time(token_file_, ec);
    const auto size = ec ? 0 : fs::file_size(token_file_, ec);
    if (ec) {
      // A projected token mid-rotation may briefly vanish: keep the last good one if we have it.
      if (file_token_.empty()) throw ConfigError("token file " + token_file_ + ": cannot read: " + ec.message());
    } else if (!file_mtime_ || *file_mtime_ != mtime || file_size_ != size) {
      std::ifstream in(token_file_, std::ios::binary);
      std::ostringstream ss;
      ss << in.rdbuf();
      const std::string t = trim(ss.str());
      if (!t.empty()) {
        file_token_ = t;
        file_mtime_ = mtime;
        file_size_ = size;
      } else if (file_token_.empty()) {
        throw ConfigError("token file " + token_file_ + " is empty");
      }
    }
    out.token = file_token_;
  }
  if (exec_) {
    const bool expired = exec_expiry_ && clock_.wall() >= *exec_expiry_;
    if (!exec_cached_ || expired) exec_cached_ = run_exec_locked();
    if (!exec_cached_->token.empty()) out.token = exec_cached_->token;
    if (!exec_cached_->client_cert_pem.empty()) {
      out.client_cert_pem = exec_cached_->client_cert_pem;
      out.client_key_pem = exec_cached_->client_key_pem;
    }
  }
  return out;
}

Credentials CredentialSource::run_exec_locked() {
  const ExecConfig& e = *exec_;
  const std::string what = "exec plugin " + e.command;
  json info = {{"apiVersion", e.api_version}, {"kind", "ExecCredential"}, {"spec", {{"interactive", false}}}};
  if (e.provide_cluster_info) {
    json cluster = {{"server", base_.server}, {"insecure-skip-tls-verify", base_.insecure_skip_tls_verify}};
    if (!base_.ca_pem.empty()) cluster["certificate-authority-data"] = base64_encode(base_.ca_pem);
    if (!base_.tls_server_name.empty()) cluster["tls-server-name"] = base_.tls_server_name;
    info["spec"]["cluster"] = cluster;
  }
  std::vector<std::string> argv{e.command};
  argv.insert(argv.end(), e.args.begin(), e.args.end());
  std::vector<std::string> env;
  for (const auto& [k, v] : e.env) env.push_back(k + "=" + v);
  env.push_back("KUBERNETES_EXEC_INFO=" + info.dump());
  ++exec_runs_;
  const auto [status, out] = run(argv, env, what);
  if (status != 0) {
    std::string msg = what + " exited with status " + std::to_string(status);
    if (status == 127 && !e.install_hint.empty()) msg += "; " + trim(e.install_hint);
    throw ConfigError(msg);
  }
  json cred;
  try {
    cred = json::parse(out);
  } catch (const json::exception&) {
    throw ConfigError(what + ": output is not an ExecCredential JSON object");
  }
  if (!cred.is_object() || cred.value("kind", "") != "ExecCredential")
    throw ConfigError(what + ": output kind is not ExecCredential");
  if (cred.value("apiVersion", "") != e.api_version)
    throw ConfigError(what + ": output apiVersion \"" + cred.value("apiVersion", "") + "\" does not match \"" +
                      e.api_version + "\"");
  const json status_obj = cred.value("status", json::object());
  if (!status_obj.is_object()) throw ConfigError(what + ": output status is not an object");
  Credentials c;
  c.token = status_obj.value("token", "");
  c.client_cert_pem = status_obj.value("clientCertificateData", "");
  c.client_key_pem = status_obj.value("clientKeyData", "");
  if (c.client_cert_pem.empty() != c.client_key_pem.empty())
    throw ConfigError(what + ": output has only one of status.clientCertificateData and status.clientKeyData");
  if (c.token.empty() && c.client_cert_pem.empty())
    throw ConfigError(what + ": output has neither status.token nor a client certificate");
  exec_expiry_.reset();
  if (const std::string exp = status_obj.value("expirationTimestamp", ""); !exp.empty()) {
    try {
      exec_expiry_ = parse_rfc3339(exp);
    } catch (const std::invalid_argument&) {
      throw ConfigError(what + ": output status.expirationTimestamp \"" + exp + "\" is not RFC 3339");
    }
  }
  return c;
}

}  // namespace kubert
