#include "projections/certificate_queries.hpp"

#include <algorithm>
#include <cctype>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace certctl::projections {
namespace {

constexpr const char* version_columns =
    "id, certificate_id, position, serial_number, not_before, not_after, fingerprint_sha256, "
    "pem_chain, csr_pem, key_algorithm, key_size, created_at";

certificate_version_row decode_version(const row& r) {
  certificate_version_row v;
  v.id = r.text(0).value_or("");
  v.certificate_id = r.text(1).value_or("");
  v.position = r.int64(2).value_or(0);
  v.serial_number = r.text(3).value_or("");
  v.not_before = r.text(4).value_or("");
  v.not_after = r.text(5).value_or("");
  v.fingerprint_sha256 = r.text(6).value_or("");
  v.pem_chain = r.text(7).value_or("");
  v.csr_pem = r.text(8);
  v.key_algorithm = r.text(9);
  v.key_size = r.int64(10);
  v.created_at = r.text(11).value_or("");
  return v;
}

/// The ORDER BY for a sort parameter; empty for an unknown key. Nullable columns sort their
/// NULLs last on both backends; created_seq breaks ties.
std::string certificate_order(const std::string& sort) {
  const bool desc = !sort.empty() && sort[0] == '-';
  const std::string key =
      (!sort.empty() && (sort[0] == '-' || sort[0] == '+')) ? sort.substr(1) : sort;
  static const std::pair<const char*, const char*> columns[] = {{"created_at", "created_seq"},
                                                                {"updated_at", "updated_at_us"},
                                                                {"expires_at", "expires_at_us"},
                                                                {"common_name", "common_name"},
                                                                {"name", "name"},
                                                                {"status", "status"}};
  const char* column = nullptr;
  for (const auto& [k, c] : columns)
    if (key == k) column = c;
  if (!column) return {};
  const std::string dir = desc ? " DESC" : " ASC";
  std::string order;
  if (key != "created_at" && key != "updated_at" && key != "status")
    order = std::string("CASE WHEN ") + column + " IS NULL THEN 1 ELSE 0 END, ";
  order += column + dir;
  if (key != "created_at") order += ", created_seq" + dir;
  return order;
}

}  // namespace

bool certificate_version_row::operator==(const certificate_version_row& o) const {
  return id == o.id && certificate_id == o.certificate_id && position == o.position &&
         serial_number == o.serial_number && not_before == o.not_before &&
         not_after == o.not_after && fingerprint_sha256 == o.fingerprint_sha256 &&
         pem_chain == o.pem_chain && csr_pem == o.csr_pem && key_algorithm == o.key_algorithm &&
         key_size == o.key_size && created_at == o.created_at;
}

db_result<json_page> list_certificates(sql::database& db, const certificate_filter& f) {
  const std::string order = certificate_order(f.sort.value_or("-created_at"));
  if (order.empty())
    return db_error{db_errc::invalid_argument, "unknown sort key '" + f.sort.value_or("") + "'"};
  std::string where;
  params p;
  auto add = [&](const char* clause, const std::optional<std::string>& v) {
    if (!v) return;
    where += where.empty() ? " WHERE " : " AND ";
    where += clause;
    p.push_back(*v);
  };
  add("status = ?", f.status);
  add("environment = ?", f.environment);
  add("owner_id = ?", f.owner_id);
  add("team_id = ?", f.team_id);
  add("issuer_id = ?", f.issuer_id);
  add("renewal_policy_id = ?", f.renewal_policy_id);
  add("certificate_profile_id = ?", f.certificate_profile_id);
  return query_doc_page(db, "certificates" + where, p, order, f.page, f.per_page);
}

db_result<std::vector<std::pair<std::string, std::string>>> certificates_after(
    sql::database& db, const std::string& after_id, std::int64_t limit) {
  auto rows = db.query(
      "SELECT id, doc FROM certificates WHERE id > ? AND status <> 'Archived' ORDER BY id LIMIT ?",
      {after_id, limit});
  if (!rows) return rows.error();
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : *rows)
    out.emplace_back(row.text(0).value_or(""), row.text(1).value_or("{}"));
  return out;
}

db_result<std::optional<std::string>> get_certificate(sql::database& db, const std::string& id) {
  auto rows = db.query("SELECT doc FROM certificates WHERE id = ?", {id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>{};
  return std::optional<std::string>(rows->front().text(0).value_or("{}"));
}

db_result<json_page> list_certificate_versions(sql::database& db, const std::string& certificate_id,
                                               std::int64_t page, std::int64_t per_page) {
  if (auto ok = check_paging(page, per_page); !ok) return ok.error();
  params p{certificate_id, per_page, (page - 1) * per_page};
  auto rows = db.query(std::string("SELECT ") + version_columns +
                           ", COUNT(*) OVER () FROM certificate_versions WHERE certificate_id = ? "
                           "ORDER BY position DESC LIMIT ? OFFSET ?",
                       p);
  if (!rows) return rows.error();
  json_page out;
  out.page = page;
  out.per_page = per_page;
  if (!rows->empty()) {
    out.total = rows->front().int64(12).value_or(0);
  } else if (page > 1) {
    auto counted = db.query("SELECT COUNT(*) FROM certificate_versions WHERE certificate_id = ?",
                            {certificate_id});
    if (!counted) return counted.error();
    out.total = counted->empty() ? 0 : counted->front().int64(0).value_or(0);
  }
  for (const auto& r : *rows) out.data.push_back(certificate_version_json(decode_version(r)));
  return out;
}

db_result<std::optional<certificate_version_row>> get_latest_certificate_version(
    sql::database& db, const std::string& certificate_id) {
  auto rows = db.query(std::string("SELECT ") + version_columns +
                           " FROM certificate_versions WHERE certificate_id = ? "
                           "ORDER BY position DESC LIMIT 1",
                       {certificate_id});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<certificate_version_row>{};
  return std::optional<certificate_version_row>(decode_version(rows->front()));
}

std::string certificate_version_json(const certificate_version_row& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto put = [&w](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  w.StartObject();
  put("id", v.id);
  put("certificate_id", v.certificate_id);
  put("serial_number", v.serial_number);
  put("not_before", v.not_before);
  put("not_after", v.not_after);
  put("fingerprint_sha256", v.fingerprint_sha256);
  put("pem_chain", v.pem_chain);
  if (v.csr_pem) put("csr_pem", *v.csr_pem);
  if (v.key_algorithm) put("key_algorithm", *v.key_algorithm);
  if (v.key_size) {
    w.Key("key_size");
    w.Int64(*v.key_size);
  }
  put("created_at", v.created_at);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

db_result<std::optional<serial_owner>> find_version_by_serial(sql::database& db,
                                                              const std::string& serial) {
  std::string upper = serial, lower = serial;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  auto rows = db.query(
      "SELECT certificate_id, pem_chain FROM certificate_versions WHERE serial_number IN (?, ?)",
      {upper, lower});
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<serial_owner>{};
  return std::optional<serial_owner>(
      serial_owner{rows->front().text(0).value_or(""), rows->front().text(1).value_or("")});
}

}  // namespace certctl::projections
