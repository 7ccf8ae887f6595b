#include "projections/policy_violation_projection.hpp"

#include "events/json.hpp"
#include "events/time.hpp"
#include "projections/audit_projection.hpp"

namespace certctl::projections {

db_result<done> policy_violation_projection::create_schema(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE policy_violations (
  id TEXT PRIMARY KEY,
  rule_id TEXT NOT NULL,
  certificate_id TEXT NOT NULL,
  created_seq BIGINT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX policy_violations_by_rule ON policy_violations (rule_id, created_seq);
CREATE INDEX policy_violations_by_certificate ON policy_violations (certificate_id);
)sql");
}

db_result<done> policy_violation_projection::drop_schema(transaction& tx) {
  return tx.exec_script("DROP TABLE IF EXISTS policy_violations");
}

apply_result policy_violation_projection::apply(transaction& tx, const events::recorded_event& e) {
  if (e.type != "policy.violation_recorded") return done{};
  const auto [kind, rule_id] = split_stream_id(e.stream_id);
  auto p = events::json_object::parse(e.payload);
  if (!p) return apply_error{"policy.violation_recorded: payload is not a JSON object", false};
  events::json_object doc;
  doc.set("id", p->str("violation_id"))
      .set("rule_id", rule_id)
      .set("certificate_id", p->str("certificate_id"))
      .set("message", p->str("message"))
      .set("severity", p->str("severity", "Warning"))
      .set("created_at", events::format_rfc3339(e.occurred_at));
  // A violation recorded twice (two nodes sweeping at once) keeps its first row.
  auto r = tx.exec(
      "INSERT INTO policy_violations (id, rule_id, certificate_id, created_seq, doc) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
      {doc.str("id"), rule_id, doc.str("certificate_id"), e.position, doc.dump()});
  if (!r) return apply_error::from(r.error());
  return done{};
}

db_result<json_page> list_policy_violations(sql::database& db, const std::string& rule_id,
                                            std::int64_t page, std::int64_t per_page) {
  return query_doc_page(db, "policy_violations WHERE rule_id = ?", {rule_id}, "created_seq DESC",
                        page, per_page);
}

db_result<std::vector<std::string>> violation_ids_of(sql::database& db,
                                                     const std::string& certificate_id) {
  auto rows =
      db.query("SELECT id FROM policy_violations WHERE certificate_id = ?", {certificate_id});
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (const auto& row : *rows) out.push_back(row.text(0).value_or(""));
  return out;
}

}  // namespace certctl::projections
