#pragma once
/// The deployment primitive of file-based targets (NGINX, Apache, HAProxy, Traefik, Caddy,
/// Envoy, and the mail and key store targets built on it). A target type supplies only what
/// differs: which files with which bytes (`layout`), its commands, and optionally its own
/// reload step (an admin API instead of a command). Everything else is here, once:
///
///   lock(target) -> recover a crashed deployment -> files identical? --yes--> unchanged
///        |                                                |no
///        |                       write all files (atomic_files.hpp: temp, fsync, rename,
///        |                       dir fsync; backups kept) -> validate cmd -> reload ->
///        |                       verify over TLS (fingerprint) -> commit (prune backups)
///        |                                 any failure: restore every file, reload again,
///        v                                 error carrying the command's output
///   unlock
///
/// Files holding a private key are 0600, certificates and chains 0644. Nothing here logs:
/// messages name paths and commands, never file contents.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/config_schema.hpp"
#include "connectors/targets/common/atomic_files.hpp"
#include "connectors/targets/common/tls_verify.hpp"
#include "connectors/targets/target.hpp"
#include "events/json.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors::targets {

/// What every file-based target shares; parse_common_options reads it from a config.
struct file_target_options {
  std::string type;  ///< "NGINX", ...
  std::string id;    ///< the target's id
  target_location location = target_location::agent;
  int keep_backups = 3;  ///< backup_retention: 0 = 3, -1 = never prune
  std::chrono::milliseconds command_timeout{60000};
  std::vector<std::string> validate_argv;  ///< empty: no validation step
  std::vector<std::string> reload_argv;    ///< empty: none (a watcher reloads, or hooks.reload)
  std::optional<verify_endpoint> verify;   ///< post_deploy_verify
  std::shared_ptr<const net::outbound_guard> guard;
};

/// A step of the target type's own, e.g. Caddy's POST /load: an error text on failure.
using target_step = std::function<certctl::result<done, std::string>()>;

struct file_target_hooks {
  /// The files to write for a request (paths checked by the primitive too).
  std::function<certctl::result<std::vector<file_content>, connector_error>(
      const deployment_request&)>
      layout;
  /// Every path `layout` may write: validate() checks their directories, rollback() restores
  /// them, the lock and journal live beside the first.
  std::vector<std::string> paths;
  /// The file whose first certificate is the served leaf: verify() reads it when no
  /// post_deploy_verify endpoint is configured.
  std::string leaf_path;
  /// Replaces options.reload_argv when set.
  target_step reload;
  /// Extra checks for validate() (an admin API answers, ...).
  target_step check;
};

class file_target final : public target {
 public:
  file_target(file_target_options options, file_target_hooks hooks);

  std::string_view type() const override { return options_.type; }
  const std::string& id() const override { return options_.id; }
  target_location location() const override { return options_.location; }

  /// Paths safe and their directories writable, the validate command passes, hooks.check.
  certctl::result<done, connector_error> validate() override;
  certctl::result<deployment_result, connector_error> deploy(
      const deployment_request& request) override;
  /// Probes the verify endpoint, or reads leaf_path when none is configured.
  certctl::result<verification_result, connector_error> verify(
      const verification_request& request) override;
  /// Restores the files saved by `deployment_id` and reloads.
  certctl::result<done, connector_error> rollback(const std::string& deployment_id) override;

  /// Fault injection for tests (see file_set::after_rename).
  std::function<void(std::size_t)> after_rename;

 private:
  certctl::result<done, std::string> run_validate() const;
  certctl::result<done, std::string> run_reload() const;
  /// After a restore and reload: waits until the endpoint serves leaf_path's certificate
  /// again (when a verify endpoint is configured and the file holds one).
  certctl::result<done, std::string> confirm_restored() const;

  file_target_options options_;
  file_target_hooks hooks_;
};

/// The config fields every file-based target accepts, appended to a type's own fields:
/// validate_command, reload_command (strings, argv without shell), backup_retention,
/// command_timeout_seconds, post_deploy_verify {enabled, endpoint, server_name, timeout}.
/// `with_validate` / `with_reload`: whether the type runs these commands at all.
void add_common_fields(config_schema& schema, bool with_validate, bool with_reload);

/// Reads the common fields; `default_validate` / `default_reload` apply when the field is
/// absent ("" = no default). The message names the bad field.
certctl::result<file_target_options, connector_error> parse_common_options(
    const std::string& type, const std::string& id, const events::json_object& config,
    const std::string& default_validate, const std::string& default_reload,
    std::shared_ptr<const net::outbound_guard> guard);

/// A required absolute path field, checked against traversal; the message names the field.
certctl::result<std::string, connector_error> path_field(const std::string& id,
                                                         const events::json_object& config,
                                                         const char* field,
                                                         const std::string& fallback = "");

/// cert_pem followed by chain_pem, each ending in a newline.
std::string leaf_and_chain(const deployment_request& request);
/// `pem` ending in a newline ("" stays "").
std::string pem_text(std::string pem);

/// Fails when the request has no certificate, or (with `needs_key`) no key or a key that
/// does not belong to the certificate.
certctl::result<done, connector_error> check_request(const std::string& id,
                                                     const deployment_request& request,
                                                     bool needs_key);

}  // namespace certctl::connectors::targets
