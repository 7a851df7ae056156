// Helm's record written as Helm writes it (pkg/storage/driver/secrets.go, pkg/storage/storage.go,
// pkg/action/upgrade.go and rollback.go of helm v3 were followed for labels, statuses and pruning).
#include "controllers/mesh_upgrade/helm_history.h"

#include <algorithm>
#include <regex>
#include <stdexcept>

#include "controllers/mesh_upgrade/helm_release.h"

namespace meshupgrade {

using nlohmann::json;

std::string HelmRevision::status() const {
  return release.contains("info") && release["info"].is_object() ? release["info"].value("status", "") : "";
}

std::string base64_encode(const std::string& in) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], kAlphabet[n & 63]};
  }
  if (i + 1 == in.size()) {
    const unsigned n = static_cast<unsigned char>(in[i]) << 16;
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    const unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

json decode_release(const json& secret) {
  if (!secret.contains("data") || !secret["data"].contains("release") || !secret["data"]["release"].is_string()) {
    throw std::runtime_error("no data.release");
  }
  std::string raw = base64_decode(base64_decode(secret["data"]["release"].get<std::string>()));
  if (raw.size() > 2 && static_cast<unsigned char>(raw[0]) == 0x1f && static_cast<unsigned char>(raw[1]) == 0x8b) {
    raw = gunzip(raw);
  }
  return json::parse(raw);
}

std::vector<HelmRevision> helm_history(const json& secret_list) {
  std::vector<HelmRevision> out;
  for (const auto& s : secret_list.value("items", json::array())) {
    if (s.value("type", "") != "helm.sh/release.v1") continue;
    HelmRevision r;
    const json meta = s.value("metadata", json::object());
    r.secret_name = meta.value("name", "");
    r.resource_version = meta.value("resourceVersion", "");
    r.marker = meta.value("annotations", json::object()).value(std::string(kHelmAttemptAnnotation), "");
    try {
      r.release = decode_release(s);
    } catch (const std::exception&) {
      continue;  // Helm's query skips what it cannot decode, too
    }
    if (!r.release.is_object()) continue;
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const HelmRevision& a, const HelmRevision& b) { return a.version() < b.version(); });
  return out;
}

json release_secret(const json& release, const std::string& ns, const std::string& marker, const std::string& time_label,
                    long long unix_seconds) {
  const std::string name = release.value("name", "");
  const int version = release.value("version", 0);
  json labels = {{"name", name},
                 {"owner", "helm"},
                 {"status", release.contains("info") ? release["info"].value("status", "") : ""},
                 {"version", std::to_string(version)},
                 {time_label, std::to_string(unix_seconds)}};
  json meta = {{"name", "sh.helm.release.v1." + name + ".v" + std::to_string(version)}, {"namespace", ns}, {"labels", labels}};
  if (!marker.empty()) meta["annotations"] = {{std::string(kHelmAttemptAnnotation), marker}};
  // The API's data values are base64 of the bytes; Helm's bytes are themselves base64 of the gzipped JSON.
  return {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", meta}, {"type", "helm.sh/release.v1"},
          {"data", {{"release", base64_encode(base64_encode(gzip(release.dump())))}}}};
}

json with_status(json release, const std::string& status) {
  release["info"]["status"] = status;
  return release;
}

json upgraded_release(const json& previous, int version, const HelmUpgrade& u) {
  json out = previous;
  out["version"] = version;
  json info = previous.value("info", json::object());
  info["first_deployed"] = info.value("first_deployed", u.now);
  info["last_deployed"] = u.now;
  info["deleted"] = "";
  info["description"] = u.description;
  info["status"] = "deployed";
  out["info"] = info;
  out["chart"]["metadata"]["version"] = u.chart_version;
  out["chart"]["metadata"]["appVersion"] = u.app_version;
  json config = previous.contains("config") && previous["config"].is_object() ? previous["config"] : json::object();
  config.merge_patch(u.value_overrides);
  out["config"] = config;
  out["manifest"] = u.manifest.empty() ? rewrite_manifest(previous.value("manifest", ""), u) : u.manifest;
  return out;
}

json rolled_back_release(const json& current, const json& target, int version, const std::string& description,
                         const std::string& now) {
  json out = target;
  out["version"] = version;
  json info = target.value("info", json::object());
  info["first_deployed"] = current.value("info", json::object()).value("first_deployed", now);
  info["last_deployed"] = now;
  info["deleted"] = "";
  info["description"] = description;
  info["status"] = "deployed";
  out["info"] = info;
  return out;
}

namespace {

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  if (from.empty()) return s;
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
    s.replace(pos, from.size(), to);
  }
  return s;
}

std::string regex_escape(const std::string& s) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(s, special, R"(\$&)");
}

}  // namespace

std::string rewrite_manifest(const std::string& manifest, const HelmUpgrade& u) {
  std::string out = manifest;
  for (const auto& [from, to] : u.image_rewrites) out = replace_all(out, from, to);
  for (const auto& [flag, value] : u.arg_rewrites) {
    auto old = u.arg_old_values.find(flag);
    if (old == u.arg_old_values.end() || old->second == value) continue;
    // `--flag=old`, or the flag then its value as the next list item (flow `"--flag", "old"` or block `- old`).
    const std::regex joined(regex_escape(flag) + "=" + regex_escape(old->second) + R"((?=["'\s,\]]|$))");
    out = std::regex_replace(out, joined, flag + "=" + value);
    const std::regex split("(" + regex_escape(flag) + R"(["']?\s*,?\s*-?\s*["']?))" + regex_escape(old->second) +
                           R"((?=["'\s,\]]|$))");
    out = std::regex_replace(out, split, "$01" + value);  // two digits: the value may start with one
  }
  return out;
}

std::vector<std::string> revisions_to_prune(const std::vector<HelmRevision>& history, int max) {
  std::vector<std::string> out;
  const int keep = max - 1;  // room for the one about to be written
  if (max <= 0 || static_cast<int>(history.size()) <= keep) return out;
  int last_deployed = -1;
  for (const auto& r : history) {
    if (r.status() == "deployed") last_deployed = std::max(last_deployed, r.version());
  }
  std::size_t remaining = history.size();
  for (const auto& r : history) {  // oldest first
    if (static_cast<int>(remaining) <= keep) break;
    if (r.version() == last_deployed) continue;
    out.push_back(r.secret_name);
    --remaining;
  }
  return out;
}

}  // namespace meshupgrade
