// Bearer token and client certificate for requests: static, from a rotating token file, or from an exec plugin.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "operator/clock.h"
#include "operator/kubeconfig.h"

namespace kubert {

struct Credentials {
  std::string token;            // "" : no bearer token
  std::string client_cert_pem;  // "" : no client certificate
  std::string client_key_pem;
};

// Thread-safe. Never logs or puts secrets into exceptions.
class CredentialSource {
 public:
  CredentialSource(const RestConfig& cfg, const Clock& clock);

  // What to send now. Re-reads the token file when its modification time or size changed, and runs the
  // exec plugin when nothing is cached or the cached credential has expired. Throws ConfigError when the
  // token file or plugin fails.
  Credentials current();

  // After a 401: forget cached exec credentials and the token file's stamp, so the next current() fetches anew.
  void invalidate();

  bool refreshable() const noexcept { return !token_file_.empty() || exec_.has_value(); }
  // How many times the exec plugin ran (for tests).
  int exec_runs_for_test() const;

 private:
  Credentials run_exec_locked();

  const RestConfig base_;
  const std::string token_file_;
  const std::optional<ExecConfig> exec_;
  const Clock& clock_;
  mutable std::mutex mu_;
  // Token file cache: the stamp it was read at.
  std::string file_token_;
  std::optional<std::chrono::file_clock::time_point> file_mtime_;
  std::uintmax_t file_size_ = 0;
  // Exec plugin cache.
  std::optional<Credentials> exec_cached_;
  std::optional<std::chrono::system_clock::time_point> exec_expiry_;
  int exec_runs_ = 0;
};

// Standard base64 with padding (for ExecCredential's cluster info).
std::string base64_encode(const std::string& in);

}  // namespace kubert
