#pragma once
/// relay_checkpoints(name, position): the last position whose delivery, and that of every
/// position before it, the cluster confirmed. It lives in the log's database (DESIGN §8) so a
/// backup or restore of the log carries it along.

#include <cstdint>
#include <string>

#include "events/result.hpp"
#include "infra/kafka/kafka_error.hpp"
#include "infra/sql/database.hpp"

namespace certctl::kafka::detail {

result<done, kafka_error> ensure_checkpoint_table(sql::database& db);
result<done, kafka_error> store_checkpoint(sql::database& db, const std::string& name,
                                           std::int64_t position);

}  // namespace certctl::kafka::detail
