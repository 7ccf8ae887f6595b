#include "connectors/targets/ssh/ssh_config.hpp"

#include "connectors/targets/common/file_target.hpp"
#include "connectors/targets/ssh/remote_safety.hpp"

namespace certctl::connectors::ssh {

config_schema ssh_target_schema() {
  using t = field_type;
  return config_schema{{
      {"host", t::string, true, false, "SSH host name or IP address"},
      {"port", t::integer, false, false, "SSH port (22)"},
      {"user", t::string, true, false, "SSH user"},
      {"auth_method", t::string, false, false, "\"key\" (default) or \"password\""},
      {"private_key_path", t::string, false, false, "private key file on the agent (key auth)"},
      {"private_key", t::string, false, true, "inline private key (key auth)"},
      {"passphrase", t::string, false, true, "passphrase of an encrypted private key"},
      {"password", t::string, false, true, "password (password auth)"},
      {"known_hosts_path", t::string, false, false,
       "known_hosts file the host key must be in (default: ~/.ssh/known_hosts and "
       "/etc/ssh/ssh_known_hosts)"},
      {"insecure_skip_host_key_verify", t::boolean, false, false,
       "accept any host key (man-in-the-middle risk; default false)"},
      {"cert_path", t::string, true, false, "remote path of the certificate file"},
      {"key_path", t::string, true, false, "remote path of the private key file"},
      {"chain_path", t::string, false, false,
       "remote path of the chain file (empty: chain appended to the certificate)"},
      {"cert_mode", t::string, false, false, "octal mode of certificate and chain (\"0644\")"},
      {"key_mode", t::string, false, false, "octal mode of the key file (\"0600\")"},
      {"validate_command", t::string, false, false,
       "remote command run after upload, before reload (plain words only)"},
      {"reload_command", t::string, false, false, "remote command that reloads the service"},
      {"timeout", t::integer, false, false, "connect and per-operation timeout, seconds (30)"},
      {"backups", t::integer, false, false, "backup generations kept per file (3)"},
      {"post_deploy_verify", t::object, false, false,
       "{enabled, endpoint host:port, server_name, timeout}: check the served certificate"},
  }};
}

namespace {

connector_error bad(const std::string& field, const std::string& why) {
  return connector_error{connector_errc::invalid_config, "config." + field + ": " + why};
}

/// "0644" -> 0644; -1 when not an octal mode of at most 0777.
int parse_mode(const std::string& s) {
  if (s.empty() || s.size() > 4) return -1;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '7') return -1;
    v = v * 8 + (c - '0');
  }
  return v <= 0777 ? v : -1;
}

}  // namespace

certctl::result<ssh_target_config, connector_error> parse_ssh_config(
    const events::json_object& config) {
  ssh_target_config c;
  c.host = config.str("host");
  if (auto r = check_host(c.host); !r) return bad("host", r.error());
  c.port = static_cast<int>(config.int64("port", 22));
  if (c.port < 1 || c.port > 65535) return bad("port", "must be 1..65535");
  c.user = config.str("user");
  if (c.user.empty() || c.user.size() > 64 || c.user.front() == '-')
    return bad("user", "must be a user name (1..64 bytes, not starting with '-')");
  const std::string method = config.str("auth_method", "key");
  if (method == "key")
    c.auth = auth_method::key;
  else if (method == "password")
    c.auth = auth_method::password;
  else
    return bad("auth_method", "must be \"key\" or \"password\"");
  c.private_key_path = config.str("private_key_path");
  c.private_key = config.str("private_key");
  c.passphrase = config.str("passphrase");
  c.password = config.str("password");
  if (c.auth == auth_method::key && c.private_key_path.empty() && c.private_key.empty())
    return bad("private_key_path", "key auth needs private_key_path or private_key");
  if (c.auth == auth_method::key && !c.private_key_path.empty() && !c.private_key.empty())
    return bad("private_key", "give private_key_path or private_key, not both");
  if (c.auth == auth_method::password && c.password.empty())
    return bad("password", "password auth needs a password");
  c.known_hosts_path = config.str("known_hosts_path");
  c.insecure_skip_host_key_verify = config.boolean("insecure_skip_host_key_verify", false);
  if (c.insecure_skip_host_key_verify && !c.known_hosts_path.empty())
    return bad("insecure_skip_host_key_verify", "contradicts known_hosts_path; set one of them");

  c.cert_path = config.str("cert_path");
  c.key_path = config.str("key_path");
  c.chain_path = config.str("chain_path");
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string*>{"cert_path", &c.cert_path},
        {"key_path", &c.key_path},
        {"chain_path", &c.chain_path}}) {
    if (value->empty() && std::string(field) == "chain_path") continue;
    if (auto r = check_remote_path(*value); !r) return bad(field, r.error());
  }
  if (c.cert_path == c.key_path || c.cert_path == c.chain_path || c.key_path == c.chain_path)
    return bad("key_path", "cert_path, key_path and chain_path must be different files");
  if (config.has("cert_mode")) {
    c.cert_mode = parse_mode(config.str("cert_mode"));
    if (c.cert_mode < 0) return bad("cert_mode", "must be an octal mode like \"0644\"");
  }
  if (config.has("key_mode")) {
    c.key_mode = parse_mode(config.str("key_mode"));
    if (c.key_mode < 0) return bad("key_mode", "must be an octal mode like \"0600\"");
    if ((c.key_mode & 0077) != 0)
      return bad("key_mode", "must not give group or others access to the private key");
  }
  c.validate_command = config.str("validate_command");
  if (!c.validate_command.empty())
    if (auto r = check_remote_command(c.validate_command); !r)
      return bad("validate_command", r.error());
  c.reload_command = config.str("reload_command");
  if (!c.reload_command.empty())
    if (auto r = check_remote_command(c.reload_command); !r)
      return bad("reload_command", r.error());
  const std::int64_t timeout = config.int64("timeout", 30);
  if (timeout < 1 || timeout > 600) return bad("timeout", "must be 1..600 seconds");
  c.timeout = std::chrono::seconds(timeout);
  c.backups = static_cast<int>(config.int64("backups", 3));
  if (c.backups < 1 || c.backups > 100) return bad("backups", "must be 1..100");
  if (config.has("post_deploy_verify")) {
    // The file targets' parser, fed only this field, so both read it the same way.
    events::json_object only;
    only.set_raw("post_deploy_verify", config.raw("post_deploy_verify"));
    auto common = targets::parse_common_options("SSH", "", only, "", "", nullptr);
    if (!common) {
      const std::string& m = common.error().message;
      const auto at = m.find("config.");
      return connector_error{connector_errc::invalid_config,
                             at == std::string::npos ? m : m.substr(at)};
    }
    c.verify = common->verify;
  }
  return c;
}

}  // namespace certctl::connectors::ssh
