#include "projections/health_check_projection.hpp"

#include "domain/health_check.hpp"
#include "events/json.hpp"
#include "projections/audit_projection.hpp"

namespace certctl::projections {

db_result<done> health_check_projection::create_schema(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE health_checks (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  certificate_id TEXT NOT NULL,
  network_scan_target_id TEXT NOT NULL,
  enabled BIGINT NOT NULL,
  created_seq BIGINT NOT NULL,
  interval_us BIGINT NOT NULL,
  last_checked_us BIGINT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX health_checks_by_status ON health_checks (status, created_seq);
CREATE INDEX health_checks_by_due ON health_checks (enabled, last_checked_us);
CREATE TABLE health_check_history (
  check_id TEXT NOT NULL,
  position BIGINT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (check_id, position)
);
)sql");
}

db_result<done> health_check_projection::drop_schema(transaction& tx) {
  return tx.exec_script(
      "DROP TABLE IF EXISTS health_check_history; DROP TABLE IF EXISTS health_checks");
}

apply_result health_check_projection::apply(transaction& tx, const events::recorded_event& e) {
  const auto [kind, id] = split_stream_id(e.stream_id);
  if (kind != "health_check") return done{};
  events::json_object doc;
  bool deleted = false;
  std::int64_t created_seq = e.position, last_checked_us = 0;
  if (e.type != "health_check.created") {
    auto rows =
        tx.query("SELECT doc, created_seq, last_checked_us FROM health_checks WHERE id = ?", {id});
    if (!rows) return apply_error::from(rows.error());
    if (rows->empty()) return done{};
    doc = events::json_object::parse(rows->front().text(0).value_or("{}"))
              .value_or(events::json_object{});
    created_seq = rows->front().int64(1).value_or(e.position);
    last_checked_us = rows->front().int64(2).value_or(0);
  }
  if (!domain::fold_health_check(doc, deleted, id, e)) return done{};
  if (deleted) {
    if (auto r = tx.exec("DELETE FROM health_check_history WHERE check_id = ?", {id}); !r)
      return apply_error::from(r.error());
    if (auto r = tx.exec("DELETE FROM health_checks WHERE id = ?", {id}); !r)
      return apply_error::from(r.error());
    return done{};
  }
  if (auto entry = domain::health_history_entry(id, e)) {
    last_checked_us = e.occurred_at;
    auto r = tx.exec("INSERT INTO health_check_history (check_id, position, doc) VALUES (?, ?, ?)",
                     {id, e.position, entry->dump()});
    if (!r) return apply_error::from(r.error());
    // Keep the newest history_kept records: drop what is older than the oldest of them.
    r = tx.exec(
        "DELETE FROM health_check_history WHERE check_id = ? AND position < (SELECT position "
        "FROM health_check_history WHERE check_id = ? ORDER BY position DESC LIMIT 1 OFFSET ?)",
        {id, id, history_kept - 1});
    if (!r) return apply_error::from(r.error());
  }
  auto r = tx.exec(
      "INSERT INTO health_checks (id, status, certificate_id, network_scan_target_id, enabled, "
      "created_seq, interval_us, last_checked_us, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET status = excluded.status, certificate_id = "
      "excluded.certificate_id, network_scan_target_id = excluded.network_scan_target_id, "
      "enabled = excluded.enabled, interval_us = excluded.interval_us, last_checked_us = "
      "excluded.last_checked_us, doc = excluded.doc",
      {id, doc.str("status"), doc.str("certificate_id"), doc.str("network_scan_target_id"),
       std::int64_t{doc.boolean("enabled", true) ? 1 : 0}, created_seq,
       doc.int64("check_interval_seconds", 300) * 1000000, last_checked_us, doc.dump()});
  if (!r) return apply_error::from(r.error());
  return done{};
}

db_result<json_page> list_health_checks(sql::database& db, const health_check_filter& f) {
  std::string where = "health_checks WHERE 1 = 1";
  params p;
  const auto add = [&](const char* column, const std::string& value) {
    if (value.empty()) return;
    where += std::string(" AND ") + column + " = ?";
    p.push_back(value);
  };
  add("status", f.status);
  add("certificate_id", f.certificate_id);
  add("network_scan_target_id", f.network_scan_target_id);
  // A literal, not a parameter: the value is one of two constants.
  if (f.enabled) where += *f.enabled ? " AND enabled = 1" : " AND enabled = 0";
  return query_doc_page(db, where, p, "created_seq", f.page, f.per_page);
}

db_result<std::optional<std::string>> get_health_check(sql::database& db, const std::string& id) {
  auto rows = db.query("SELECT doc FROM health_checks WHERE id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>{};
  return std::optional<std::string>(rows->front().text(0).value_or("{}"));
}

db_result<std::string> health_check_summary_json(sql::database& db) {
  auto rows = db.query("SELECT status, COUNT(*) FROM health_checks GROUP BY status", {});
  if (!rows) return rows.error();
  events::json_object out;
  out.set("healthy", 0).set("degraded", 0).set("down", 0).set("cert_mismatch", 0);
  for (const auto& row : *rows) {
    const auto status = row.text(0).value_or("");
    const auto n = row.int64(1).value_or(0);
    if (status == "Healthy") out.set("healthy", n);
    if (status == "Degraded") out.set("degraded", n);
    if (status == "Down") out.set("down", n);
    if (status == "CertMismatch") out.set("cert_mismatch", n);
  }
  return out.dump();
}

db_result<json_page> health_check_history(sql::database& db, const std::string& id,
                                          std::int64_t limit) {
  // Not query_doc_page: the API allows up to 1000 records in one answer, past its page cap.
  if (limit < 1 || limit > health_check_projection::history_kept)
    return sql::db_error{sql::db_errc::invalid_argument, "limit must be between 1 and 1000"};
  auto rows = db.query(
      "SELECT doc, COUNT(*) OVER () FROM health_check_history WHERE check_id = ? "
      "ORDER BY position DESC LIMIT ?",
      {id, limit});
  if (!rows) return rows.error();
  json_page out;
  out.per_page = limit;
  if (!rows->empty()) out.total = rows->front().int64(1).value_or(0);
  for (const auto& r : *rows) out.data.push_back(r.text(0).value_or("{}"));
  return out;
}

db_result<std::vector<due_health_check>> due_health_checks(sql::database& db, std::int64_t now_us,
                                                           std::int64_t limit) {
  auto rows = db.query(
      "SELECT id, doc FROM health_checks WHERE enabled = 1 AND last_checked_us + interval_us <= ? "
      "ORDER BY last_checked_us, created_seq LIMIT ?",
      {now_us, limit});
  if (!rows) return rows.error();
  std::vector<due_health_check> out;
  for (const auto& row : *rows) {
    auto doc =
        events::json_object::parse(row.text(1).value_or("{}")).value_or(events::json_object{});
    out.push_back({row.text(0).value_or(""), doc.str("endpoint"), doc.int64("timeout_ms", 5000),
                   doc.int64("check_interval_seconds", 300)});
  }
  return out;
}

}  // namespace certctl::projections
