// Reads kubeconfig files and the in-cluster service account into a RestConfig, with one-line errors.
#include "operator/kubeconfig.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <yaml-cpp/yaml.h>

namespace kubert {

namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p, const std::string& what_for) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw ConfigError(what_for + ": cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One named entry (cluster, user or context) and the directory of the file it came from, against which
// its relative paths resolve.
struct Named {
  YAML::Node node;
  fs::path dir;
  std::string file;
};

struct Merged {
  std::vector<std::string> files;
  std::string current_context;
  std::string current_context_file;
  std::map<std::string, Named> clusters, users, contexts;
  std::vector<std::string> context_order;
};

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

void collect(const YAML::Node& root, const char* list, const char* inner, const std::string& file,
             std::map<std::string, Named>& into, std::vector<std::string>* order) {
  const YAML::Node items = root[list];
  if (!items || items.IsNull()) return;
  if (!items.IsSequence()) throw ConfigError("kubeconfig " + file + ": " + list + " must be a list");
  std::size_t i = 0;
  for (const auto& item : items) {
    const std::string where = "kubeconfig " + file + ": " + list + "[" + std::to_string(i++) + "]";
    if (!item.IsMap()) throw ConfigError(where + " must be a mapping");
    const YAML::Node name = item["name"];
    if (!name || !name.IsScalar() || name.as<std::string>().empty()) throw ConfigError(where + ".name is missing");
    const YAML::Node body = item[inner];
    if (body && !body.IsNull() && !body.IsMap()) throw ConfigError(where + "." + inner + " must be a mapping");
    const std::string n = name.as<std::string>();
    // First file wins, as kubectl merges a KUBECONFIG list.
    if (into.count(n)) continue;
    into[n] = Named{body ? body : YAML::Node(YAML::NodeType::Map), fs::path(file).parent_path(), file};
    if (order) order->push_back(n);
  }
}

void merge_file(const std::string& file, Merged& m) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::BadFile&) {
    throw ConfigError("kubeconfig " + file + ": cannot read the file");
  } catch (const YAML::Exception& e) {
    throw ConfigError("kubeconfig " + file + ": not valid YAML: " + e.msg + " at line " +
                      std::to_string(e.mark.line + 1));
  }
  if (root.IsNull()) return;  // an empty file contributes nothing, as with kubectl
  if (!root.IsMap()) throw ConfigError("kubeconfig " + file + ": the top level must be a mapping");
  m.files.push_back(file);
  collect(root, "clusters", "cluster", file, m.clusters, nullptr);
  collect(root, "users", "user", file, m.users, nullptr);
  collect(root, "contexts", "context", file, m.contexts, &m.context_order);
  if (m.current_context.empty() && root["current-context"] && root["current-context"].IsScalar()) {
    m.current_context = root["current-context"].as<std::string>();
    m.current_context_file = file;
  }
}

std::string scalar(const Named& n, const char* key, const std::string& where) {
  const YAML::Node v = n.node[key];
  if (!v || v.IsNull()) return "";
  if (!v.IsScalar()) throw ConfigError(where + "." + key + " must be a string");
  return v.as<std::string>();
}

bool boolean(const Named& n, const char* key, const std::string& where) {
  const YAML::Node v = n.node[key];
  if (!v || v.IsNull()) return false;
  try {
    return v.as<bool>();
  } catch (const YAML::Exception&) {
    throw ConfigError(where + "." + key + " must be true or false");
  }
}

fs::path resolve(const Named& n, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = n.dir / path;
  return path;
}

// Inline "-data" wins over the file path, as in client-go.
std::string data_or_file(const Named& n, const char* data_key, const char* file_key, const std::string& where) {
  const std::string data = scalar(n, data_key, where);
  if (!data.empty()) {
    try {
      return base64_decode(data);
    } catch (const std::invalid_argument&) {
      throw ConfigError(where + "." + data_key + " is not valid base64");
    }
  }
  const std::string file = scalar(n, file_key, where);
  if (file.empty()) return "";
  return read_file(resolve(n, file), where + "." + file_key);
}

void require_pem(const std::string& pem, const std::string& field) {
  if (!pem.empty() && pem.find("-----BEGIN") == std::string::npos) throw ConfigError(field + " is not PEM data");
}

ExecConfig parse_exec(const Named& user, const std::string& where) {
  const YAML::Node e = user.node["exec"];
  const std::string w = where + ".exec";
  if (!e.IsMap()) throw ConfigError(w + " must be a mapping");
  Named exec{e, user.dir, user.file};
  ExecConfig out;
  out.command = scalar(exec, "command", w);
  if (out.command.empty()) throw ConfigError(w + ".command is missing");
  // A relative path with a slash is relative to the kubeconfig; a bare name is looked up on PATH.
  if (out.command.find('/') != std::string::npos && fs::path(out.command).is_relative())
    out.command = (user.dir / out.command).string();
  out.api_version = scalar(exec, "apiVersion", w);
  if (out.api_version.empty()) throw ConfigError(w + ".apiVersion is missing");
  if (out.api_version != "client.authentication.k8s.io/v1" &&
      out.api_version != "client.authentication.k8s.io/v1beta1")
    throw ConfigError(w + ".apiVersion \"" + out.api_version +
                      "\" is not supported; use client.authentication.k8s.io/v1");
  if (const YAML::Node args = e["args"]; args && !args.IsNull()) {
    if (!args.IsSequence()) throw ConfigError(w + ".args must be a list of strings");
    for (const auto& a : args) out.args.push_back(a.as<std::string>());
  }
  if (const YAML::Node env = e["env"]; env && !env.IsNull()) {
    if (!env.IsSequence()) throw ConfigError(w + ".env must be a list of {name, value}");
    for (const auto& kv : env) {
      if (!kv.IsMap() || !kv["name"]) throw ConfigError(w + ".env entries need a name");
      out.env.emplace_back(kv["name"].as<std::string>(), kv["value"] ? kv["value"].as<std::string>() : "");
    }
  }
  out.provide_cluster_info = boolean(exec, "provideClusterInfo", w);
  out.install_hint = scalar(exec, "installHint", w);
  return out;
}

std::vector<std::string> kubeconfig_paths(const std::string& path) {
  if (!path.empty()) return {path};
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::vector<std::string> out;
    std::stringstream ss(env);
    for (std::string p; std::getline(ss, p, ':');)
      if (!p.empty()) out.push_back(p);
    if (!out.empty()) return out;
  }
  const char* home = std::getenv("HOME");
  return {std::string(home ? home : "") + "/.kube/config"};
}

}  // namespace

std::string base64_decode(const std::string& in) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buf = 0;
  int bits = 0, pad = 0, chars = 0;
  for (char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    ++chars;
    if (c == '=') {
      ++pad;
      continue;
    }
    if (pad) throw std::invalid_argument("base64: data after padding");
    const auto pos = alphabet.find(c);
    if (pos == std::string::npos) throw std::invalid_argument("base64: invalid character");
    buf = (buf << 6) | static_cast<unsigned>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xff));
    }
  }
  if (pad > 2 || (pad && chars % 4 != 0) || chars % 4 == 1) throw std::invalid_argument("base64: bad length");
  return out;
}

RestConfig load_kubeconfig(const std::string& path, const std::string& context) {
  const auto paths = kubeconfig_paths(path);
  const std::string label = join(paths, ":");
  Merged m;
  for (const auto& p : paths) {
    std::error_code ec;
    if (!fs::exists(p, ec)) {
      if (paths.size() == 1) throw ConfigError("kubeconfig " + p + ": file not found");
      continue;  // kubectl skips missing entries of a KUBECONFIG list
    }
    if (fs::is_directory(p, ec)) throw ConfigError("kubeconfig " + p + ": is a directory, not a file");
    merge_file(p, m);
  }
  if (m.files.empty()) throw ConfigError("kubeconfig " + label + ": no readable kubeconfig file");
  const std::string file = join(m.files, ":");

  std::string ctx_name = context;
  std::string ctx_from = "(from --context)";
  if (ctx_name.empty()) {
    if (m.current_context.empty())
      throw ConfigError("kubeconfig " + file + ": current-context is not set and no --context was given; contexts: " +
                        (m.context_order.empty() ? "none" : join(m.context_order, ", ")));
    ctx_name = m.current_context;
    ctx_from = "(current-context)";
  }
  const auto ctx_it = m.contexts.find(ctx_name);
  if (ctx_it == m.contexts.end())
    throw ConfigError("kubeconfig " + file + ": context \"" + ctx_name + "\" " + ctx_from + " not found; contexts: " +
                      (m.context_order.empty() ? "none" : join(m.context_order, ", ")));
  const Named& ctx = ctx_it->second;
  const std::string ctx_where = "kubeconfig " + ctx.file + ": context \"" + ctx_name + "\"";

  RestConfig cfg;
  cfg.source = "kubeconfig " + file + " context " + ctx_name;
  cfg.namespace_ = scalar(ctx, "namespace", ctx_where);

  const std::string cluster_name = scalar(ctx, "cluster", ctx_where);
  if (cluster_name.empty()) throw ConfigError(ctx_where + ".cluster is missing");
  const auto cl_it = m.clusters.find(cluster_name);
  if (cl_it == m.clusters.end())
    throw ConfigError(ctx_where + ": cluster \"" + cluster_name + "\" not found in clusters");
  const Named& cl = cl_it->second;
  const std::string cl_where = "kubeconfig " + cl.file + ": cluster \"" + cluster_name + "\"";
  cfg.server = scalar(cl, "server", cl_where);
  if (cfg.server.empty()) throw ConfigError(cl_where + ".server is missing");
  if (cfg.server.rfind("https://", 0) != 0 && cfg.server.rfind("http://", 0) != 0)
    throw ConfigError(cl_where + ".server \"" + cfg.server + "\" must start with https:// or http://");
  while (cfg.server.size() > 8 && cfg.server.back() == '/') cfg.server.pop_back();
  cfg.insecure_skip_tls_verify = boolean(cl, "insecure-skip-tls-verify", cl_where);
  cfg.tls_server_name = scalar(cl, "tls-server-name", cl_where);
  cfg.ca_pem = data_or_file(cl, "certificate-authority-data", "certificate-authority", cl_where);
  require_pem(cfg.ca_pem, cl_where + ".certificate-authority");
  if (cfg.insecure_skip_tls_verify && !cfg.ca_pem.empty())
    throw ConfigError(cl_where + ": certificate-authority and insecure-skip-tls-verify cannot both be set");

  const std::string user_name = scalar(ctx, "user", ctx_where);
  if (!user_name.empty()) {
    const auto u_it = m.users.find(user_name);
    if (u_it == m.users.end()) throw ConfigError(ctx_where + ": user \"" + user_name + "\" not found in users");
    const Named& u = u_it->second;
    const std::string u_where = "kubeconfig " + u.file + ": user \"" + user_name + "\"";
    if (u.node["auth-provider"]) throw ConfigError(u_where + ".auth-provider is not supported; use exec");
    if (u.node["username"] || u.node["password"])
      throw ConfigError(u_where + ".username/password (basic auth) is not supported");
    cfg.client_cert_pem = data_or_file(u, "client-certificate-data", "client-certificate", u_where);
    cfg.client_key_pem = data_or_file(u, "client-key-data", "client-key", u_where);
    require_pem(cfg.client_cert_pem, u_where + ".client-certificate");
    require_pem(cfg.client_key_pem, u_where + ".client-key");
    if (cfg.client_cert_pem.empty() != cfg.client_key_pem.empty())
      throw ConfigError(u_where + ": client-certificate and client-key must be given together");
    cfg.token = scalar(u, "token", u_where);
    if (const std::string tf = scalar(u, "tokenFile", u_where); !tf.empty()) {
      cfg.token_file = resolve(u, tf).string();
      // Read once now so a missing file fails at start-up, not at the first request.
      if (cfg.token.empty()) read_file(cfg.token_file, u_where + ".tokenFile");
    }
    if (u.node["exec"] && !u.node["exec"].IsNull()) cfg.exec = parse_exec(u, u_where);
  }
  return cfg;
}

RestConfig in_cluster_config(const std::string& root) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port)
    throw ConfigError("in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  RestConfig cfg;
  const std::string h(host);
  cfg.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  const fs::path dir(root);
  cfg.token_file = (dir / "token").string();
  const std::string token = read_file(cfg.token_file, "in-cluster config: token file");
  if (token.find_first_not_of(" \r\n\t") == std::string::npos)
    throw ConfigError("in-cluster config: token file " + cfg.token_file + " is empty");
  cfg.ca_pem = read_file(dir / "ca.crt", "in-cluster config: CA file");
  require_pem(cfg.ca_pem, "in-cluster config: " + (dir / "ca.crt").string());
  std::error_code ec;
  if (fs::exists(dir / "namespace", ec)) {
    cfg.namespace_ = read_file(dir / "namespace", "in-cluster config: namespace file");
    while (!cfg.namespace_.empty() && std::isspace(static_cast<unsigned char>(cfg.namespace_.back())))
      cfg.namespace_.pop_back();
  }
  cfg.source = "in-cluster " + cfg.server;
  return cfg;
}

std::optional<RestConfig> load_default(const std::string& kubeconfig_path, const std::string& context) {
  if (!kubeconfig_path.empty()) return load_kubeconfig(kubeconfig_path, context);
  if (const char* env = std::getenv("KUBECONFIG"); env && *env) return load_kubeconfig("", context);
  const char* home = std::getenv("HOME");
  std::error_code ec;
  if (home && fs::exists(std::string(home) + "/.kube/config", ec)) return load_kubeconfig("", context);
  if (const char* h = std::getenv("KUBERNETES_SERVICE_HOST"); h && *h) return in_cluster_config();
  return std::nullopt;
}

}  // namespace kubert
