#pragma once
/// The policy violations read model: one row per policy.violation_recorded event, i.e. per
/// (rule, certificate, finding), listed per rule (GET /api/v1/policies/{id}/violations) and
/// per certificate (what the periodic sweep has already reported).

#include <string>
#include <vector>

#include "projections/entity_queries.hpp"
#include "projections/projection.hpp"

namespace certctl::projections {

class policy_violation_projection final : public projection {
 public:
  std::string name() const override { return "policy_violations"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

/// The violations of rule `rule_id`, newest first, as PolicyViolation objects.
db_result<json_page> list_policy_violations(sql::database& db, const std::string& rule_id,
                                            std::int64_t page, std::int64_t per_page);

/// The violation ids already recorded for `certificate_id` (any rule).
db_result<std::vector<std::string>> violation_ids_of(sql::database& db,
                                                     const std::string& certificate_id);

}  // namespace certctl::projections
