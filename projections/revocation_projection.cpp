#include "projections/revocation_projection.hpp"

#include <algorithm>
#include <cctype>

#include "events/json.hpp"
#include "events/time.hpp"
#include "projections/audit_projection.hpp"

namespace certctl::projections {
namespace {

using events::json_object;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::optional<std::int64_t> time_of(const json_object& p, const char* key) {
  if (!p.is_string(key)) return std::nullopt;
  return events::parse_rfc3339(p.str(key));
}

apply_result on_issued(transaction& tx, const std::string& certificate_id,
                       const events::recorded_event& e, const json_object& p) {
  const auto not_before = time_of(p, "not_before");
  const auto not_after = time_of(p, "not_after");
  // Versions recorded before issuer_id was part of the event cannot be attributed to an issuer.
  if (!p.is_string("issuer_id") || !p.is_string("serial_number") || !not_before || !not_after)
    return done{};
  if (*not_after - *not_before < revocation_short_lived_us) return done{};
  auto r = tx.exec(
      "INSERT INTO revocation_status (issuer_id, serial_number, certificate_id, not_after_us, "
      "changed_position) VALUES (?, ?, ?, ?, ?) ON CONFLICT (issuer_id, serial_number) DO NOTHING",
      {p.str("issuer_id"), upper(p.str("serial_number")), certificate_id, *not_after, e.position});
  if (!r) return apply_error::from(r.error());
  return done{};
}

apply_result on_revoked(transaction& tx, const std::string& certificate_id,
                        const events::recorded_event& e, const json_object& p) {
  if (!p.is_string("serial_number")) return done{};
  const auto invalidity = time_of(p, "invalidity_date");
  auto r = tx.exec(
      "UPDATE revocation_status SET revoked_at_us = ?, reason_code = ?, invalidity_date_us = ?, "
      "changed_position = ? WHERE certificate_id = ? AND serial_number = ? AND "
      "revoked_at_us IS NULL",
      {e.occurred_at, p.int64("reason_code", 0),
       invalidity ? sql_value(*invalidity) : sql_value(std::monostate{}), e.position,
       certificate_id, upper(p.str("serial_number"))});
  if (!r) return apply_error::from(r.error());
  return done{};
}

apply_result on_crl_published(transaction& tx, const std::string& issuer_id,
                              const events::recorded_event& e, const json_object& p) {
  auto r = tx.exec(
      "INSERT INTO crl_publications (issuer_id, crl_number, this_update_us, next_update_us, "
      "revoked_count, published_at_us, position) VALUES (?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (issuer_id, crl_number) DO NOTHING",
      {issuer_id, p.int64("crl_number"), time_of(p, "this_update").value_or(0),
       time_of(p, "next_update").value_or(0), p.int64("revoked_count"), e.occurred_at, e.position});
  if (!r) return apply_error::from(r.error());
  return done{};
}

}  // namespace

db_result<done> revocation_projection::create_schema(transaction& tx) {
  return tx.exec_script(R"sql(
CREATE TABLE revocation_status (
  issuer_id TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  certificate_id TEXT NOT NULL,
  not_after_us BIGINT NOT NULL,
  revoked_at_us BIGINT,
  reason_code BIGINT,
  invalidity_date_us BIGINT,
  changed_position BIGINT NOT NULL,
  PRIMARY KEY (issuer_id, serial_number)
);
CREATE INDEX revocation_status_changed ON revocation_status (changed_position);
CREATE INDEX revocation_status_certificate ON revocation_status (certificate_id, serial_number);
CREATE TABLE crl_publications (
  issuer_id TEXT NOT NULL,
  crl_number BIGINT NOT NULL,
  this_update_us BIGINT NOT NULL,
  next_update_us BIGINT NOT NULL,
  revoked_count BIGINT NOT NULL,
  published_at_us BIGINT NOT NULL,
  position BIGINT NOT NULL,
  PRIMARY KEY (issuer_id, crl_number)
);
)sql");
}

db_result<done> revocation_projection::drop_schema(transaction& tx) {
  return tx.exec_script(
      "DROP TABLE IF EXISTS revocation_status; DROP TABLE IF EXISTS crl_publications");
}

apply_result revocation_projection::apply(transaction& tx, const events::recorded_event& e) {
  const bool issued = e.type == "certificate.issued";
  const bool revoked = e.type == "certificate.revoked";
  // The root's CRL numbers are kept by its issuer entity, an intermediate's by its own.
  const bool published = e.type == "issuer.crl_published" || e.type == "intermediate.crl_published";
  if (!issued && !revoked && !published) return done{};
  auto p = json_object::parse(e.payload);
  if (!p) return apply_error{e.type + ": payload is not a JSON object", false};
  const auto [kind, id] = split_stream_id(e.stream_id);
  if (issued && kind == "certificate") return on_issued(tx, id, e, *p);
  if (revoked && kind == "certificate") return on_revoked(tx, id, e, *p);
  if (published && (kind == "issuer" || kind == "intermediate"))
    return on_crl_published(tx, id, e, *p);
  return done{};
}

namespace {

db_result<std::vector<revocation_row>> revocation_rows(sql::database& db, const std::string& where,
                                                       params p) {
  auto rows = db.query(
      "SELECT issuer_id, serial_number, certificate_id, not_after_us, revoked_at_us, "
      "reason_code, invalidity_date_us, changed_position FROM revocation_status WHERE " +
          where + " ORDER BY changed_position LIMIT ?",
      p);
  if (!rows) return rows.error();
  std::vector<revocation_row> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) {
    revocation_row x;
    x.issuer_id = r.text(0).value_or("");
    x.serial_hex = r.text(1).value_or("");
    x.certificate_id = r.text(2).value_or("");
    x.not_after_us = r.int64(3).value_or(0);
    x.revoked_at_us = r.int64(4);
    x.reason_code = static_cast<int>(r.int64(5).value_or(0));
    x.invalidity_date_us = r.int64(6).value_or(0);
    x.changed_position = r.int64(7).value_or(0);
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace

db_result<std::vector<revocation_row>> revocation_changes(sql::database& db, std::int64_t position,
                                                          size_t limit) {
  return revocation_rows(db, "changed_position > ?", {position, static_cast<std::int64_t>(limit)});
}

db_result<std::vector<revocation_row>> revocation_rows_of(sql::database& db,
                                                          const std::string& issuer_id,
                                                          std::int64_t position, size_t limit) {
  return revocation_rows(db, "issuer_id = ? AND changed_position > ?",
                         {issuer_id, position, static_cast<std::int64_t>(limit)});
}

db_result<std::vector<crl_publication>> crl_publications(sql::database& db,
                                                         const std::string& issuer_id,
                                                         size_t limit) {
  auto rows = db.query(
      "SELECT issuer_id, crl_number, this_update_us, next_update_us, revoked_count, "
      "published_at_us, position FROM crl_publications WHERE issuer_id = ? "
      "ORDER BY crl_number DESC LIMIT ?",
      {issuer_id, static_cast<std::int64_t>(limit)});
  if (!rows) return rows.error();
  std::vector<crl_publication> out;
  for (const auto& r : *rows)
    out.push_back({r.text(0).value_or(""), r.int64(1).value_or(0), r.int64(2).value_or(0),
                   r.int64(3).value_or(0), r.int64(4).value_or(0), r.int64(5).value_or(0),
                   r.int64(6).value_or(0)});
  return out;
}

db_result<std::int64_t> last_crl_number(sql::database& db, const std::string& issuer_id) {
  auto rows =
      db.query("SELECT MAX(crl_number) FROM crl_publications WHERE issuer_id = ?", {issuer_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::int64_t{0};
  return rows->front().int64(0).value_or(0);
}

}  // namespace certctl::projections
