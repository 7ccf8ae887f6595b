#pragma once
/// The mail server targets (connectors-reference "Postfix / Dovecot"): types "Postfix" and
/// "Dovecot", one implementation with a `mode` that picks the defaults (paths, validate and
/// reload commands, the default STARTTLS dialect of the post-deploy check: `post_deploy_verify.
/// starttls` "smtp", "imap" or "none" overrides it). Files go through the
/// deployment primitive (connectors/targets/common): certificate (with the chain appended
/// when no chain_path is set) and chain 0644, key 0600, validate before reload, restore and
/// reload again on any failure.
///
///   mode      cert_path / key_path              validate       reload          verify
///   postfix   /etc/postfix/certs/{cert,key}.pem  postfix check  postfix reload  SMTP STARTTLS
///   dovecot   /etc/dovecot/certs/{cert,key}.pem  doveconf -n    doveadm reload  implicit TLS
///
/// A host running both daemons gets two targets, one per daemon.

#include <string>

#include "connectors/builtin.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors {

namespace mail {

enum class mail_mode { postfix, dovecot };

/// The schema shared by both types (their own fields plus the primitive's common ones).
config_schema mail_target_schema();

/// Builds the target; `default_mode` applies when the config has no `mode`.
certctl::result<std::shared_ptr<target>, connector_error> make_mail_target(
    const std::string& type, mail_mode default_mode, const connector_settings& settings,
    std::shared_ptr<const net::outbound_guard> guard);

}  // namespace mail

/// Type "Postfix" (mode postfix by default), builtin_connectors.def.
certctl::result<done, std::string> register_postfix_target(connector_registry& registry,
                                                           const builtin_context& context);
/// Type "Dovecot" (mode dovecot by default), builtin_connectors.def.
certctl::result<done, std::string> register_dovecot_target(connector_registry& registry,
                                                           const builtin_context& context);

}  // namespace certctl::connectors
