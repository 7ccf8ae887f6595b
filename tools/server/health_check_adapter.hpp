#pragma once
/// The health probe loop's view of the read models (actors/schedulers/health_probe.hpp):
/// the checks due, from projections/health_check_projection. In cluster mode only the checks
/// whose stream this node owns (DESIGN §9), so each check is probed by one node and a dead
/// node's checks move with its partitions.

#include <functional>
#include <memory>
#include <string>

#include "actors/schedulers/health_probe.hpp"
#include "infra/sql/database.hpp"

namespace certctl::server {

class health_check_adapter final : public schedulers::due_health_checks {
 public:
  using ownership = std::function<bool(const std::string& stream_id)>;
  /// `is_local` empty: every check (a single node).
  explicit health_check_adapter(std::shared_ptr<sql::database> db, ownership is_local = {})
      : db_(std::move(db)), is_local_(std::move(is_local)) {}

  std::vector<schedulers::health_probe_target> due(events::timestamp_us now, size_t limit,
                                                   std::string& error) override;

 private:
  std::shared_ptr<sql::database> db_;
  ownership is_local_;
};

}  // namespace certctl::server
