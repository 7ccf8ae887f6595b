#pragma once
/// Reads of the audit read model for GET /api/v1/audit and /api/v1/audit/{id}, and their
/// JSON in the shape of the API's AuditEvent schema.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

/// One audit_events row.
struct audit_row {
  std::string id;  ///< the event id
  std::int64_t position = 0;
  events::timestamp_us occurred_at = 0;
  std::string occurred_at_rfc3339;
  std::string type;
  std::string stream_id;
  std::string entity_kind;
  std::string entity_id;
  std::string principal;
  std::string source_address;
  std::string correlation_id;
  std::string causation_id;
  std::string payload;  ///< canonical JSON object text

  bool operator==(const audit_row& o) const;
};

/// Filters combine with AND; an unset filter matches everything.
struct audit_filter {
  std::optional<std::string> principal;      ///< API: actor
  std::optional<std::string> entity_kind;    ///< API: resource_type, e.g. "certificate"
  std::optional<std::string> entity_id;      ///< API: resource_id, e.g. "mc-1"
  std::optional<std::string> event_type;     ///< API: action, e.g. "certificate.issued"
  std::optional<events::timestamp_us> from;  ///< occurred_at >= from
  std::optional<events::timestamp_us> to;    ///< occurred_at <= to
  std::int64_t page = 1;                     ///< 1-based
  std::int64_t per_page = 50;                ///< 1..500, as the API allows
};

struct audit_page {
  std::vector<audit_row> rows;  ///< newest first (position descending)
  std::int64_t total = 0;       ///< rows matching the filter, over all pages
  std::int64_t page = 1;
  std::int64_t per_page = 50;
};

/// A page of matching events. invalid_argument for page < 1 or per_page outside 1..500.
db_result<audit_page> list_audit_events(sql::database& db, const audit_filter& filter);
/// One event by its id; nullopt when there is none.
db_result<std::optional<audit_row>> get_audit_event(sql::database& db, const std::string& id);

/// The API's ActorType for a principal: "System" for "system:<loop>" (and an empty
/// principal), "Agent" for "agent:<id>" or "agent-<id>", otherwise "User".
std::string actor_type_of(const std::string& principal);

/// The AuditEvent JSON object: id, actor, actor_type, action, resource_type, resource_id,
/// details (the payload object), timestamp (RFC 3339), plus position, source_address and
/// correlation_id, which the schema does not forbid and reviewers ask for.
std::string audit_event_json(const audit_row& row);
/// The paginated list body: {"data": [AuditEvent...], "total", "page", "per_page"}.
std::string audit_page_json(const audit_page& page);

}  // namespace certctl::projections
