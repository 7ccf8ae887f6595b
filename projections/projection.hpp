#pragma once
/// A projection (DESIGN §6): a fold of the global event stream into SQL read tables.
/// The projector calls it inside its transactions; a projection never commits by itself.

#include <string>

#include "events/event.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

/// Why apply() could not project an event.
struct apply_error {
  std::string message;
  /// True when the database, not the event, is at fault (connection lost, lock timeout):
  /// the projector rolls the batch back and retries it later. False means the event cannot
  /// be projected (malformed payload, constraint violation): the projector skips it.
  bool transient = false;

  /// Classifies a database error: only db_errc::unavailable is transient.
  static apply_error from(const db_error& e) { return {e.message, e.code == db_errc::unavailable}; }
};

using apply_result = result<done, apply_error>;

class projection {
 public:
  virtual ~projection() = default;

  /// Stable name; the key of its checkpoint. Lower-case, no spaces.
  virtual std::string name() const = 0;
  /// Version of the table layout and of the fold. Bump it and the projector drops the tables,
  /// recreates them and replays the log from position 1.
  virtual int schema_version() const = 0;

  /// Creates the read tables (and indexes). Runs inside the projector's transaction.
  virtual db_result<done> create_schema(transaction& tx) = 0;
  /// Drops everything create_schema made (use DROP ... IF EXISTS: the tables may be from an
  /// older schema version).
  virtual db_result<done> drop_schema(transaction& tx) = 0;
  /// Folds one event into the tables. Events of types the projection does not know are
  /// ignored by returning done{}. Called once per event, in position order.
  virtual apply_result apply(transaction& tx, const events::recorded_event& e) = 0;
};

}  // namespace certctl::projections
