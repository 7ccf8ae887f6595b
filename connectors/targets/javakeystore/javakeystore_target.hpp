#pragma once
/// The Java keystore target (type "JavaKeystore", connectors-reference "Java Keystore"): puts
/// key, certificate and chain under one alias of a PKCS12 or JKS keystore with keytool, for
/// Tomcat, Jetty, Kafka, Elasticsearch and other JVM services.
///
/// deploy(): the new keystore is built beside the old one, in a private work directory:
///   copy keystore -> keytool -exportcert alias (wrong password? same certificate? -> stop)
///     -> keytool -delete alias -> PKCS#12 of key+cert+chain (infra/crypto) ->
///     keytool -importkeystore under alias -> the finished bytes
/// and then go through the deployment primitive (connectors/targets/common) as one file: the
/// previous keystore is the backup (the snapshot), the new one replaces it by an atomic
/// rename, validate and reload commands run, and any failure, or rollback(id), puts the
/// snapshot back. The live keystore is never edited in place, so a failed keytool run leaves it
/// untouched. The store password reaches keytool through a 0600 file, never argv.

#include <memory>
#include <mutex>
#include <string>

#include "connectors/builtin.hpp"
#include "connectors/registry.hpp"
#include "connectors/targets/common/file_target.hpp"
#include "connectors/targets/javakeystore/keytool.hpp"

namespace certctl::connectors {

namespace javakeystore {

struct keystore_config {
  std::string keystore_path;
  std::string password;  ///< keystore_password (secret)
  std::string alias = "server";
  bool create_keystore = true;
  keytool tool;
};

/// Letters, digits, '-' and '_', 1..64 characters (the reference's alias rule).
bool valid_alias(const std::string& alias);

config_schema keystore_schema();

class keystore_target final : public target {
 public:
  keystore_target(keystore_config config, targets::file_target_options options);

  std::string_view type() const override { return "JavaKeystore"; }
  const std::string& id() const override { return inner_->id(); }
  target_location location() const override { return target_location::agent; }

  /// Directory writable, the password opens an existing keystore, validate_command passes.
  certctl::result<done, connector_error> validate() override;
  certctl::result<deployment_result, connector_error> deploy(
      const deployment_request& request) override;
  /// The post_deploy_verify endpoint when set, else the certificate under the alias.
  certctl::result<verification_result, connector_error> verify(
      const verification_request& request) override;
  /// Puts back the keystore as it was before deployment `id` and reloads.
  certctl::result<done, connector_error> rollback(const std::string& deployment_id) override;

 private:
  certctl::result<std::string, connector_error> build_keystore(
      const deployment_request& request) const;

  keystore_config config_;
  bool endpoint_verify_ = false;
  std::unique_ptr<targets::file_target> inner_;
  std::mutex mutex_;  ///< the build reads the live keystore: one deployment at a time
};

certctl::result<std::shared_ptr<target>, connector_error> make_keystore_target(
    const connector_settings& settings, std::shared_ptr<const net::outbound_guard> guard);

}  // namespace javakeystore

/// Type "JavaKeystore", builtin_connectors.def.
certctl::result<done, std::string> register_javakeystore_target(connector_registry& registry,
                                                                const builtin_context& context);

}  // namespace certctl::connectors
