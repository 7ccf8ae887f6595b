#include "projections/intermediate_projection.hpp"

#include "domain/intermediate.hpp"
#include "events/json.hpp"
#include "projections/audit_projection.hpp"

namespace certctl::projections {

db_result<done> intermediate_projection::create_schema(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE intermediates (
  id TEXT PRIMARY KEY,
  issuer_id TEXT NOT NULL,
  created_seq BIGINT NOT NULL,
  status TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX intermediates_by_issuer ON intermediates (issuer_id, created_seq);
)sql");
}

db_result<done> intermediate_projection::drop_schema(transaction& tx) {
  return tx.exec_script("DROP TABLE IF EXISTS intermediates");
}

apply_result intermediate_projection::apply(transaction& tx, const events::recorded_event& e) {
  const auto [kind, id] = split_stream_id(e.stream_id);
  if (kind != "intermediate" || e.type.rfind("intermediate.", 0) != 0) return done{};
  auto rows = tx.query("SELECT doc, created_seq FROM intermediates WHERE id = ?", {id});
  if (!rows) return apply_error::from(rows.error());
  const bool creating = e.type == "intermediate.created";
  if (!creating && rows->empty()) return done{};
  events::json_object doc;
  std::int64_t created_seq = e.position;
  if (!rows->empty() && !creating) {
    doc = events::json_object::parse(rows->front().text(0).value_or("{}"))
              .value_or(events::json_object{});
    created_seq = rows->front().int64(1).value_or(e.position);
  }
  if (!domain::fold_intermediate(doc, id, e)) return done{};
  auto r = tx.exec(
      "INSERT INTO intermediates (id, issuer_id, created_seq, status, doc) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET issuer_id = excluded.issuer_id, "
      "created_seq = excluded.created_seq, status = excluded.status, doc = excluded.doc",
      {id, doc.str("issuer_id"), created_seq, doc.str("status"), doc.dump()});
  if (!r) return apply_error::from(r.error());
  return done{};
}

db_result<std::vector<std::string>> list_intermediates(sql::database& db,
                                                       const std::string& issuer_id,
                                                       std::int64_t limit) {
  auto rows =
      db.query("SELECT doc FROM intermediates WHERE issuer_id = ? ORDER BY created_seq LIMIT ?",
               {issuer_id, limit});
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (const auto& row : *rows) out.push_back(row.text(0).value_or("{}"));
  return out;
}

db_result<std::optional<std::string>> get_intermediate(sql::database& db, const std::string& id) {
  auto rows = db.query("SELECT doc FROM intermediates WHERE id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>{};
  return std::optional<std::string>(rows->front().text(0).value_or("{}"));
}

}  // namespace certctl::projections
