#pragma once
/// The scheduler loops' view of due work (actors/schedulers/due_work_source.hpp), read from
/// the projections' tables (`certificates`, `jobs`, `resources`; see
/// projections/entity_projections.cpp). Thread-safe: sql::database pools its connections, and the
/// issuance workers ask for retry intervals while the scheduler ticks.

#include <memory>

#include "actors/schedulers/due_work_source.hpp"
#include "infra/sql/database.hpp"

namespace certctl::server {

class scheduler_source final : public schedulers::due_work_source {
 public:
  explicit scheduler_source(std::shared_ptr<sql::database> db) : db_(std::move(db)) {}

  schedulers::source_result<std::vector<schedulers::due_certificate>> certificates_expiring_by(
      events::timestamp_us horizon, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::due_certificate>> short_lived_expired_by(
      events::timestamp_us now, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::renewal_policy_info>> renewal_policies()
      override;
  schedulers::source_result<std::optional<schedulers::renewal_policy_info>> renewal_policy(
      const std::string& id) override;
  schedulers::source_result<std::vector<schedulers::due_job>> pending_jobs_due(
      events::timestamp_us now, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::due_job>> jobs_awaiting_csr_since(
      events::timestamp_us before, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::due_job>> jobs_running_since(
      events::timestamp_us before, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::silent_agent>> agents_silent_since(
      events::timestamp_us before, size_t limit) override;

 private:
  std::shared_ptr<sql::database> db_;
};

}  // namespace certctl::server
