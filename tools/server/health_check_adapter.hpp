#pragma once
/// The health probe loop's view of the read models (actors/schedulers/health_probe.hpp):
/// the checks due, from projections/health_check_projection.

#include <memory>

#include "actors/schedulers/health_probe.hpp"
#include "infra/sql/database.hpp"

namespace certctl::server {

class health_check_adapter final : public schedulers::due_health_checks {
 public:
  explicit health_check_adapter(std::shared_ptr<sql::database> db) : db_(std::move(db)) {}

  std::vector<schedulers::health_probe_target> due(events::timestamp_us now, size_t limit,
                                                   std::string& error) override;

 private:
  std::shared_ptr<sql::database> db_;
};

}  // namespace certctl::server
