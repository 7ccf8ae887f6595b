#pragma once
/// POST /api/v1/certificates/bulk-renew, /bulk-reassign and /bulk-revoke: one request, one
/// command sequence per certificate, one result listing what happened to each
/// (BulkRenewResult, BulkReassignResult, BulkRevokeResult; bulk-revoke adds `results`, one
/// {certificate_id, status: revoked|skipped|failed, error?} per certificate, in request order).
/// A certificate's failure never stops the others. All are bounded to
/// max_bulk_certificates per request (400 beyond), so one request cannot tie up the entity
/// runtime for minutes. X-Certctl-Position is the highest position the request committed.

#include <cstdint>

#include "projections/projector.hpp"
#include "infra/sql/database.hpp"
#include "gateways/rest/write_routes.hpp"

namespace certctl::gateways::rest {

inline constexpr std::int64_t max_bulk_certificates = 1000;

struct bulk_context {
  write_context& writes;
  /// Selection by criteria (profile_id, owner_id, ...) reads the certificate read model.
  sql::database& db;
  /// Honours X-Certctl-Wait-For-Position before selecting, so a client can select
  /// certificates it has just created.
  projections::projector& projector;
};

void add_bulk_routes(gateways::http::router& r, bulk_context& ctx);

}  // namespace certctl::gateways::rest
