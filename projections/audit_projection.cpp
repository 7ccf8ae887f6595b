#include "projections/audit_projection.hpp"

#include "events/time.hpp"

namespace certctl::projections {

std::pair<std::string, std::string> split_stream_id(const std::string& stream_id) {
  const auto dash = stream_id.find('-');
  if (dash == std::string::npos) return {stream_id, std::string()};
  return {stream_id.substr(0, dash), stream_id.substr(dash + 1)};
}

db_result<done> audit_projection::create_schema(transaction& tx) {
  // Every filter of the list query is paired with position, the sort key, so a filtered
  // page is an index range scan rather than a sort of all matches.
  return tx.exec_script(R"sql(
CREATE TABLE audit_events (
  id TEXT PRIMARY KEY,
  position BIGINT NOT NULL UNIQUE,
  occurred_at BIGINT NOT NULL,
  occurred_at_rfc3339 TEXT NOT NULL,
  type TEXT NOT NULL,
  stream_id TEXT NOT NULL,
  entity_kind TEXT NOT NULL,
  entity_id TEXT NOT NULL,
  principal TEXT NOT NULL,
  source_address TEXT NOT NULL,
  correlation_id TEXT NOT NULL,
  causation_id TEXT NOT NULL,
  payload TEXT NOT NULL
);
CREATE INDEX audit_events_principal ON audit_events (principal, position);
CREATE INDEX audit_events_entity ON audit_events (entity_kind, entity_id, position);
CREATE INDEX audit_events_type ON audit_events (type, position);
CREATE INDEX audit_events_time ON audit_events (occurred_at);
)sql");
}

db_result<done> audit_projection::drop_schema(transaction& tx) {
  return tx.exec_script("DROP TABLE IF EXISTS audit_events");
}

apply_result audit_projection::apply(transaction& tx, const events::recorded_event& e) {
  const auto [kind, id] = split_stream_id(e.stream_id);
  auto r = tx.exec(
      "INSERT INTO audit_events (id, position, occurred_at, occurred_at_rfc3339, type, "
      "stream_id, entity_kind, entity_id, principal, source_address, correlation_id, "
      "causation_id, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {e.event_id, e.position, e.occurred_at, events::format_rfc3339(e.occurred_at), e.type,
       e.stream_id, kind, id, e.principal, e.source_address, e.correlation_id, e.causation_id,
       e.payload});
  if (!r) return apply_error::from(r.error());
  return done{};
}

}  // namespace certctl::projections
