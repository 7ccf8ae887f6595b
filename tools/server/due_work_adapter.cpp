#include "tools/server/due_work_adapter.hpp"

#include "projections/due_work_queries.hpp"

namespace certctl::server {
namespace {

using schedulers::source_error;
using schedulers::source_result;

/// A query's rows (already the loops' types, domain/due_work.hpp), or its error as a
/// source_error.
template <class T>
source_result<T> adapt(sql::db_result<T> rows) {
  if (!rows) return source_error{rows.error().message};
  return std::move(rows).value();
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
  return adapt(projections::renewal_policies(*db_));
}

source_result<std::optional<schedulers::renewal_policy_info>> due_work_adapter::renewal_policy(
    const std::string& id) {
  return adapt(projections::renewal_policy(*db_, id));
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

source_result<std::vector<schedulers::due_job>> due_work_adapter::jobs_awaiting_order_due(
    events::timestamp_us now, size_t limit) {
  return adapt(projections::jobs_awaiting_order_due(*db_, now, limit));
}

source_result<std::vector<schedulers::silent_agent>> due_work_adapter::agents_silent_since(
    events::timestamp_us before, size_t limit) {
  return adapt(projections::agents_silent_since(*db_, before, limit));
}

}  // namespace certctl::server
