#pragma once
/// The Sectigo Certificate Manager issuer (type "Sectigo"): enrollments through the SCM REST
/// API (ssl/v1), asynchronously.
///
///   issue:     POST /ssl/v1/enroll {orgId, csr, certType, term, subjAltNames, comments,
///              externalRequester} -> {sslId, renewId}
///   poll:      GET /ssl/v1/{sslId} -> status: Requested (awaits an SCM administrator's
///              approval) | Approved | Applied | Pending (with the CA) | Issued | Declined |
///              Rejected | Revoked | Expired | Invalid
///              Issued -> GET /ssl/v1/collect/{sslId}/x509 (leaf and chain, PEM); a 400 with
///              code -183 (approved, not generated yet) keeps the order pending
///   renew:     a new enrollment (SCM's renewById needs the renewId the caller does not keep)
///   revoke:    POST /ssl/v1/revoke/serial/{serial} {reasonCode, reason}
///   cancel:    POST /ssl/v1/decline/{sslId} {message} (only while the request is not issued)
///   self test: GET /ssl/v1/types (the configured certType must be offered; places nothing)
///
/// Authentication is three headers on every request: customerUri, login and password
/// (secret). Errors ({"code": -N, "description"}) are mapped: 400 -> invalid_request with
/// Sectigo's code and words; 401/403 -> unavailable naming the login; 404 -> the order is
/// invalid (poll) or invalid_request; 429 -> unavailable, and while polling the order stays
/// pending with the Retry-After as the floor of the next poll; 5xx -> unavailable.

#include <memory>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::sectigo {

config_schema sectigo_schema();

/// The connector built from a stored config (secrets already opened); exposed for tests.
certctl::result<std::shared_ptr<issuer>, issuer_error> make_sectigo_issuer(
    const connector_settings& settings, const builtin_context& context);

}  // namespace certctl::connectors::sectigo

namespace certctl::connectors {
/// Registers type "Sectigo" (builtin_connectors.def).
certctl::result<done, std::string> register_sectigo_connector(connector_registry& registry,
                                                              const builtin_context& context);
}  // namespace certctl::connectors
