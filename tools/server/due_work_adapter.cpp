#include "tools/server/due_work_adapter.hpp"

#include "projections/due_work_queries.hpp"

namespace certctl::server {
namespace {

using schedulers::source_error;
using schedulers::source_result;

schedulers::due_certificate to_due(projections::due_certificate_row r) {
  return {std::move(r.id),
          std::move(r.status),
          r.expires_at,
          std::move(r.expires_at_text),
          std::move(r.renewal_policy_id),
          std::move(r.certificate_profile_id)};
}

schedulers::renewal_policy_info to_policy(projections::renewal_policy_row r) {
  return {std::move(r.id), r.renewal_window_days,    r.auto_renew,
          r.max_retries,   r.retry_interval_seconds, r.alert_window_days};
}

schedulers::due_job to_due(projections::due_job_row r) {
  return {std::move(r.id), std::move(r.type), std::move(r.status), std::move(r.certificate_id),
          r.attempts,      r.created_at,      r.scheduled_at,      r.started_at};
}

schedulers::silent_agent to_due(projections::silent_agent_row r) {
  return {std::move(r.id), r.last_heartbeat_at};
}

/// The rows of a query in the loops' types, or its error as a source_error.
template <class Row>
auto adapt(sql::db_result<std::vector<Row>> rows)
    -> source_result<std::vector<decltype(to_due(std::declval<Row>()))>> {
  if (!rows) return source_error{rows.error().message};
  std::vector<decltype(to_due(std::declval<Row>()))> out;
  out.reserve(rows->size());
  for (auto& r : *rows) out.push_back(to_due(std::move(r)));
  return out;
}

}  // namespace

source_result<std::vector<schedulers::due_certificate>> due_work_adapter::certificates_expiring_by(
    events::timestamp_us horizon, size_t limit) {
  return adapt(projections::certificates_expiring_by(*db_, horizon, limit));
}

source_result<std::vector<schedulers::due_certificate>> due_work_adapter::short_lived_expired_by(
    events::timestamp_us now, size_t limit) {
  return adapt(projections::short_lived_expired_by(*db_, now, limit));
}

source_result<std::vector<schedulers::renewal_policy_info>> due_work_adapter::renewal_policies() {
  auto rows = projections::renewal_policies(*db_);
  if (!rows) return source_error{rows.error().message};
  std::vector<schedulers::renewal_policy_info> out;
  out.reserve(rows->size());
  for (auto& r : *rows) out.push_back(to_policy(std::move(r)));
  return out;
}

source_result<std::optional<schedulers::renewal_policy_info>> due_work_adapter::renewal_policy(
    const std::string& id) {
  auto row = projections::renewal_policy(*db_, id);
  if (!row) return source_error{row.error().message};
  if (!row->has_value()) return std::optional<schedulers::renewal_policy_info>{};
  return std::optional<schedulers::renewal_policy_info>(to_policy(std::move(**row)));
}

source_result<std::vector<schedulers::due_job>> due_work_adapter::pending_jobs_due(
    events::timestamp_us now, size_t limit) {
  return adapt(projections::pending_jobs_due(*db_, now, limit));
}

source_result<std::vector<schedulers::due_job>> due_work_adapter::jobs_awaiting_csr_since(
    events::timestamp_us before, size_t limit) {
  return adapt(projections::jobs_awaiting_csr_since(*db_, before, limit));
}

source_result<std::vector<schedulers::due_job>> due_work_adapter::jobs_running_since(
    events::timestamp_us before, size_t limit) {
  return adapt(projections::jobs_running_since(*db_, before, limit));
}

source_result<std::vector<schedulers::silent_agent>> due_work_adapter::agents_silent_since(
    events::timestamp_us before, size_t limit) {
  return adapt(projections::agents_silent_since(*db_, before, limit));
}

}  // namespace certctl::server
