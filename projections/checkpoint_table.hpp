#pragma once
/// The projector's bookkeeping tables, written in the same transactions as the read models:
///   projection_checkpoints(name, position, schema_version)   last position applied
///   projection_skipped_events(name, position, event_type, message)   events the skip rule
///                                                                     passed over
/// Internal to the projector; exposed for tests and operators' tools.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "projections/sql_names.hpp"

namespace certctl::projections {

struct checkpoint {
  std::int64_t position = 0;  ///< last applied position; 0 = nothing applied
  int schema_version = 0;
};

/// Creates both tables if they do not exist.
db_result<done> ensure_checkpoint_tables(transaction& tx);

/// The stored checkpoint of `name`; `lock` takes a row lock on PostgreSQL (FOR UPDATE) so two
/// projector processes cannot apply the same batch; SQLite's write lock already serialises.
db_result<std::optional<checkpoint>> load_checkpoint(transaction& tx, const std::string& name,
                                                     bool lock);

/// Every stored checkpoint by name, in one query (a standby projector follows them all).
db_result<std::map<std::string, checkpoint>> load_all_checkpoints(transaction& tx);

/// Inserts or replaces the checkpoint of `name`.
db_result<done> store_checkpoint(transaction& tx, const std::string& name, const checkpoint& cp);

/// Records one skipped event.
db_result<done> record_skip(transaction& tx, const std::string& name, std::int64_t position,
                            const std::string& event_type, const std::string& message);

/// Forgets the skipped events of `name` (its read model is being rebuilt).
db_result<done> clear_skips(transaction& tx, const std::string& name);

}  // namespace certctl::projections
