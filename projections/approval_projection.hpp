#pragma once
/// The approval requests read model (GET /api/v1/approvals): one row per approval entity,
/// folded with domain::fold_approval so it shows what the entity shows.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "projections/entity_queries.hpp"
#include "projections/projection.hpp"

namespace certctl::projections {

class approval_projection final : public projection {
 public:
  std::string name() const override { return "approvals"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

struct approval_filter {
  std::string state;           ///< pending, approved, rejected, expired; "" any
  std::string certificate_id;  ///< "" any
  std::int64_t page = 1;
  std::int64_t per_page = 50;
};

/// Newest first.
db_result<json_page> list_approvals(sql::database& db, const approval_filter& filter);

db_result<std::optional<std::string>> get_approval(sql::database& db, const std::string& id);

/// Ids of requests still pending that were created before `before_us`, oldest first.
db_result<std::vector<std::string>> pending_approvals_before(sql::database& db,
                                                             std::int64_t before_us,
                                                             std::int64_t limit);

}  // namespace certctl::projections
