// Traefik (connectors-reference "Target Connector: Traefik"): Traefik's file provider watches a
// directory of dynamic configuration, so there is no reload command. The target writes the
// certificate (leaf + chain) and key into cert_dir and, unless dynamic_config_file is "", a
// dynamic configuration file there that names them under tls.certificates (and, with
// default_certificate, as the default store's certificate). Traefik reads only .yml/.yaml/
// .toml files from that directory, so the primitive's temp, backup, lock and journal files
// beside them are ignored by it. All files are replaced together on every change, so the
// watcher always sees the configuration file move and reloads the certificate with it.
#include "connectors/builtin.hpp"
#include "connectors/targets/common/dir_files.hpp"
#include "connectors/targets/common/pem_files.hpp"

namespace certctl::connectors {
namespace {

/// A YAML double-quoted scalar (paths are checked, but may still hold ':' or '#').
std::string yaml_quoted(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string dynamic_config(const std::string& id, const std::string& cert, const std::string& key,
                           bool as_default) {
  std::string y = "# Written by certctl for deployment target " + id +
                  "; replaced on every deployment.\n"
                  "tls:\n  certificates:\n    - certFile: " +
                  yaml_quoted(cert) + "\n      keyFile: " + yaml_quoted(key) + "\n";
  if (as_default)
    y += "  stores:\n    default:\n      defaultCertificate:\n        certFile: " +
         yaml_quoted(cert) + "\n        keyFile: " + yaml_quoted(key) + "\n";
  return y;
}

std::string safe_id(const std::string& id) {
  std::string out;
  for (const char c : id)
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
  return out;
}

}  // namespace

certctl::result<done, std::string> register_traefik_target(connector_registry& registry,
                                                           const builtin_context& context) {
  target_registration r;
  r.type = "Traefik";
  r.description = "Traefik: cert, key and a dynamic config file in the file provider's directory";
  r.schema.fields = {
      {"cert_dir", field_type::string, true, false, "the file provider's watched directory"},
      {"cert_file", field_type::string, false, false, "certificate + chain, default site.crt"},
      {"key_file", field_type::string, false, false, "private key (0600), default site.key"},
      {"dynamic_config_file", field_type::string, false, false,
       "tls config naming the files, default certctl-<target id>.yml; \"\" = none"},
      {"default_certificate", field_type::boolean, false, false,
       "also make it the default store's certificate (default false)"},
  };
  targets::add_common_fields(r.schema, true, true);
  auto guard = targets::guard_of(context.outbound);
  r.make = [guard](const connector_settings& s)
      -> certctl::result<std::shared_ptr<target>, connector_error> {
    auto options = targets::parse_common_options("Traefik", s.id, s.config, "", "", guard);
    if (!options) return options.error();
    auto dir = targets::path_field(s.id, s.config, "cert_dir");
    if (!dir) return dir.error();
    auto cert = targets::file_name_field(s.id, s.config, "cert_file", "site.crt");
    if (!cert) return cert.error();
    auto key = targets::file_name_field(s.id, s.config, "key_file", "site.key");
    if (!key) return key.error();
    std::string yml;
    if (!s.config.has("dynamic_config_file") || !s.config.str("dynamic_config_file").empty()) {
      auto y = targets::file_name_field(s.id, s.config, "dynamic_config_file",
                                        "certctl-" + safe_id(s.id) + ".yml");
      if (!y) return y.error();
      yml = *y;
    }
    if (*cert == *key || *cert == yml || *key == yml)
      return connector_error{connector_errc::invalid_config,
                             "target " + s.id + ": the file names must differ"};

    targets::file_target_hooks hooks;
    const std::string cert_path = *dir + "/" + *cert, key_path = *dir + "/" + *key;
    const std::string yml_path = yml.empty() ? std::string() : *dir + "/" + yml;
    hooks.paths = {cert_path, key_path};
    if (!yml_path.empty()) hooks.paths.push_back(yml_path);
    hooks.leaf_path = cert_path;
    const bool as_default = s.config.boolean("default_certificate", false);
    const std::string id = s.id;
    hooks.layout = [id, cert_path, key_path, yml_path, as_default](const deployment_request& req)
        -> certctl::result<std::vector<targets::file_content>, connector_error> {
      if (auto ok = targets::check_request(id, req, true); !ok) return ok.error();
      // Certificate and key first: when the configuration file lands, they are in place.
      std::vector<targets::file_content> files{
          {cert_path, targets::leaf_and_chain(req), targets::public_file_mode},
          {key_path, targets::pem_text(req.key_pem), targets::private_file_mode}};
      if (!yml_path.empty())
        files.push_back({yml_path, dynamic_config(id, cert_path, key_path, as_default),
                         targets::public_file_mode});
      return files;
    };
    return std::shared_ptr<target>(
        std::make_shared<targets::file_target>(std::move(*options), std::move(hooks)));
  };
  return registry.add(std::move(r));
}

}  // namespace certctl::connectors
