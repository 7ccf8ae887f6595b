#pragma once
/// An ACME order (RFC 8555 §7.1.3, status machine of §7.1.6):
///
///   create --> pending --mark_ready--> ready --finalize--> processing --record_issued--> valid
///   (create may start at ready when every authorization is already valid)
///   pending | ready | processing --invalidate / record_failure--> invalid
///
/// Finalize names the certctl certificate and job that carry the issuance, so the certificate
/// goes through the same path (profiles, policy, audit, inventory) as any other.

#include <memory>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

/// Commands: acme_order.create {account_id, profile_id, identifiers (JSON array of
/// {type,value}), authorizations[], expires, status: "pending"|"ready", replaces?},
/// acme_order.get, acme_order.mark_ready, acme_order.finalize {certificate_id, job_id},
/// acme_order.record_issued {serial_number}, acme_order.record_failure {error},
/// acme_order.invalidate {error}.
std::unique_ptr<aggregate> make_acme_order(const std::string& id);

}  // namespace certctl::domain
