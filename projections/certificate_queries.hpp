#pragma once
/// Reads of the certificate read model (entity_projections.hpp) for GET /api/v1/certificates,
/// /api/v1/certificates/{id}, /api/v1/certificates/{id}/versions and the PEM export.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "projections/entity_queries.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

/// Filters combine with AND; an unset filter matches everything.
struct certificate_filter {
  std::optional<std::string> status;  ///< CertificateStatus
  std::optional<std::string> environment;
  std::optional<std::string> owner_id;
  std::optional<std::string> team_id;
  std::optional<std::string> issuer_id;
  std::optional<std::string> renewal_policy_id;
  std::optional<std::string> certificate_profile_id;
  /// "created_at" (ascending) or "-created_at" (descending); also updated_at, expires_at,
  /// common_name, name, status. Unset: "-created_at". Rows without a value sort last.
  std::optional<std::string> sort;
  std::int64_t page = 1;
  std::int64_t per_page = 50;
};

/// ManagedCertificate objects. invalid_argument for bad paging or an unknown sort key.
db_result<json_page> list_certificates(sql::database& db, const certificate_filter& filter);
/// One ManagedCertificate as JSON; nullopt when there is none (404).
db_result<std::optional<std::string>> get_certificate(sql::database& db, const std::string& id);

/// Up to `limit` certificates (not Archived) with an id above `after_id`, in id order, as
/// (id, API document) pairs: how sweeps page through the whole inventory.
db_result<std::vector<std::pair<std::string, std::string>>> certificates_after(
    sql::database& db, const std::string& after_id, std::int64_t limit);

/// One certificate_versions row (API CertificateVersion).
struct certificate_version_row {
  std::string id;
  std::string certificate_id;
  std::int64_t position = 0;  ///< of the certificate.issued event
  std::string serial_number;
  std::string not_before;  ///< RFC 3339, as issued
  std::string not_after;
  std::string fingerprint_sha256;
  std::string pem_chain;
  std::optional<std::string> csr_pem;
  std::optional<std::string> key_algorithm;
  std::optional<std::int64_t> key_size;
  std::string created_at;  ///< RFC 3339

  bool operator==(const certificate_version_row& o) const;
};

/// Versions of a certificate, newest first (JSON CertificateVersion objects).
db_result<json_page> list_certificate_versions(sql::database& db, const std::string& certificate_id,
                                               std::int64_t page = 1, std::int64_t per_page = 50);
/// The newest version (for PEM export and revocation); nullopt when none was issued.
db_result<std::optional<certificate_version_row>> get_latest_certificate_version(
    sql::database& db, const std::string& certificate_id);
/// Which certificate a serial belongs to (the ACME server's revocation and renewal-info lookups).
struct serial_owner {
  std::string certificate_id;
  std::string pem_chain;  ///< of the version with that serial
};
/// The version with serial number `serial` (hex; issuers report either case, so both the
/// upper- and the lower-case spelling match); nullopt when no version has it.
db_result<std::optional<serial_owner>> find_version_by_serial(sql::database& db,
                                                              const std::string& serial);

/// The CertificateVersion JSON object (absent optional fields are left out).
std::string certificate_version_json(const certificate_version_row& v);

}  // namespace certctl::projections
