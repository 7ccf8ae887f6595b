#pragma once
/// The configuration of the SSH target (type "SSH", location proxy_agent): field names follow
/// the reference connector, plus host key verification (known_hosts_path, or the explicit
/// insecure_skip_host_key_verify), validate_command and backups. Secrets (password,
/// private_key, passphrase) are schema-marked, so the API seals them at rest and redacts them.

#include <chrono>
#include <optional>
#include <string>

#include "connectors/config_schema.hpp"
#include "connectors/connector_error.hpp"
#include "connectors/targets/common/tls_verify.hpp"
#include "events/json.hpp"
#include "events/result.hpp"

namespace certctl::connectors::ssh {

enum class auth_method { key, password };

struct ssh_target_config {
  std::string host;
  int port = 22;
  std::string user;
  auth_method auth = auth_method::key;
  std::string private_key_path;  ///< on the agent's host
  std::string private_key;       ///< inline OpenSSH/PEM private key (secret)
  std::string passphrase;        ///< of an encrypted private key (secret)
  std::string password;          ///< password auth (secret)
  /// Host keys the server must present; "" = the SSH defaults (~/.ssh/known_hosts, then
  /// /etc/ssh/ssh_known_hosts). Never learned or appended to.
  std::string known_hosts_path;
  bool insecure_skip_host_key_verify = false;  ///< accept any host key: explicit opt-in only
  std::string cert_path;
  std::string key_path;
  std::string chain_path;  ///< "" = chain appended to the certificate file
  int cert_mode = 0644;
  int key_mode = 0600;
  std::string validate_command;  ///< run remotely after the upload, before reload
  std::string reload_command;    ///< run remotely after validate
  std::chrono::seconds timeout{30};
  int backups = 3;  ///< backup generations kept next to each file
  /// post_deploy_verify: after the reload, the endpoint must serve the new leaf (checked
  /// through the outbound guard), else every file is restored and reloaded again.
  std::optional<targets::verify_endpoint> verify;
};

/// The schema registered for type "SSH".
config_schema ssh_target_schema();

/// The config as the factory sees it (valid by schema, secrets opened): checks what the
/// schema cannot (auth material present for the method, paths absolute and clean, commands
/// free of shell metacharacters, modes octal) and applies defaults. invalid_config names the
/// field.
certctl::result<ssh_target_config, connector_error> parse_ssh_config(
    const events::json_object& config);

}  // namespace certctl::connectors::ssh
