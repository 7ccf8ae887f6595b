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

/// Folds one certificate event into the API view; `payload` is e.payload, parsed once by the
/// caller. The aggregate's apply() and the certificates read model both fold with it, so they
/// cannot drift. Returns false (and leaves `view` alone) for a type the view does not know.
bool fold_certificate(events::json_object& view, const std::string& id,
                      const events::recorded_event& e, const events::json_object& payload);

/// RFC 5280 CRLReason code of a reason name from the API enum; -1 when unknown.
int revocation_reason_code(const std::string& reason);

}  // namespace certctl::domain
