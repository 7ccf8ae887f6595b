#pragma once
/// Audit routes the reference API has no operation for, used by the dashboard's audit page
/// (docs/dashboard.md). Both read the event log itself, which is the audit trail:
///
///   GET /api/v1/audit/inventory?as_of=T[&kind=K]   viewer. The inventory of kind K
///       (certificate by default; job, issuer, profile, renewal_policy, team, owner, agent) as
///       it was at T: {"as_of","kind","position","<kind>s":[...],"total"}, the same document as
///       `certctl-audit replay`, built by the same fold (projections/point_in_time).
///       Cost: reads the log from position 1 up to T (one page at a time), never beyond it.
///   GET /api/v1/audit/verify                        viewer. Recomputes the hash chain over the
///       whole log (infra/store/hash_chain, as `certctl-audit verify`): {"status": "intact" |
///       "broken", "events_checked", "head_hash", "first_bad_position"?, "problem"?}.
///       Cost: reads the whole log.
///
/// Both are whole-log walks, so each runs at most `max_concurrent` at a time; more get 503
/// with Retry-After rather than holding HTTP worker threads in a queue.

#include <atomic>
#include <cstddef>

#include "gateways/http/router.hpp"
#include "infra/store/event_store.hpp"

namespace certctl::gateways::rest {

struct inventory_context {
  store::event_store& store;
  std::size_t max_concurrent = 2;
  /// Walks running now (both routes); shared by all request threads.
  std::atomic<std::size_t> running{0};
};

/// `ctx` must outlive the HTTP server.
void add_inventory_routes(gateways::http::router& r, inventory_context& ctx);

}  // namespace certctl::gateways::rest
