#pragma once
/// The endpoint health checks read model (GET /api/v1/health-checks, /summary, /{id},
/// /{id}/history) and the prober's due list: one row per check, folded with
/// domain::fold_health_check so it shows what the entity shows, and one history row per
/// probe (the newest `history_kept` per check).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "projections/entity_queries.hpp"
#include "projections/projection.hpp"

namespace certctl::projections {

class health_check_projection final : public projection {
 public:
  /// Probe records kept per check; older ones are dropped as new ones arrive (the log keeps
  /// them all).
  static constexpr std::int64_t history_kept = 1000;

  std::string name() const override { return "health_checks"; }
  int schema_version() const override { return 1; }
  db_result<done> create_schema(transaction& tx) override;
  db_result<done> drop_schema(transaction& tx) override;
  apply_result apply(transaction& tx, const events::recorded_event& e) override;
};

struct health_check_filter {
  std::string status;                  ///< Healthy, Degraded, Down, CertMismatch; "" any
  std::string certificate_id;          ///< "" any
  std::string network_scan_target_id;  ///< "" any
  std::optional<bool> enabled;
  std::int64_t page = 1;
  std::int64_t per_page = 50;
};

/// Oldest first.
db_result<json_page> list_health_checks(sql::database& db, const health_check_filter& filter);

db_result<std::optional<std::string>> get_health_check(sql::database& db, const std::string& id);

/// {"healthy","degraded","down","cert_mismatch"} counts; checks never probed count nowhere.
db_result<std::string> health_check_summary_json(sql::database& db);

/// The newest `limit` probe records of a check, newest first, and how many are kept.
db_result<json_page> health_check_history(sql::database& db, const std::string& id,
                                          std::int64_t limit);

/// A check the prober should probe now.
struct due_health_check {
  std::string id;
  std::string endpoint;
  std::int64_t timeout_ms = 5000;
  std::int64_t interval_seconds = 300;
};

/// Enabled checks never probed, or last probed at least their interval before `now_us`;
/// longest waiting first.
db_result<std::vector<due_health_check>> due_health_checks(sql::database& db, std::int64_t now_us,
                                                           std::int64_t limit);

}  // namespace certctl::projections
