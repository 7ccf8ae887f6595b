#pragma once
/// Read model of discovery (issue 12): discovered certificates and discovery scans, each row
/// folded with the domain's own fold (domain/discovery.hpp). Queries for
/// GET /api/v1/discovered-certificates[/{id}], /api/v1/discovery-scans and
/// /api/v1/discovery-summary.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "projections/entity_queries.hpp"
#include "projections/projection.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

/// `discovered_certificates` (id, created_seq, status, agent_id, doc) and `discovery_scans`
/// (id, created_seq, agent_id, doc).
class discovery_projection final : public projection {
 public:
  std::string name() const override { return "discovery"; }
  int schema_version() const override { return 2; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

struct discovered_filter {
  std::optional<std::string> agent_id;
  std::optional<std::string> status;  ///< Unmanaged, Managed, Dismissed
  std::int64_t page = 1;
  std::int64_t per_page = 50;
};

/// Discovered certificates, newest first; invalid_argument for an unknown status.
db_result<json_page> list_discovered_certificates(sql::database& db, const discovered_filter& f);
/// One as JSON; nullopt when there is none.
db_result<std::optional<std::string>> get_discovered_certificate(sql::database& db,
                                                                 const std::string& id);
/// Discovery scans, newest first, optionally of one agent.
db_result<json_page> list_discovery_scans(sql::database& db,
                                          const std::optional<std::string>& agent_id,
                                          std::int64_t page, std::int64_t per_page);
/// Discovered certificates per status; every status present (0 when none).
db_result<std::map<std::string, std::int64_t>> discovery_summary(sql::database& db);

}  // namespace certctl::projections
