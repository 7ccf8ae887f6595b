#pragma once
/// The Google Cloud Certificate Authority Service issuer (type "GoogleCAS"), through the CAS
/// REST API v1 (privateca.googleapis.com) with a service account; no Google SDK.
///
///   issue:     POST /v1/projects/{p}/locations/{l}/caPools/{pool}/certificates
///                   ?certificateId=<id>&requestId=<uuid>   {pemCsr, lifetime: "<n>s"}
///              -> Certificate {name, pemCertificate, pemCertificateChain[]}   (synchronous)
///   revoke:    GET  .../certificates?filter=certificate_description.subject_description.
///                   hex_serial_number="<serial>"   (the certificate's name by serial), then
///              POST /v1/{name}:revoke {reason, requestId}
///   CA chain:  POST /v1/projects/{p}/locations/{l}/caPools/{pool}:fetchCaCerts {requestId}
///   self test: a token and fetchCaCerts; nothing is issued.
///
/// Authentication: the service account's JSON key signs a JWT (RS256, aud = token URL, scope
/// cloud-platform) exchanged for an OAuth2 access token, cached until 5 minutes before it
/// expires (connectors/common/cloud_auth). The key (credentials_json, or the file at
/// credentials) stays inside the connector: sealed at rest, redacted, never in a message.
/// Errors follow google.rpc.Status {"error": {code, message, status}}: UNAUTHENTICATED drops the
/// cached token and retries once; RESOURCE_EXHAUSTED honours a short Retry-After once.

#include <memory>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::googlecas {

inline constexpr const char* type_name = "GoogleCAS";

config_schema google_cas_schema();

certctl::result<std::shared_ptr<issuer>, issuer_error> make_google_cas_issuer(
    const connector_settings& settings, const builtin_context& context);

/// RFC 5280 reason name -> the CAS RevocationReason enum value; "" for a reason CAS lacks.
std::string cas_reason(const std::string& rfc5280_reason);

}  // namespace certctl::connectors::googlecas

namespace certctl::connectors {
/// Registers type "GoogleCAS" (builtin_connectors.def).
certctl::result<done, std::string> register_google_cas_connector(connector_registry& registry,
                                                                 const builtin_context& context);
}  // namespace certctl::connectors
