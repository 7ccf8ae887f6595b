#pragma once
/// The EJBCA issuer (type "EJBCA"): Keyfactor EJBCA's REST API v1 (base URL
/// https://host:8443/ejbca/ejbca-rest-api), authenticated by a TLS client certificate
/// (auth_mode "mtls", the default) or an OAuth2 bearer token (auth_mode "oauth2").
///
///   issue:   POST /v1/certificate/pkcs10enroll {certificate_request, certificate_profile_name,
///            end_entity_profile_name, certificate_authority_name, username, password,
///            include_chain: true, response_format: DER}
///              201 {certificate (base64 DER), serial_number, certificate_chain} -> certificate
///              202 (approvals on: "waiting for approval")                     -> pending order
///   order:   POST /v1/certificate/search {criteria: QUERY=username, CA=ca_name}: the end
///            entity's certificate for the CSR's key -> valid; none -> pending
///            until poll_max_wait_seconds, then expired (EJBCA's v1 API does not tell a
///            rejected approval from a waiting one)
///   revoke:  PUT /v1/certificate/{issuer DN, URL-encoded}/{serial hex}/revoke?reason=NAME
///   test:    GET /v1/ca (ca_name must be listed; its subject DN is the issuer DN for revoke)
///
/// The end entity's username is username_prefix + the certificate's common name; its
/// enrollment password is random per request and kept nowhere. Order ids are
/// "<username>@<unix seconds placed>@<key id>" (key id: 32 hex digits of SHA-256 over the
/// CSR's SubjectPublicKeyInfo). Errors come as {"error_code", "error_message"}.

#include <memory>
#include <string>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::ejbca {

config_schema ejbca_schema();

certctl::result<std::shared_ptr<issuer>, issuer_error> make_ejbca_issuer(
    const connector_settings& settings, const builtin_context& context);

/// RFC 3986 percent-encoding of everything but unreserved characters ("CN=A, O=B" ->
/// "CN%3DA%2C%20O%3DB"): a DN as one path segment.
std::string url_encode(const std::string& text);

}  // namespace certctl::connectors::ejbca

namespace certctl::connectors {
/// Registers type "EJBCA" (builtin_connectors.def).
certctl::result<done, std::string> register_ejbca_connector(connector_registry& registry,
                                                            const builtin_context& context);
}  // namespace certctl::connectors
