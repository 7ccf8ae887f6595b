#pragma once
/// The Entrust issuer (type "Entrust"): Entrust CA Gateway's REST API, authenticated by a TLS
/// client certificate (mutual TLS; no API key or token).
///
///   issue:   POST /v1/certificate-authorities/{ca_id}/enrollments {csr, profileId, ...}
///              200 {trackingId, status: ISSUED, enrollment: {body, chain}}   -> certificate
///              201 {trackingId, status: PENDING_APPROVAL | PENDING, message} -> pending order
///   order:   GET  /v1/certificate-authorities/{ca_id}/enrollments/{trackingId}
///              status ISSUED -> valid; PENDING* -> pending (the message says what it waits
///              for); REJECTED, CANCELLED -> invalid; EXPIRED -> expired
///   revoke:  PUT  /v1/certificate-authorities/{ca_id}/certificates/{serial}/revoke {reason}
///   test:    GET  /v1/certificate-authorities (ca_id must be listed)
///
/// Order ids are "<trackingId>@<unix seconds placed>", so a pending order older than
/// poll_max_wait_seconds is reported expired whatever restarts happened in between. The API
/// offers no way to withdraw a pending enrollment: cancel_orders is false (the job is
/// cancelled here; the CA-side request lapses or is rejected by its approver).
/// The mTLS identity is cached with its TLS context and reloaded when a file changes.

#include <memory>

#include "connectors/builtin.hpp"
#include "connectors/issuers/issuer.hpp"
#include "connectors/registry.hpp"

namespace certctl::connectors::entrust {

config_schema entrust_schema();

certctl::result<std::shared_ptr<issuer>, issuer_error> make_entrust_issuer(
    const connector_settings& settings, const builtin_context& context);

}  // namespace certctl::connectors::entrust

namespace certctl::connectors {
/// Registers type "Entrust" (builtin_connectors.def).
certctl::result<done, std::string> register_entrust_connector(connector_registry& registry,
                                                              const builtin_context& context);
}  // namespace certctl::connectors
