#include "projections/approval_projection.hpp"

#include "domain/approval.hpp"
#include "events/json.hpp"
#include "projections/audit_projection.hpp"

namespace certctl::projections {

db_result<done> approval_projection::create_schema(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  certificate_id TEXT NOT NULL,
  created_seq BIGINT NOT NULL,
  created_at_us BIGINT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX approvals_by_state ON approvals (state, created_seq);
CREATE INDEX approvals_by_certificate ON approvals (certificate_id, created_seq);
)sql");
}

db_result<done> approval_projection::drop_schema(transaction& tx) {
  return tx.exec_script("DROP TABLE IF EXISTS approvals");
}

apply_result approval_projection::apply(transaction& tx, const events::recorded_event& e) {
  const auto [kind, id] = split_stream_id(e.stream_id);
  if (kind != "approval" || e.type.rfind("approval.", 0) != 0) return done{};
  events::json_object doc;
  std::int64_t created_seq = e.position, created_at_us = e.occurred_at;
  if (e.type != "approval.created") {
    auto rows =
        tx.query("SELECT doc, created_seq, created_at_us FROM approvals WHERE id = ?", {id});
    if (!rows) return apply_error::from(rows.error());
    if (rows->empty()) return done{};
    doc = events::json_object::parse(rows->front().text(0).value_or("{}"))
              .value_or(events::json_object{});
    created_seq = rows->front().int64(1).value_or(e.position);
    created_at_us = rows->front().int64(2).value_or(e.occurred_at);
  }
  if (!domain::fold_approval(doc, id, e)) return done{};
  auto r = tx.exec(
      "INSERT INTO approvals (id, state, certificate_id, created_seq, created_at_us, doc) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state, "
      "doc = excluded.doc",
      {id, doc.str("state"), doc.str("certificate_id"), created_seq, created_at_us, doc.dump()});
  if (!r) return apply_error::from(r.error());
  return done{};
}

db_result<json_page> list_approvals(sql::database& db, const approval_filter& f) {
  std::string where = "approvals WHERE 1 = 1";
  params p;
  if (!f.state.empty()) {
    where += " AND state = ?";
    p.push_back(f.state);
  }
  if (!f.certificate_id.empty()) {
    where += " AND certificate_id = ?";
    p.push_back(f.certificate_id);
  }
  return query_doc_page(db, where, p, "created_seq DESC", f.page, f.per_page);
}

db_result<std::optional<std::string>> get_approval(sql::database& db, const std::string& id) {
  auto rows = db.query("SELECT doc FROM approvals WHERE id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>{};
  return std::optional<std::string>(rows->front().text(0).value_or("{}"));
}

db_result<std::vector<std::string>> pending_approvals_before(sql::database& db,
                                                             std::int64_t before_us,
                                                             std::int64_t limit) {
  auto rows = db.query(
      "SELECT id FROM approvals WHERE state = 'pending' AND created_at_us < ? "
      "ORDER BY created_seq LIMIT ?",
      {before_us, limit});
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (const auto& row : *rows) out.push_back(row.text(0).value_or(""));
  return out;
}

}  // namespace certctl::projections
