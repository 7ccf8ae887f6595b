#pragma once
/// The notification loops' view of the read models (actors/schedulers/notification_source.hpp):
/// each call is one query of projections/notification_projection.hpp. No SQL here.

#include <memory>

#include "actors/schedulers/notification_source.hpp"
#include "infra/sql/database.hpp"

namespace certctl::server {

class notification_source_adapter final : public schedulers::notification_source {
 public:
  explicit notification_source_adapter(std::shared_ptr<sql::database> db) : db_(std::move(db)) {}

  schedulers::source_result<std::vector<domain::alert_certificate>> alert_candidates(
      events::timestamp_us horizon, size_t limit) override;
  schedulers::source_result<std::map<std::string, events::json_object>> renewal_policies() override;
  schedulers::source_result<std::vector<std::string>> due_notifications(events::timestamp_us now,
                                                                        size_t limit) override;

 private:
  std::shared_ptr<sql::database> db_;
};

}  // namespace certctl::server
