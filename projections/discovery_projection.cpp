#include "projections/discovery_projection.hpp"

#include "domain/discovery.hpp"
#include "events/json.hpp"
#include "projections/audit_projection.hpp"

namespace certctl::projections {

db_result<done> discovery_projection::create_schema(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE discovered_certificates (
  id TEXT PRIMARY KEY,
  created_seq BIGINT NOT NULL,
  status TEXT NOT NULL,
  agent_id TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX discovered_by_status ON discovered_certificates (status, created_seq);
CREATE INDEX discovered_by_agent ON discovered_certificates (agent_id, created_seq);
CREATE TABLE discovery_scans (
  id TEXT PRIMARY KEY,
  created_seq BIGINT NOT NULL,
  agent_id TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX discovery_scans_by_agent ON discovery_scans (agent_id, created_seq);
)sql");
}

db_result<done> discovery_projection::drop_schema(transaction& tx) {
  return tx.exec_script(
      "DROP TABLE IF EXISTS discovered_certificates; DROP TABLE IF EXISTS discovery_scans");
}

apply_result discovery_projection::apply(transaction& tx, const events::recorded_event& e) {
  const auto [kind, id] = split_stream_id(e.stream_id);
  const bool cert = kind == "discovered_certificate";
  if (!cert && kind != "discovery_scan") return done{};
  if (e.type.rfind(kind + ".", 0) != 0) return done{};
  auto p = events::json_object::parse(e.payload);
  if (!p) return done{};  // the store only holds JSON objects; nothing to fold otherwise
  const std::string table = cert ? "discovered_certificates" : "discovery_scans";
  auto rows = tx.query("SELECT doc, created_seq FROM " + table + " WHERE id = ?", {id});
  if (!rows) return apply_error::from(rows.error());
  events::json_object doc;
  std::int64_t created_seq = e.position;
  if (!rows->empty()) {
    doc = events::json_object::parse(rows->front().text(0).value_or("{}"))
              .value_or(events::json_object{});
    created_seq = rows->front().int64(1).value_or(e.position);
  }
  const bool changed = cert ? domain::fold_discovered_certificate(doc, id, e, *p)
                            : domain::fold_discovery_scan(doc, id, e, *p);
  if (!changed || !doc.has("id")) return done{};
  db_result<std::int64_t> r = std::int64_t{0};
  if (cert) {
    r = tx.exec(
        "INSERT INTO discovered_certificates (id, created_seq, status, agent_id, doc) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET status = excluded.status, "
        "agent_id = excluded.agent_id, doc = excluded.doc",
        {id, created_seq, doc.str("status"), doc.str("agent_id"), doc.dump()});
  } else {
    r = tx.exec(
        "INSERT INTO discovery_scans (id, created_seq, agent_id, doc) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET agent_id = excluded.agent_id, doc = excluded.doc",
        {id, created_seq, doc.str("agent_id"), doc.dump()});
  }
  if (!r) return apply_error::from(r.error());
  return done{};
}

db_result<json_page> list_discovered_certificates(sql::database& db, const discovered_filter& f) {
  std::string where = "discovered_certificates WHERE 1 = 1";
  params p;
  if (f.status) {
    if (*f.status != "Unmanaged" && *f.status != "Managed" && *f.status != "Dismissed")
      return db_error{db_errc::invalid_argument,
                      "query parameter 'status' must be Unmanaged, Managed or Dismissed"};
    where += " AND status = ?";
    p.push_back(*f.status);
  }
  if (f.agent_id) {
    where += " AND agent_id = ?";
    p.push_back(*f.agent_id);
  }
  return query_doc_page(db, where, p, "created_seq DESC", f.page, f.per_page);
}

db_result<std::optional<std::string>> get_discovered_certificate(sql::database& db,
                                                                 const std::string& id) {
  auto rows = db.query("SELECT doc FROM discovered_certificates WHERE id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>{};
  return std::optional<std::string>(rows->front().text(0).value_or("{}"));
}

db_result<json_page> list_discovery_scans(sql::database& db,
                                          const std::optional<std::string>& agent_id,
                                          std::int64_t page, std::int64_t per_page) {
  if (agent_id)
    return query_doc_page(db, "discovery_scans WHERE agent_id = ?", {*agent_id}, "created_seq DESC",
                          page, per_page);
  return query_doc_page(db, "discovery_scans", {}, "created_seq DESC", page, per_page);
}

db_result<std::map<std::string, std::int64_t>> discovery_summary(sql::database& db) {
  auto rows = db.query("SELECT status, COUNT(*) FROM discovered_certificates GROUP BY status", {});
  if (!rows) return rows.error();
  std::map<std::string, std::int64_t> out{{"Unmanaged", 0}, {"Managed", 0}, {"Dismissed", 0}};
  for (const auto& r : *rows) out[r.text(0).value_or("")] += r.int64(1).value_or(0);
  return out;
}

}  // namespace certctl::projections
