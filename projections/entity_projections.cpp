#include "projections/entity_projections.hpp"

#include <algorithm>
#include <optional>

#include "domain/certificate.hpp"
#include "domain/job.hpp"
#include "domain/resource.hpp"
#include "events/json.hpp"
#include "events/time.hpp"
#include "projections/audit_projection.hpp"
#include "projections/projector.hpp"

namespace certctl::projections {
namespace {

using events::json_object;

/// The event's payload object; a non-object payload cannot be projected.
result<json_object, apply_error> payload_of(const events::recorded_event& e) {
  auto p = json_object::parse(e.payload);
  if (!p) return apply_error{e.type + ": payload is not a JSON object", false};
  return std::move(*p);
}

/// The part of an event type after its first '.': "certificate.issued" -> "issued".
std::string verb_of(const std::string& type) {
  const auto dot = type.find('.');
  return dot == std::string::npos ? std::string() : type.substr(dot + 1);
}

/// True when the event type's prefix names the stream's kind.
bool type_has_kind(const std::string& type, const std::string& kind) {
  return type.size() > kind.size() && type.compare(0, kind.size(), kind) == 0 &&
         type[kind.size()] == '.';
}

/// A text column from a document field; NULL when the field is absent or empty.
sql_value text_or_null(const json_object& doc, const char* key) {
  if (!doc.is_string(key)) return std::monostate{};
  return doc.str(key);
}

/// An integer column from a document field; NULL when the field is absent or not an integer.
sql_value int_or_null(const json_object& doc, const char* key) {
  if (!doc.is_int(key)) return std::monostate{};
  return doc.int64(key);
}

/// Microseconds of an RFC 3339 document field; NULL when absent or malformed.
sql_value time_or_null(const json_object& doc, const char* key) {
  if (!doc.is_string(key)) return std::monostate{};
  auto t = events::parse_rfc3339(doc.str(key));
  if (!t) return std::monostate{};
  return *t;
}

/// The row of an entity table a later event rewrites: the columns an update may change, in
/// the order of the table's column list, and their values.
struct row_columns {
  std::vector<const char*> names;
  params values;
};

/// Updates an existing row with only the columns whose value differs from `stored` (the
/// same columns read back, in the same order). Every assigned column that an index covers
/// costs SQLite a delete and an insert in that index, whether or not the value changed; an
/// event changes one or two columns of ten indexed ones (certificate.issued: status and
/// expiry; job.started: status). The row ends exactly as a full update would leave it.
/// Columns past the end of `stored` (the doc, which every event changes) are always written.
db_result<done> update_changed(transaction& tx, const char* table, const std::string& id,
                               const row_columns& next, const row& stored, size_t first) {
  std::string sql;
  params values;
  for (size_t i = 0; i < next.names.size(); ++i) {
    const size_t col = first + i;
    if (col < stored.size() && stored[col] == next.values[i]) continue;
    sql += sql.empty() ? "UPDATE " + std::string(table) + " SET " : ", ";
    sql += next.names[i];
    sql += " = ?";
    values.push_back(next.values[i]);
  }
  if (sql.empty()) return done{};
  sql += " WHERE id = ?";
  values.push_back(id);
  auto r = tx.exec(sql, values);
  if (!r) return r.error();
  return done{};
}

// ---- certificates: the fold is domain::fold_certificate --------------------------------

db_result<done> insert_version(transaction& tx, const std::string& certificate_id,
                               const events::recorded_event& e, const json_object& p) {
  const std::string id = p.is_string("version_id") ? p.str("version_id") : e.event_id;
  auto r = tx.exec(
      "INSERT INTO certificate_versions (id, certificate_id, position, serial_number, "
      "not_before, not_after, not_after_us, fingerprint_sha256, pem_chain, csr_pem, "
      "key_algorithm, key_size, created_at_us, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
      {id, certificate_id, e.position, p.str("serial_number"), p.str("not_before"),
       p.str("not_after"), time_or_null(p, "not_after"), p.str("fingerprint_sha256"),
       p.str("pem_chain"), text_or_null(p, "csr_pem"), text_or_null(p, "key_algorithm"),
       int_or_null(p, "key_size"), e.occurred_at, events::format_rfc3339(e.occurred_at)});
  if (!r) return r.error();
  return done{};
}

}  // namespace

bool is_resource_kind(const std::string& kind) {
  const auto& kinds = domain::resource_kinds();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

db_result<done> certificate_projection::create_schema(transaction& tx) {
  // Every list filter is paired with created_seq (the default sort) so a filtered page is an
  // index range scan.
  return tx.exec_script(R"sql(
CREATE TABLE certificates (
  id TEXT PRIMARY KEY,
  created_seq BIGINT NOT NULL,
  status TEXT NOT NULL,
  name TEXT,
  common_name TEXT,
  environment TEXT,
  owner_id TEXT,
  team_id TEXT,
  issuer_id TEXT,
  renewal_policy_id TEXT,
  certificate_profile_id TEXT,
  expires_at_us BIGINT,
  expires_at TEXT,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX certificates_status ON certificates (status, created_seq);
CREATE INDEX certificates_environment ON certificates (environment, created_seq);
CREATE INDEX certificates_owner ON certificates (owner_id, created_seq);
CREATE INDEX certificates_team ON certificates (team_id, created_seq);
CREATE INDEX certificates_issuer ON certificates (issuer_id, created_seq);
CREATE INDEX certificates_policy ON certificates (renewal_policy_id);
CREATE INDEX certificates_profile ON certificates (certificate_profile_id);
CREATE INDEX certificates_common_name ON certificates (common_name);
CREATE INDEX certificates_expires ON certificates (expires_at_us);
CREATE INDEX certificates_created ON certificates (created_seq);
CREATE TABLE certificate_versions (
  id TEXT PRIMARY KEY,
  certificate_id TEXT NOT NULL,
  position BIGINT NOT NULL,
  serial_number TEXT NOT NULL,
  not_before TEXT NOT NULL,
  not_after TEXT NOT NULL,
  not_after_us BIGINT,
  fingerprint_sha256 TEXT NOT NULL,
  pem_chain TEXT NOT NULL,
  csr_pem TEXT,
  key_algorithm TEXT,
  key_size BIGINT,
  created_at_us BIGINT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE INDEX certificate_versions_certificate ON certificate_versions (certificate_id, position);
CREATE INDEX certificate_versions_serial ON certificate_versions (serial_number);
)sql");
}

db_result<done> certificate_projection::drop_schema(transaction& tx) {
  return tx.exec_script(
      "DROP TABLE IF EXISTS certificate_versions; DROP TABLE IF EXISTS certificates");
}

apply_result certificate_projection::apply(transaction& tx, const events::recorded_event& e) {
  const auto [kind, id] = split_stream_id(e.stream_id);
  if (kind != "certificate" || !type_has_kind(e.type, kind)) return done{};
  auto p = payload_of(e);
  if (!p) return p.error();
  // Columns 1.. are those update_changed compares: the upsert's update list but the doc.
  auto rows = tx.query(
      "SELECT doc, status, name, common_name, environment, owner_id, team_id, issuer_id, "
      "renewal_policy_id, certificate_profile_id, expires_at_us, expires_at, updated_at_us "
      "FROM certificates WHERE id = ?",
      {id});
  if (!rows) return apply_error::from(rows.error());
  const bool creating = e.type == "certificate.created";
  if (!creating && rows->empty()) return done{};  // nothing to change: no such entity
  json_object doc;
  if (!rows->empty())
    doc = json_object::parse(rows->front().text(0).value_or("{}")).value_or(json_object{});
  if (!domain::fold_certificate(doc, id, e, *p)) return done{};

  const row_columns next{
      {"status", "name", "common_name", "environment", "owner_id", "team_id", "issuer_id",
       "renewal_policy_id", "certificate_profile_id", "expires_at_us", "expires_at",
       "updated_at_us", "doc"},
      {doc.str("status"), text_or_null(doc, "name"), text_or_null(doc, "common_name"),
       text_or_null(doc, "environment"), text_or_null(doc, "owner_id"),
       text_or_null(doc, "team_id"), text_or_null(doc, "issuer_id"),
       text_or_null(doc, "renewal_policy_id"), text_or_null(doc, "certificate_profile_id"),
       time_or_null(doc, "expires_at"), text_or_null(doc, "expires_at"), e.occurred_at,
       doc.dump()}};
  if (!creating) {
    if (auto r = update_changed(tx, "certificates", id, next, rows->front(), 1); !r)
      return apply_error::from(r.error());
  } else {
    const auto& v = next.values;
    auto r = tx.exec(
        "INSERT INTO certificates (id, created_seq, status, name, common_name, environment, "
        "owner_id, team_id, issuer_id, renewal_policy_id, certificate_profile_id, expires_at_us, "
        "expires_at, created_at_us, updated_at_us, doc) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
        "status = excluded.status, name = excluded.name, common_name = excluded.common_name, "
        "environment = excluded.environment, owner_id = excluded.owner_id, "
        "team_id = excluded.team_id, issuer_id = excluded.issuer_id, "
        "renewal_policy_id = excluded.renewal_policy_id, "
        "certificate_profile_id = excluded.certificate_profile_id, "
        "expires_at_us = excluded.expires_at_us, expires_at = excluded.expires_at, "
        "updated_at_us = excluded.updated_at_us, doc = excluded.doc",
        {id, e.position, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10],
         e.occurred_at, v[11], v[12]});
    if (!r) return apply_error::from(r.error());
    // A re-created id starts over: created_seq and created_at follow the new creation.
    if (!rows->empty()) {
      auto c = tx.exec("UPDATE certificates SET created_seq = ?, created_at_us = ? WHERE id = ?",
                       {e.position, e.occurred_at, id});
      if (!c) return apply_error::from(c.error());
    }
  }
  if (e.type == "certificate.issued") {
    auto v = insert_version(tx, id, e, *p);
    if (!v) return apply_error::from(v.error());
  }
  return done{};
}

db_result<done> job_projection::create_schema(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  created_seq BIGINT NOT NULL,
  status TEXT NOT NULL,
  type TEXT NOT NULL,
  certificate_id TEXT,
  agent_id TEXT,
  awaiting_csr_mode TEXT NOT NULL,
  scheduled_at_us BIGINT,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX jobs_status ON jobs (status, created_seq);
CREATE INDEX jobs_type ON jobs (type, created_seq);
CREATE INDEX jobs_certificate ON jobs (certificate_id, created_seq);
CREATE INDEX jobs_agent ON jobs (agent_id, status, created_seq);
CREATE INDEX jobs_created ON jobs (created_seq);
)sql");
}

db_result<done> job_projection::drop_schema(transaction& tx) {
  return tx.exec_script("DROP TABLE IF EXISTS jobs");
}

apply_result job_projection::apply(transaction& tx, const events::recorded_event& e) {
  const auto [kind, id] = split_stream_id(e.stream_id);
  if (kind != "job" || !type_has_kind(e.type, kind)) return done{};
  auto p = payload_of(e);
  if (!p) return p.error();
  // Columns 1.. are those update_changed compares: the upsert's update list but the doc.
  auto rows = tx.query(
      "SELECT doc, status, type, certificate_id, agent_id, awaiting_csr_mode, scheduled_at_us, "
      "updated_at_us FROM jobs WHERE id = ?",
      {id});
  if (!rows) return apply_error::from(rows.error());
  const bool creating = e.type == "job.created";
  if (!creating && rows->empty()) return done{};
  // The domain folds the job's state, which is the stored doc plus the hidden mode column.
  json_object doc;
  if (!rows->empty()) {
    doc = json_object::parse(rows->front().text(0).value_or("{}")).value_or(json_object{});
    doc.set(domain::job_hidden_field, rows->front().text(5).value_or(""));
  }
  if (!domain::fold_job(doc, id, e, *p)) return done{};
  const std::string mode = doc.str(domain::job_hidden_field);
  doc.remove(domain::job_hidden_field);  // what domain::job_view shows, without a copy

  const row_columns next{{"status", "type", "certificate_id", "agent_id", "awaiting_csr_mode",
                          "scheduled_at_us", "updated_at_us", "doc"},
                         {doc.str("status"), doc.str("type"), text_or_null(doc, "certificate_id"),
                          text_or_null(doc, "agent_id"), mode, time_or_null(doc, "scheduled_at"),
                          e.occurred_at, doc.dump()}};
  if (!creating) {
    if (auto r = update_changed(tx, "jobs", id, next, rows->front(), 1); !r)
      return apply_error::from(r.error());
    return done{};
  }
  const auto& v = next.values;
  auto r = tx.exec(
      "INSERT INTO jobs (id, created_seq, status, type, certificate_id, agent_id, "
      "awaiting_csr_mode, scheduled_at_us, created_at_us, updated_at_us, doc) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
      "status = excluded.status, type = excluded.type, certificate_id = excluded.certificate_id, "
      "agent_id = excluded.agent_id, awaiting_csr_mode = excluded.awaiting_csr_mode, "
      "scheduled_at_us = excluded.scheduled_at_us, updated_at_us = excluded.updated_at_us, "
      "doc = excluded.doc",
      {id, e.position, v[0], v[1], v[2], v[3], v[4], v[5], e.occurred_at, v[6], v[7]});
  if (!r) return apply_error::from(r.error());
  return done{};
}

db_result<done> resource_projection::create_schema(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE resources (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  created_seq BIGINT NOT NULL,
  status TEXT,
  retired BIGINT NOT NULL,
  deleted BIGINT NOT NULL,
  created_at_us BIGINT NOT NULL,
  updated_at_us BIGINT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (kind, id)
);
CREATE INDEX resources_list ON resources (kind, deleted, retired, created_seq);
CREATE INDEX resources_status ON resources (kind, status);
)sql");
}

db_result<done> resource_projection::drop_schema(transaction& tx) {
  return tx.exec_script("DROP TABLE IF EXISTS resources");
}

apply_result resource_projection::apply(transaction& tx, const events::recorded_event& e) {
  const auto [kind, id] = split_stream_id(e.stream_id);
  if (!is_resource_kind(kind) || !type_has_kind(e.type, kind)) return done{};
  auto p = payload_of(e);
  if (!p) return p.error();
  auto rows = tx.query(
      "SELECT doc, deleted, created_seq, created_at_us FROM resources WHERE kind = ? AND id = ?",
      {kind, id});
  if (!rows) return apply_error::from(rows.error());
  const std::string verb = verb_of(e.type);
  const bool creating = verb == "created" || verb == "registered";
  if (!creating && rows->empty()) return done{};
  json_object doc;
  bool deleted = false;
  std::int64_t created_seq = e.position;
  std::int64_t created_at = e.occurred_at;
  if (!rows->empty()) {
    const auto& r = rows->front();
    doc = json_object::parse(r.text(0).value_or("{}")).value_or(json_object{});
    deleted = r.int64(1).value_or(0) != 0;
    if (!creating) {
      created_seq = r.int64(2).value_or(e.position);
      created_at = r.int64(3).value_or(e.occurred_at);
    }
  }
  if (!domain::fold_resource(doc, deleted, kind, id, e, *p)) return done{};

  const std::int64_t retired = doc.has("retired_at") ? 1 : 0;
  auto r = tx.exec(
      "INSERT INTO resources (kind, id, created_seq, status, retired, deleted, created_at_us, "
      "updated_at_us, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE "
      "SET created_seq = excluded.created_seq, status = excluded.status, "
      "retired = excluded.retired, deleted = excluded.deleted, "
      "created_at_us = excluded.created_at_us, updated_at_us = excluded.updated_at_us, "
      "doc = excluded.doc",
      {kind, id, created_seq, text_or_null(doc, "status"), retired, std::int64_t{deleted ? 1 : 0},
       created_at, e.occurred_at, doc.dump()});
  if (!r) return apply_error::from(r.error());
  return done{};
}

db_result<done> register_entity_projections(projector& p) {
  if (auto r = p.add(std::make_shared<certificate_projection>()); !r) return r.error();
  if (auto r = p.add(std::make_shared<job_projection>()); !r) return r.error();
  if (auto r = p.add(std::make_shared<resource_projection>()); !r) return r.error();
  return done{};
}

}  // namespace certctl::projections
