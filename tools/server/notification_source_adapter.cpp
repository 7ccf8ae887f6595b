#include "tools/server/notification_source_adapter.hpp"

#include "projections/notification_projection.hpp"

namespace certctl::server {
namespace {

template <class T>
schedulers::source_result<T> adapt(sql::db_result<T> rows) {
  if (!rows) return schedulers::source_error{rows.error().message};
  return std::move(rows).value();
}

}  // namespace

schedulers::source_result<std::vector<domain::alert_certificate>>
notification_source_adapter::alert_candidates(events::timestamp_us horizon, size_t limit) {
  return adapt(projections::alert_candidates(*db_, horizon, static_cast<std::int64_t>(limit)));
}

schedulers::source_result<std::map<std::string, events::json_object>>
notification_source_adapter::renewal_policies() {
  return adapt(projections::renewal_policy_docs(*db_));
}

schedulers::source_result<std::vector<std::string>> notification_source_adapter::due_notifications(
    events::timestamp_us now, size_t limit) {
  return adapt(projections::due_notifications(*db_, now, static_cast<std::int64_t>(limit)));
}

}  // namespace certctl::server
