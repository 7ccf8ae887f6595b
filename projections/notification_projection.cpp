#include "projections/notification_projection.hpp"

#include "domain/notification.hpp"
#include "events/json.hpp"
#include "events/time.hpp"
#include "projections/audit_projection.hpp"

namespace certctl::projections {

namespace {

sql_value retry_at_of(const events::json_object& doc) {
  if (!doc.is_string("next_retry_at")) return std::monostate{};
  auto t = events::parse_rfc3339(doc.str("next_retry_at"));
  if (!t) return std::monostate{};
  return *t;
}

sql_value certificate_of(const events::json_object& doc) {
  if (!doc.is_string("certificate_id") || doc.str("certificate_id").empty())
    return std::monostate{};
  return doc.str("certificate_id");
}

}  // namespace

db_result<done> notification_projection::create_schema(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  created_seq BIGINT NOT NULL,
  status TEXT NOT NULL,
  channel TEXT NOT NULL,
  certificate_id TEXT,
  next_retry_at_us BIGINT,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX notifications_status ON notifications (status, created_seq);
CREATE INDEX notifications_channel ON notifications (channel, created_seq);
CREATE INDEX notifications_certificate ON notifications (certificate_id, created_seq);
CREATE INDEX notifications_due ON notifications (next_retry_at_us);
CREATE INDEX notifications_created ON notifications (created_seq);
)sql");
}

db_result<done> notification_projection::drop_schema(transaction& tx) {
  return tx.exec_script("DROP TABLE IF EXISTS notifications");
}

apply_result notification_projection::apply(transaction& tx, const events::recorded_event& e) {
  const auto [kind, id] = split_stream_id(e.stream_id);
  if (kind != "notification" || e.type.rfind("notification.", 0) != 0) return done{};
  auto p = events::json_object::parse(e.payload);
  if (!p) return apply_error{e.type + ": payload is not a JSON object", false};
  auto rows = tx.query("SELECT doc FROM notifications WHERE id = ?", {id});
  if (!rows) return apply_error::from(rows.error());
  const bool creating = e.type == "notification.created";
  if (!creating && rows->empty()) return done{};
  events::json_object doc;
  if (!rows->empty())
    doc = events::json_object::parse(rows->front().text(0).value_or("{}"))
              .value_or(events::json_object{});
  if (!domain::fold_notification(doc, id, e, *p)) return done{};
  auto r = tx.exec(
      "INSERT INTO notifications (id, created_seq, status, channel, certificate_id, "
      "next_retry_at_us, created_at_us, updated_at_us, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
      "next_retry_at_us = excluded.next_retry_at_us, updated_at_us = excluded.updated_at_us, "
      "doc = excluded.doc",
      {id, e.position, doc.str("status"), doc.str("channel"), certificate_of(doc), retry_at_of(doc),
       e.occurred_at, e.occurred_at, doc.dump()});
  if (!r) return apply_error::from(r.error());
  return done{};
}

db_result<json_page> list_notifications(sql::database& db, const notification_filter& f) {
  std::string where;
  params p;
  auto add = [&](const char* clause, const std::optional<std::string>& v) {
    if (!v) return;
    where += where.empty() ? " WHERE " : " AND ";
    where += clause;
    p.push_back(*v);
  };
  add("status = ?", f.status);
  add("channel = ?", f.channel);
  add("certificate_id = ?", f.certificate_id);
  return query_doc_page(db, "notifications" + where, p, "created_seq DESC", f.page, f.per_page);
}

db_result<std::optional<std::string>> get_notification(sql::database& db, const std::string& id) {
  auto rows = db.query("SELECT doc FROM notifications WHERE id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>{};
  return std::optional<std::string>(rows->front().text(0).value_or("{}"));
}

db_result<std::vector<std::string>> due_notifications(sql::database& db, std::int64_t now_us,
                                                      std::int64_t limit) {
  auto rows = db.query(
      "SELECT id FROM notifications WHERE status IN ('pending', 'failed') AND "
      "next_retry_at_us <= ? ORDER BY next_retry_at_us, created_seq LIMIT ?",
      {now_us, limit});
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (const auto& r : *rows) out.push_back(r.text(0).value_or("{}"));
  return out;
}

db_result<std::int64_t> count_dead_notifications(sql::database& db) {
  auto rows = db.query("SELECT COUNT(*) FROM notifications WHERE status = 'dead'", {});
  if (!rows) return rows.error();
  if (rows->empty()) return std::int64_t{0};
  return rows->front().int64(0).value_or(0);
}

db_result<std::vector<domain::alert_certificate>> alert_candidates(sql::database& db,
                                                                   std::int64_t horizon_us,
                                                                   std::int64_t limit) {
  auto rows = db.query(
      "SELECT c.id, c.common_name, c.expires_at_us, c.expires_at, c.renewal_policy_id, "
      "c.owner_id, o.doc FROM certificates c LEFT JOIN resources o ON o.kind = 'owner' AND "
      "o.id = c.owner_id AND o.deleted = 0 WHERE c.status IN ('Active', 'Expiring') AND "
      "c.expires_at_us IS NOT NULL AND c.expires_at_us <= ? ORDER BY c.expires_at_us, c.id "
      "LIMIT ?",
      {horizon_us, limit});
  if (!rows) return rows.error();
  std::vector<domain::alert_certificate> out;
  for (const auto& r : *rows) {
    domain::alert_certificate c;
    c.id = r.text(0).value_or("");
    c.common_name = r.text(1).value_or("");
    c.expires_at = r.int64(2).value_or(0);
    c.expires_at_text = r.text(3).value_or("");
    c.renewal_policy_id = r.text(4).value_or("");
    c.owner_id = r.text(5).value_or("");
    if (auto owner = r.text(6))
      c.owner_email =
          events::json_object::parse(*owner).value_or(events::json_object{}).str("email");
    out.push_back(std::move(c));
  }
  return out;
}

db_result<std::map<std::string, events::json_object>> renewal_policy_docs(sql::database& db) {
  auto rows =
      db.query("SELECT id, doc FROM resources WHERE kind = 'renewal_policy' AND deleted = 0", {});
  if (!rows) return rows.error();
  std::map<std::string, events::json_object> out;
  for (const auto& r : *rows)
    out[r.text(0).value_or("")] =
        events::json_object::parse(r.text(1).value_or("{}")).value_or(events::json_object{});
  return out;
}

}  // namespace certctl::projections
