#include "projections/audit_queries.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <limits>

namespace certctl::projections {
namespace {

constexpr std::int64_t max_per_page = 500;

constexpr const char* row_columns =
    "id, position, occurred_at, occurred_at_rfc3339, type, stream_id, entity_kind, entity_id, "
    "principal, source_address, correlation_id, causation_id, payload";

audit_row decode(const row& r) {
  audit_row a;
  a.id = r.text(0).value_or("");
  a.position = r.int64(1).value_or(0);
  a.occurred_at = r.int64(2).value_or(0);
  std::string* texts[] = {
      &a.occurred_at_rfc3339, &a.type,           &a.stream_id,      &a.entity_kind,  &a.entity_id,
      &a.principal,           &a.source_address, &a.correlation_id, &a.causation_id, &a.payload};
  for (size_t i = 0; i < std::size(texts); ++i) *texts[i] = r.text(i + 3).value_or("");
  return a;
}

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(json_writer& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void write_event(json_writer& w, const audit_row& r) {
  w.StartObject();
  put(w, "id", r.id);
  put(w, "actor", r.principal);
  put(w, "actor_type", actor_type_of(r.principal));
  put(w, "action", r.type);
  put(w, "resource_type", r.entity_kind);
  put(w, "resource_id", r.entity_id);
  w.Key("details");
  rapidjson::Document details;
  details.Parse(r.payload.data(), r.payload.size());
  if (!details.HasParseError() && details.IsObject()) {
    details.Accept(w);
  } else {
    // The store only accepts JSON objects; anything else here is damage, not data to echo.
    w.StartObject();
    w.EndObject();
  }
  put(w, "timestamp", r.occurred_at_rfc3339);
  w.Key("position");
  w.Int64(r.position);
  put(w, "source_address", r.source_address);
  put(w, "correlation_id", r.correlation_id);
  w.EndObject();
}

}  // namespace

bool audit_row::operator==(const audit_row& o) const {
  return id == o.id && position == o.position && occurred_at == o.occurred_at &&
         occurred_at_rfc3339 == o.occurred_at_rfc3339 && type == o.type &&
         stream_id == o.stream_id && entity_kind == o.entity_kind && entity_id == o.entity_id &&
         principal == o.principal && source_address == o.source_address &&
         correlation_id == o.correlation_id && causation_id == o.causation_id &&
         payload == o.payload;
}

db_result<audit_page> list_audit_events(sql::database& db, const audit_filter& f) {
  if (f.page < 1) return db_error{db_errc::invalid_argument, "page must be at least 1"};
  if (f.per_page < 1 || f.per_page > max_per_page)
    return db_error{db_errc::invalid_argument, "per_page must be between 1 and 500"};
  if (f.page > std::numeric_limits<std::int64_t>::max() / max_per_page)
    return db_error{db_errc::invalid_argument, "page is too large"};

  std::string where;
  params p;
  auto add = [&](const char* clause, sql_value v) {
    where += where.empty() ? " WHERE " : " AND ";
    where += clause;
    p.push_back(std::move(v));
  };
  if (f.principal) add("principal = ?", *f.principal);
  if (f.entity_kind) add("entity_kind = ?", *f.entity_kind);
  if (f.entity_id) add("entity_id = ?", *f.entity_id);
  if (f.event_type) add("type = ?", *f.event_type);
  if (f.from) add("occurred_at >= ?", *f.from);
  if (f.to) add("occurred_at <= ?", *f.to);

  // The window count comes from the same statement as the rows, so total and page agree
  // even while the projector appends.
  params page_params = p;
  page_params.push_back(f.per_page);
  page_params.push_back((f.page - 1) * f.per_page);
  auto rows =
      db.query(std::string("SELECT ") + row_columns + ", COUNT(*) OVER () FROM audit_events" +
                   where + " ORDER BY position DESC LIMIT ? OFFSET ?",
               page_params);
  if (!rows) return rows.error();

  audit_page out;
  out.page = f.page;
  out.per_page = f.per_page;
  if (!rows->empty()) {
    out.total = rows->front().int64(13).value_or(0);
  } else if (f.page > 1) {
    // Past the last page the window has no row to report on; count separately.
    auto counted = db.query("SELECT COUNT(*) FROM audit_events" + where, p);
    if (!counted) return counted.error();
    out.total = counted->empty() ? 0 : counted->front().int64(0).value_or(0);
  }
  out.rows.reserve(rows->size());
  for (const auto& r : *rows) out.rows.push_back(decode(r));
  return out;
}

db_result<std::optional<audit_row>> get_audit_event(sql::database& db, const std::string& id) {
  auto rows =
      db.query(std::string("SELECT ") + row_columns + " FROM audit_events WHERE id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<audit_row>{};
  return std::optional<audit_row>(decode(rows->front()));
}

std::string actor_type_of(const std::string& principal) {
  if (principal.empty() || principal.rfind("system:", 0) == 0) return "System";
  if (principal.rfind("agent:", 0) == 0 || principal.rfind("agent-", 0) == 0) return "Agent";
  return "User";
}

std::string audit_event_json(const audit_row& row) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  write_event(w, row);
  return std::string(buf.GetString(), buf.GetSize());
}

std::string audit_page_json(const audit_page& page) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("data");
  w.StartArray();
  for (const auto& r : page.rows) write_event(w, r);
  w.EndArray();
  w.Key("total");
  w.Int64(page.total);
  w.Key("page");
  w.Int64(page.page);
  w.Key("per_page");
  w.Int64(page.per_page);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace certctl::projections
