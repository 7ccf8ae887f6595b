#pragma once
/// The revocation read model (DESIGN §6) behind the CRLs and the OCSP responder:
///
///   revocation_status  one row per issued certificate version that relying parties may ask
///                      about: (issuer_id, serial) -> not_after, revoked_at, reason, and
///                      changed_position (the event that last changed the row), which is how
///                      the revocation cache follows changes without re-reading everything.
///   crl_publications   one row per issuer.crl_published or intermediate.crl_published: the
///                      CRL numbers an issuer (the root or an intermediate CA) used.
///
/// Short-lived certificates (validity under one hour, see connectors::short_lived_threshold_us)
/// get no row: expiry is their revocation. The fold is deterministic (no signing here), so a
/// rebuilt projection equals the live one; signed artefacts live in revocation signing
/// (actors/workflows/revocation_cache.hpp), which reads these queries through an adapter.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "projections/projection.hpp"

namespace certctl::projections {

/// Validity under which a certificate is not tracked (same value as
/// connectors::short_lived_threshold_us, which decides what goes into the certificate).
inline constexpr std::int64_t revocation_short_lived_us = 3600LL * 1'000'000;

class revocation_projection final : public projection {
 public:
  std::string name() const override { return "revocation"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

/// One revocation_status row. Times in microseconds since the epoch.
struct revocation_row {
  std::string issuer_id;
  std::string serial_hex;  ///< upper case, as the issuer reported it
  std::string certificate_id;
  std::int64_t not_after_us = 0;
  std::optional<std::int64_t> revoked_at_us;  ///< set once revoked
  int reason_code = 0;
  std::int64_t invalidity_date_us = 0;  ///< 0: unknown
  std::int64_t changed_position = 0;
};

/// Rows changed after `position`, oldest change first, at most `limit`.
db_result<std::vector<revocation_row>> revocation_changes(sql::database& db, std::int64_t position,
                                                          size_t limit);

/// The rows of `issuer_id` changed after `position`, oldest change first, at most `limit`
/// (loading an issuer the revocation cache did not follow from the start).
db_result<std::vector<revocation_row>> revocation_rows_of(sql::database& db,
                                                          const std::string& issuer_id,
                                                          std::int64_t position, size_t limit);

/// One crl_publications row.
struct crl_publication {
  std::string issuer_id;
  std::int64_t crl_number = 0;
  std::int64_t this_update_us = 0;
  std::int64_t next_update_us = 0;
  std::int64_t revoked_count = 0;
  std::int64_t published_at_us = 0;
  std::int64_t position = 0;
};

/// The last `limit` publications of `issuer_id`, newest first.
db_result<std::vector<crl_publication>> crl_publications(sql::database& db,
                                                         const std::string& issuer_id,
                                                         size_t limit);

/// The highest CRL number `issuer_id` has published; 0 when none.
db_result<std::int64_t> last_crl_number(sql::database& db, const std::string& issuer_id);

}  // namespace certctl::projections
