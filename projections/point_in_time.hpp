#pragma once
/// The inventory as it was at a past instant (DESIGN §1, "inventory as of date T"): folds a
/// prefix of the log through the domain aggregates, the same fold the write side uses, so the
/// read side never keeps a second copy of the rules. Used by `certctl-audit replay` and by the
/// REST gateway's GET /api/v1/audit/inventory.
///
/// Cost: one sequential read of the log from position 1 up to the first event after T, one page
/// (page_size events) in memory at a time, plus one aggregate per entity of the requested kind.
/// It does not grow with what happened after T.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "events/json.hpp"
#include "events/time.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::projections {

struct inventory_snapshot {
  events::timestamp_us as_of = 0;
  std::string kind;
  /// The last event folded (0 when none): names the state exactly, whatever T was.
  std::int64_t position = 0;
  /// The API view of every entity of `kind` that existed then (deleted configuration entities
  /// left out), sorted by id.
  std::vector<events::json_object> entities;
  /// Events read from the log to build it (all kinds): the work the request cost.
  std::int64_t events_read = 0;
};

/// True for the kinds an inventory can be rebuilt for: certificate, job and every resource kind.
bool is_replayable_kind(const std::string& kind);

/// "certificate, job, issuer, ..." for error messages.
std::string replayable_kinds();

/// "certificate" -> "certificates", "renewal_policy" -> "renewal_policies".
std::string plural_kind(const std::string& kind);

/// Folds the log in position order, stopping at the first event that occurred after `until`.
/// Position order is commit order, the order in which every aggregate decided against its
/// state; occurred_at rises with position except for small clock skews between nodes or between
/// stamping and committing. Filtering the whole log by occurred_at instead could fold a later
/// event without an earlier one and show a state the system never was in; a prefix is always a
/// state the system really had, and the walk can end early. `kind` must be replayable.
store::store_result<inventory_snapshot> inventory_as_of(store::event_store& store,
                                                        const std::string& kind,
                                                        events::timestamp_us until,
                                                        std::size_t page_size = 1000);

/// {"as_of": T, "kind": K, "position": P, "<kind>s": [...], "total": N}
std::string inventory_json(const inventory_snapshot& s);

}  // namespace certctl::projections
