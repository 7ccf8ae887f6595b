#pragma once
/// The managed certificate: the management envelope of one certificate identity across its
/// issued versions.
///
///   create --> Pending --issued--> Active --(scheduler)--> Expiring --> Expired
///                 |                  |  ^                      |
///                 |               renew |issued                |
///                 |                  v  |                      |
///              Failed <--failed-- RenewalInProgress <---renew--+
///   any issued state --revoke--> Revoked        any state --archive--> Archived

#include <memory>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

std::unique_ptr<aggregate> make_certificate(const std::string& id);

/// RFC 5280 CRLReason code of a reason name from the API enum; -1 when unknown.
int revocation_reason_code(const std::string& reason);

}  // namespace certctl::domain
