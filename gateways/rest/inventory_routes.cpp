#include "gateways/rest/inventory_routes.hpp"

#include "events/json.hpp"
#include "events/time.hpp"
#include "infra/store/hash_chain.hpp"
#include "projections/point_in_time.hpp"

namespace certctl::gateways::rest {
using http::role;

namespace {

/// Holds one of the context's walk slots for its lifetime; `acquired` is false when all are
/// taken.
class walk_slot {
 public:
  explicit walk_slot(inventory_context& ctx) : ctx_(ctx) {
    acquired_ = ctx_.running.fetch_add(1) < ctx_.max_concurrent;
  }
  ~walk_slot() { ctx_.running.fetch_sub(1); }
  walk_slot(const walk_slot&) = delete;
  walk_slot& operator=(const walk_slot&) = delete;
  bool acquired() const { return acquired_; }

 private:
  inventory_context& ctx_;
  bool acquired_ = false;
};

http::response busy() {
  auto r = http::error_response(503, "another audit walk of the event log is running; retry");
  r.with_header("Retry-After", "1");
  return r;
}

http::response inventory(inventory_context& ctx, http::request_context& c) {
  const auto as_of_text = c.query("as_of");
  if (!as_of_text) return http::error_response(400, "query parameter 'as_of' is required");
  const auto as_of = events::parse_rfc3339(*as_of_text);
  if (!as_of)
    return http::error_response(400,
                                "query parameter 'as_of' must be RFC 3339 (e.g. "
                                "2026-11-27T08:00:00Z)");
  const std::string kind = c.query("kind").value_or("certificate");
  if (!projections::is_replayable_kind(kind))
    return http::error_response(400, "query parameter 'kind': unknown kind \"" + kind +
                                         "\" (known: " + projections::replayable_kinds() + ")");
  walk_slot slot(ctx);
  if (!slot.acquired()) return busy();
  auto snapshot = projections::inventory_as_of(ctx.store, kind, *as_of);
  if (!snapshot)
    return http::error_response(500, "event log read failed: " + snapshot.error().message);
  auto resp = http::json_response(projections::inventory_json(*snapshot));
  resp.with_header("X-Certctl-Position", std::to_string(snapshot->position));
  return resp;
}

http::response verify(inventory_context& ctx) {
  walk_slot slot(ctx);
  if (!slot.acquired()) return busy();
  auto report = store::verify_chain(ctx.store);
  events::json_object out;
  if (!report) {
    // A row the store cannot decode (a NULL or mistyped column) is tampering too.
    if (report.error().code != store::store_errc::corrupt)
      return http::error_response(500, "event log read failed: " + report.error().message);
    out.set("status", "broken").set("problem", report.error().message);
    return http::json_response(out.dump());
  }
  out.set("status", report->first_bad_position ? "broken" : "intact")
      .set("events_checked", report->events_checked)
      .set("head_hash", report->head_hash);
  if (report->first_bad_position)
    out.set("first_bad_position", *report->first_bad_position).set("problem", report->problem);
  return http::json_response(out.dump());
}

}  // namespace

void add_inventory_routes(http::router& r, inventory_context& ctx) {
  r.add("GET", "/api/v1/audit/inventory", http::audit_readers(),
        [&ctx](http::request_context& c) { return inventory(ctx, c); });
  r.add("GET", "/api/v1/audit/verify", http::audit_readers(),
        [&ctx](http::request_context&) { return verify(ctx); });
}

}  // namespace certctl::gateways::rest
