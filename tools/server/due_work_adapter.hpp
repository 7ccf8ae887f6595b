#pragma once
/// The scheduler loops' view of due work (actors/schedulers/due_work_source.hpp) over the
/// read models: each call is one query of projections/due_work_queries.hpp, its rows copied
/// into the loops' types. No SQL here; actors/ and projections/ stay apart, and this is where
/// the server joins them. Thread-safe as the queries are.

#include <memory>

#include "actors/schedulers/due_work_source.hpp"
#include "infra/sql/database.hpp"

namespace certctl::server {

class due_work_adapter final : public schedulers::due_work_source {
 public:
  explicit due_work_adapter(std::shared_ptr<sql::database> db) : db_(std::move(db)) {}

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
  schedulers::source_result<std::vector<schedulers::due_job>> jobs_awaiting_order_due(
      events::timestamp_us now, size_t limit) override;
  schedulers::source_result<std::vector<schedulers::silent_agent>> agents_silent_since(
      events::timestamp_us before, size_t limit) override;

 private:
  std::shared_ptr<sql::database> db_;
};

}  // namespace certctl::server
