#include "connectors/targets/common/pem_files.hpp"

namespace certctl::connectors::targets {

config_schema pem_files_schema(const pem_files_defaults& d) {
  config_schema s;
  s.fields.push_back({"cert_path", field_type::string, d.cert_path.empty(), false,
                      "certificate file (0644)" +
                          (d.cert_path.empty() ? std::string() : "; default " + d.cert_path)});
  s.fields.push_back(
      {"chain_path", field_type::string, false, false, "issuer chain file (0644); optional"});
  s.fields.push_back({"key_path", field_type::string, d.key_path.empty(), false,
                      "private key file (0600)" +
                          (d.key_path.empty() ? std::string() : "; default " + d.key_path)});
  add_common_fields(s, true, true);
  return s;
}

certctl::result<std::shared_ptr<target>, connector_error> make_pem_files_target(
    const std::string& type, const connector_settings& settings, const pem_files_defaults& d,
    chain_policy policy, std::shared_ptr<const net::outbound_guard> guard) {
  const auto& config = settings.config;
  auto options = parse_common_options(type, settings.id, config, d.validate_command,
                                      d.reload_command, std::move(guard));
  if (!options) return options.error();
  auto cert = path_field(settings.id, config, "cert_path", d.cert_path);
  if (!cert) return cert.error();
  auto key = path_field(settings.id, config, "key_path", d.key_path);
  if (!key) return key.error();
  std::string chain;
  if (config.has("chain_path") && !config.str("chain_path").empty()) {
    auto c = path_field(settings.id, config, "chain_path");
    if (!c) return c.error();
    chain = *c;
  }
  if (*cert == *key || *cert == chain || *key == chain)
    return connector_error{
        connector_errc::invalid_config,
        "target " + settings.id + ": cert_path, chain_path and key_path must differ"};

  file_target_hooks hooks;
  hooks.paths = {*cert, *key};
  if (!chain.empty()) hooks.paths.push_back(chain);
  hooks.leaf_path = *cert;
  const std::string id = settings.id, cert_path = *cert, key_path = *key;
  hooks.layout = [id, cert_path, key_path, chain, policy](const deployment_request& r)
      -> certctl::result<std::vector<file_content>, connector_error> {
    if (auto ok = check_request(id, r, true); !ok) return ok.error();
    std::vector<file_content> files;
    const bool chain_apart = !chain.empty();
    const bool full = policy == chain_policy::full_chain_in_cert || !chain_apart;
    files.push_back({cert_path, full ? leaf_and_chain(r) : pem_text(r.cert_pem), public_file_mode});
    if (chain_apart) files.push_back({chain, pem_text(r.chain_pem), public_file_mode});
    files.push_back({key_path, pem_text(r.key_pem), private_file_mode});
    return files;
  };
  return std::shared_ptr<target>(
      std::make_shared<file_target>(std::move(*options), std::move(hooks)));
}

std::shared_ptr<const net::outbound_guard> guard_of(const net::outbound_guard* outbound) {
  if (outbound == nullptr) return std::make_shared<net::outbound_guard>();
  return std::shared_ptr<const net::outbound_guard>(std::shared_ptr<void>(), outbound);
}

}  // namespace certctl::connectors::targets
