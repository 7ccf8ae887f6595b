#pragma once
/// Registers the ACME issuer (type "ACME", connectors/issuers/acme) with its configuration
/// schema; the field names are the reference's (directory_url, email, eab_kid, eab_hmac,
/// challenge_type, http_port, dns_present_script, ...). eab_hmac is secret: sealed at rest,
/// redacted in every answer, log and event.

#include "connectors/builtin.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors {

config_schema acme_schema();

certctl::result<done, std::string> register_acme_connector(connector_registry& registry,
                                                           const builtin_context& context);

}  // namespace certctl::connectors
