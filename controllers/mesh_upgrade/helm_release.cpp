// Decoding Helm v3 release Secrets: base64 twice, then gzip, then JSON.
#include "controllers/mesh_upgrade/helm_release.h"

#include <stdexcept>

#include <nlohmann/json.hpp>
#include <zlib.h>

namespace meshupgrade {

std::string base64_decode(const std::string& in) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve(in.size() * 3 / 4);
  unsigned int buf = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' ) break;
    if (c == '\n' || c == '\r') continue;
    const auto pos = kAlphabet.find(c);
    if (pos == std::string::npos) throw std::runtime_error("invalid base64 character");
    buf = (buf << 6) | static_cast<unsigned int>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  return out;
}

namespace {

// Runs an initialised zlib stream over `in` to its end (inflate or deflate alike), then ends it.
template <typename Step, typename End>
std::string run_zlib(z_stream& zs, const std::string& in, Step step, int flush, End end, const char* failure) {
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char chunk[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    rc = step(&zs, flush);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      end(&zs);
      throw std::runtime_error(failure);
    }
    out.append(chunk, sizeof chunk - zs.avail_out);
  }
  end(&zs);
  return out;
}

}  // namespace

std::string gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("zlib init failed");
  return run_zlib(zs, in, inflate, Z_NO_FLUSH, inflateEnd, "not gzip data");
}

std::string gzip(const std::string& in) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib deflate init failed");
  }
  return run_zlib(zs, in, deflate, Z_FINISH, deflateEnd, "zlib deflate failed");
}

HelmRelease decode_helm_release(const nlohmann::json& secret) {
  const std::string name = secret.contains("metadata") ? secret["metadata"].value("name", "") : "";
  try {
    if (!secret.contains("data") || !secret["data"].contains("release")) throw std::runtime_error("no data.release");
    const std::string helm_b64 = base64_decode(secret["data"]["release"].get<std::string>());
    std::string raw = base64_decode(helm_b64);
    // Helm gzips the JSON; older releases stored it plain.
    if (raw.size() > 2 && static_cast<unsigned char>(raw[0]) == 0x1f && static_cast<unsigned char>(raw[1]) == 0x8b) {
      raw = gunzip(raw);
    }
    const auto rel = nlohmann::json::parse(raw);
    HelmRelease out;
    out.name = rel.value("name", "");
    out.revision = rel.value("version", 0);
    if (rel.contains("info")) out.status = rel["info"].value("status", "");
    if (rel.contains("chart") && rel["chart"].contains("metadata")) {
      out.chart_version = rel["chart"]["metadata"].value("version", "");
      out.app_version = rel["chart"]["metadata"].value("appVersion", "");
    }
    return out;
  } catch (const std::exception& e) {
    throw std::runtime_error("Helm release Secret " + name + ": " + e.what());
  }
}

std::optional<HelmRelease> newest_deployed(const nlohmann::json& secret_list) {
  std::optional<HelmRelease> best;
  if (!secret_list.contains("items")) return best;
  for (const auto& s : secret_list["items"]) {
    if (s.value("type", "") != "helm.sh/release.v1") continue;
    HelmRelease r = decode_helm_release(s);
    if (r.status != "deployed") continue;
    if (!best || r.revision > best->revision) best = r;
  }
  return best;
}

}  // namespace meshupgrade
