// The Helm release Secret of a mesh: sh.helm.release.v1.<mesh>.v<N>, base64(gzip(JSON)) in data.release.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace meshupgrade {

struct HelmRelease {
  std::string name;
  int revision = 0;
  std::string status;        // deployed, superseded, failed, ...
  std::string chart_version;
  std::string app_version;
};

// Decodes a release Secret as the API returns it (data.release is base64 of Helm's own base64).
// Throws std::runtime_error naming what could not be decoded.
HelmRelease decode_helm_release(const nlohmann::json& secret);
// The newest deployed revision among the Secrets of a list; nullopt when there is none.
std::optional<HelmRelease> newest_deployed(const nlohmann::json& secret_list);

std::string base64_decode(const std::string& in);  // throws std::runtime_error on bad input
std::string gunzip(const std::string& in);          // throws std::runtime_error on bad input
std::string gzip(const std::string& in);            // throws std::runtime_error when zlib fails

}  // namespace meshupgrade
