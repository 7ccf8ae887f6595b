#pragma once
/// The commonest target shape: a certificate file, an optional chain file and a key file,
/// then a validate and a reload command (NGINX, Apache httpd, Postfix, Dovecot). One builder,
/// so those targets differ only in their defaults.

#include <memory>
#include <string>

#include "connectors/registry.hpp"
#include "connectors/targets/common/file_target.hpp"

namespace certctl::connectors::targets {

/// Where the issuer chain goes.
enum class chain_policy {
  /// cert_path holds leaf + chain always (NGINX's ssl_certificate serves the whole file);
  /// chain_path, when set, holds the chain alone as well (ssl_trusted_certificate, stapling).
  full_chain_in_cert,
  /// chain_path set: leaf in cert_path, chain in chain_path; unset: chain appended to cert.
  separate_when_set,
};

struct pem_files_defaults {
  std::string validate_command;  ///< "" = none unless configured
  std::string reload_command;
  std::string cert_path;  ///< "" = required in the config
  std::string key_path;
};

/// cert_path, chain_path, key_path plus the common fields (file_target.hpp).
config_schema pem_files_schema(const pem_files_defaults& defaults);

/// Builds the target from a config valid by pem_files_schema.
certctl::result<std::shared_ptr<target>, connector_error> make_pem_files_target(
    const std::string& type, const connector_settings& settings, const pem_files_defaults& defaults,
    chain_policy policy, std::shared_ptr<const net::outbound_guard> guard);

/// The server's guard as a shared pointer that does not own it (builtin_context::outbound
/// outlives every connector); a public-addresses-only guard when there is none.
std::shared_ptr<const net::outbound_guard> guard_of(const net::outbound_guard* outbound);

}  // namespace certctl::connectors::targets
