#pragma once
/// The audit read model (DESIGN §7): one row per event in `audit_events`, indexed for the
/// filters of GET /api/v1/audit. Queries are in audit_queries.hpp.

#include <string>
#include <utility>

#include "projections/projection.hpp"

namespace certctl::projections {

/// Splits a stream id at its first '-': "certificate-mc-1" -> {"certificate", "mc-1"}.
/// A stream id without '-' is all kind, with an empty entity id.
std::pair<std::string, std::string> split_stream_id(const std::string& stream_id);

class audit_projection final : public projection {
 public:
  std::string name() const override { return "audit"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

}  // namespace certctl::projections
