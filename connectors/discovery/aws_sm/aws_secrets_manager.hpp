#pragma once
/// AWS Secrets Manager discovery source ("AWSSecretsManager"): lists the secrets tagged
/// `type=certificate` (the tag and an optional name prefix are configurable) with ListSecrets
/// and reads each with GetSecretValue (JSON 1.1 protocol, API version 2017-10-17), every
/// request signed with SigV4 (infra/crypto/sigv4). Found certificates are located as
/// "aws-sm://{region}/{secret-name}"; the pipeline's sentinel source id is "cloud-aws-sm".

#include <memory>

#include "connectors/builtin.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::aws_sm {

inline constexpr const char* type_name = "AWSSecretsManager";
inline constexpr const char* sentinel_source_id = "cloud-aws-sm";

config_schema aws_sm_schema();

/// Builds the source from a validated config; invalid_config for an unusable one.
certctl::result<std::shared_ptr<discovery_source>, connector_error> make_aws_sm_source(
    const connector_settings& settings, const builtin_context& context);

}  // namespace certctl::connectors::aws_sm

namespace certctl::connectors {
/// Registers the source (builtin_connectors.def).
certctl::result<done, std::string> register_aws_sm_discovery(connector_registry& registry,
                                                             const builtin_context& context);
}  // namespace certctl::connectors
