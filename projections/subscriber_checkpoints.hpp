#pragma once
/// Where each follower of the event log outside the projector stands (webhook subscriptions,
/// event-driven notifications): event_subscriber_checkpoints(name, position), in the read
/// database beside the read models, so a follower resumes after downtime from the last event
/// it handled (at-least-once: it handles again what came after).

#include <cstdint>
#include <string>

#include "projections/sql_names.hpp"

namespace certctl::projections {

/// The last position `name` handled; -1 when it never ran. Creates the table when missing.
db_result<std::int64_t> load_subscriber_position(sql::database& db, const std::string& name);

/// Records that `name` handled everything up to `position`.
db_result<done> save_subscriber_position(sql::database& db, const std::string& name,
                                         std::int64_t position);

}  // namespace certctl::projections
