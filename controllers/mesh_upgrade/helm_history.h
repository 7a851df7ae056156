// Writing Helm's record as `helm upgrade` and `helm rollback` would: the next release revision, the previous one
// superseded, history pruned. Pure: the action (actions/record_helm_release.cpp) does the API calls.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshupgrade {

inline constexpr int kHelmHistoryMax = 10;  // helm upgrade's --history-max default
inline constexpr std::string_view kHelmAttemptAnnotation = "upgrade.flomesh.io/helm-record";  // "<attempt>/<kind>"

// One release Secret, decoded.
struct HelmRevision {
  std::string secret_name;
  std::string resource_version;
  std::string marker;  // kHelmAttemptAnnotation's value, "" when Helm itself wrote it
  nlohmann::json release;
  int version() const { return release.value("version", 0); }
  std::string status() const;
};

std::string base64_encode(const std::string& in);

// The release JSON of a Secret as the API returns it (base64 twice, gzip). Throws std::runtime_error.
nlohmann::json decode_release(const nlohmann::json& secret);
// Every release Secret of a list, by version ascending; Secrets that do not decode are skipped, as Helm does.
std::vector<HelmRevision> helm_history(const nlohmann::json& secret_list);

// The Secret that stores `release` as Helm's secrets driver does: labels name, owner, status, version and
// createdAt (on create) or modifiedAt (on update); type helm.sh/release.v1; data.release base64(base64(gzip)).
nlohmann::json release_secret(const nlohmann::json& release, const std::string& namespace_, const std::string& marker,
                              const std::string& time_label, long long unix_seconds);

// The same release with another status (a superseded revision).
nlohmann::json with_status(nlohmann::json release, const std::string& status);

struct HelmUpgrade {
  std::string chart_version, app_version;             // the target chart
  nlohmann::json value_overrides;                     // merged into the previous config
  std::vector<std::pair<std::string, std::string>> image_rewrites;  // old image → new image
  std::vector<std::pair<std::string, std::string>> arg_rewrites;    // "--flag" → new value (old value in manifest)
  std::map<std::string, std::string> arg_old_values;                // "--flag" → old value
  std::string manifest;                               // when not empty, the manifest as applied (Manifests source)
  std::string description;
  std::string now;                                    // RFC 3339
};

// The revision after `previous` (the deployed one) at `version`, as `helm upgrade` records it.
nlohmann::json upgraded_release(const nlohmann::json& previous, int version, const HelmUpgrade& u);
// `helm rollback` to `target`: its chart, config and manifest at `version`, first_deployed kept from `current`.
nlohmann::json rolled_back_release(const nlohmann::json& current, const nlohmann::json& target, int version,
                                   const std::string& description, const std::string& now);

// The manifest with the Images source's rewrites: image references, and the values of the rewritten flags in
// either form a chart renders them (`"--flag", "v"`, `- --flag` / `- v`, `--flag=v`).
std::string rewrite_manifest(const std::string& manifest, const HelmUpgrade& u);

// Secrets to delete so that, with one more revision, at most `max` remain; the deployed one is kept (Helm's
// storage removeLeastRecent).
std::vector<std::string> revisions_to_prune(const std::vector<HelmRevision>& history, int max = kHelmHistoryMax);

}  // namespace meshupgrade
