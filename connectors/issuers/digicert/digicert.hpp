#pragma once
/// The DigiCert CertCentral issuer (type "DigiCert"): orders through the CertCentral Services
/// API v2, asynchronously.
///
///   issue:     POST /order/certificate/{product_type}  {certificate: {common_name, dns_names,
///              csr, signature_hash}, organization: {id}, order_validity: {days},
///              payment_method, skip_approval}  -> {id, certificate_id, requests[]} (pending)
///              or the same with certificate_chain (issued at once)
///   poll:      GET /order/certificate/{order_id} -> status: issued | pending | processing |
///              needs_approval | rejected | denied | canceled | expired | revoked
///              issued -> GET /certificate/{certificate_id}/download/format/pem_noroot
///   renew:     a new order with renewal_of_order_id (the previous order) when known
///   revoke:    GET /order/certificate?filters[serial_number]=.. -> certificate id,
///              PUT /certificate/{certificate_id}/revoke {revocation_reason, comments}
///   cancel:    PUT /order/certificate/{order_id}/status {status: "canceled", note}
///   self test: GET /user/me (places nothing)
///
/// Authentication is the X-DC-DEVKEY header (api_key, secret). Errors ({"errors":[{code,
/// message}]}) are mapped: 400 -> invalid_request with DigiCert's codes and words; 401/403 ->
/// unavailable naming the key; 404 -> the order is invalid (poll) or invalid_request; 429 ->
/// unavailable, and while polling the order stays pending with the Retry-After as the floor of
/// the next poll; 5xx and transport failures -> unavailable.

#include <memory>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::digicert {

config_schema digicert_schema();

/// The connector built from a stored config (secrets already opened); exposed for tests.
certctl::result<std::shared_ptr<issuer>, issuer_error> make_digicert_issuer(
    const connector_settings& settings, const builtin_context& context);

}  // namespace certctl::connectors::digicert

namespace certctl::connectors {
/// Registers type "DigiCert" (builtin_connectors.def).
certctl::result<done, std::string> register_digicert_connector(connector_registry& registry,
                                                               const builtin_context& context);
}  // namespace certctl::connectors
