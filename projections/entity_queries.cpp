#include "projections/entity_queries.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <limits>

#include "events/json.hpp"
#include "events/time.hpp"
#include "projections/entity_projections.hpp"

namespace certctl::projections {
namespace {

constexpr std::int64_t max_per_page = 500;
constexpr std::int64_t day_us = 86400LL * 1000000LL;

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Builds " WHERE a = ? AND b = ?" from the set filters.
struct where_builder {
  std::string sql;
  params p;
  void add(const char* clause, const std::optional<std::string>& v) {
    if (v) add(clause, sql_value(*v));
  }
  void add(const char* clause, sql_value v) {
    sql += sql.empty() ? " WHERE " : " AND ";
    sql += clause;
    p.push_back(std::move(v));
  }
  void add(const char* clause) {
    sql += sql.empty() ? " WHERE " : " AND ";
    sql += clause;
  }
};

db_result<std::optional<std::string>> first_doc(sql::database& db, const std::string& sql,
                                                const params& p) {
  auto rows = db.query(sql, p);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<std::string>{};
  return std::optional<std::string>(rows->front().text(0).value_or("{}"));
}

/// status -> count from a `SELECT status, COUNT(*) ... GROUP BY status` query.
db_result<std::map<std::string, std::int64_t>> count_by(sql::database& db, const std::string& sql,
                                                        const params& p = {}) {
  auto rows = db.query(sql, p);
  if (!rows) return rows.error();
  std::map<std::string, std::int64_t> out;
  for (const auto& r : *rows) out[r.text(0).value_or("")] += r.int64(1).value_or(0);
  return out;
}

std::int64_t count_of(const std::map<std::string, std::int64_t>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

}  // namespace

db_result<done> check_paging(std::int64_t page, std::int64_t per_page) {
  if (page < 1) return db_error{db_errc::invalid_argument, "page must be at least 1"};
  if (per_page < 1 || per_page > max_per_page)
    return db_error{db_errc::invalid_argument, "per_page must be between 1 and 500"};
  if (page > std::numeric_limits<std::int64_t>::max() / max_per_page)
    return db_error{db_errc::invalid_argument, "page is too large"};
  return done{};
}

db_result<json_page> query_doc_page(sql::database& db, const std::string& from_where,
                                    const params& p, const std::string& order, std::int64_t page,
                                    std::int64_t per_page) {
  if (auto ok = check_paging(page, per_page); !ok) return ok.error();
  // The window count comes from the same statement as the rows, so total and page agree
  // even while the projector writes.
  params page_params = p;
  page_params.push_back(per_page);
  page_params.push_back((page - 1) * per_page);
  auto rows = db.query("SELECT doc, COUNT(*) OVER () FROM " + from_where + " ORDER BY " + order +
                           " LIMIT ? OFFSET ?",
                       page_params);
  if (!rows) return rows.error();
  json_page out;
  out.page = page;
  out.per_page = per_page;
  if (!rows->empty()) {
    out.total = rows->front().int64(1).value_or(0);
  } else if (page > 1) {
    // Past the last page the window has no row to report on; count separately.
    auto counted = db.query("SELECT COUNT(*) FROM " + from_where, p);
    if (!counted) return counted.error();
    out.total = counted->empty() ? 0 : counted->front().int64(0).value_or(0);
  }
  out.data.reserve(rows->size());
  for (const auto& r : *rows) out.data.push_back(r.text(0).value_or("{}"));
  return out;
}

std::string page_json(const json_page& page) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("data");
  w.StartArray();
  for (const auto& d : page.data)
    w.RawValue(d.data(), d.size(), rapidjson::kObjectType);  // stored docs are JSON objects
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

db_result<json_page> list_jobs(sql::database& db, const job_filter& f) {
  where_builder w;
  w.add("status = ?", f.status);
  w.add("type = ?", f.type);
  w.add("certificate_id = ?", f.certificate_id);
  w.add("agent_id = ?", f.agent_id);
  return query_doc_page(db, "jobs" + w.sql, w.p, "created_seq DESC", f.page, f.per_page);
}

db_result<std::optional<std::string>> get_job(sql::database& db, const std::string& id) {
  return first_doc(db, "SELECT doc FROM jobs WHERE id = ?", {id});
}

db_result<std::vector<work_item>> list_agent_work(sql::database& db, const std::string& agent_id) {
  // The certificate table belongs to another projection; a job whose certificate is not
  // projected yet still shows, with an empty common_name. Jobs assigned to no agent are
  // offered to every agent: the first CSR accepted by the job entity wins.
  auto rows = db.query(
      "SELECT j.doc, c.doc FROM jobs j LEFT JOIN certificates c ON c.id = j.certificate_id "
      "WHERE ((j.agent_id = ? OR j.agent_id IS NULL OR j.agent_id = '') AND "
      "j.status = 'AwaitingCSR') OR (j.agent_id = ? AND j.status = 'Pending' AND "
      "j.type IN ('Deployment', 'Validation')) ORDER BY j.created_seq",
      {agent_id, agent_id});
  if (!rows) return rows.error();
  std::vector<work_item> out;
  for (const auto& r : *rows) {
    auto job = events::json_object::parse(r.text(0).value_or("{}")).value_or(events::json_object{});
    auto cert =
        events::json_object::parse(r.text(1).value_or("{}")).value_or(events::json_object{});
    work_item w;
    w.job_id = job.str("id");
    w.type = job.str("type");
    w.certificate_id = job.str("certificate_id");
    w.common_name = cert.str("common_name");
    w.sans = cert.str_array("sans");
    w.target_id = job.str("target_id");
    w.status = job.str("status");
    out.push_back(std::move(w));
  }
  return out;
}

std::string agent_work_json(const std::vector<work_item>& items) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  auto put = [&w](const char* key, const std::string& v) {
    w.Key(key);
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  };
  w.StartObject();
  w.Key("jobs");
  w.StartArray();
  for (const auto& i : items) {
    w.StartObject();
    put("id", i.job_id);
    put("type", i.type);
    put("certificate_id", i.certificate_id);
    put("common_name", i.common_name);
    w.Key("sans");
    w.StartArray();
    for (const auto& s : i.sans) w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
    w.EndArray();
    if (!i.target_id.empty()) put("target_id", i.target_id);
    if (!i.target_type.empty()) put("target_type", i.target_type);
    if (!i.key_algorithm.empty()) put("key_algorithm", i.key_algorithm);
    if (!i.target_config_json.empty()) {
      w.Key("target_config");
      w.RawValue(i.target_config_json.data(), i.target_config_json.size(), rapidjson::kObjectType);
    }
    put("status", i.status);
    w.EndObject();
  }
  w.EndArray();
  w.Key("count");
  w.Int64(static_cast<std::int64_t>(items.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

db_result<json_page> list_resources(sql::database& db, const std::string& kind, std::int64_t page,
                                    std::int64_t per_page) {
  if (!is_resource_kind(kind))
    return db_error{db_errc::invalid_argument, "unknown resource kind '" + kind + "'"};
  return query_doc_page(db, "resources WHERE kind = ? AND deleted = 0 AND retired = 0", {kind},
                        "created_seq DESC", page, per_page);
}

db_result<json_page> list_retired_agents(sql::database& db, std::int64_t page,
                                         std::int64_t per_page) {
  return query_doc_page(db, "resources WHERE kind = 'agent' AND deleted = 0 AND retired = 1", {},
                        "created_seq DESC", page, per_page);
}

db_result<std::optional<std::string>> get_resource(sql::database& db, const std::string& kind,
                                                   const std::string& id) {
  if (!is_resource_kind(kind))
    return db_error{db_errc::invalid_argument, "unknown resource kind '" + kind + "'"};
  return first_doc(db, "SELECT doc FROM resources WHERE kind = ? AND id = ? AND deleted = 0",
                   {kind, id});
}

db_result<entity_stats> get_entity_stats(sql::database& db, events::timestamp_us now,
                                         std::int64_t expiring_days) {
  entity_stats s;
  auto certs = count_by(db, "SELECT status, COUNT(*) FROM certificates GROUP BY status");
  if (!certs) return certs.error();
  s.certificates_by_status = std::move(*certs);
  for (const auto& [status, n] : s.certificates_by_status) s.total_certificates += n;

  auto expiring = db.query(
      "SELECT COUNT(*) FROM certificates WHERE status IN ('Active', 'Expiring') "
      "AND expires_at_us > ? AND expires_at_us <= ?",
      {now, now + expiring_days * day_us});
  if (!expiring) return expiring.error();
  s.expiring_within_window = expiring->empty() ? 0 : expiring->front().int64(0).value_or(0);

  auto jobs = count_by(db, "SELECT status, COUNT(*) FROM jobs GROUP BY status");
  if (!jobs) return jobs.error();
  s.jobs_by_status = std::move(*jobs);

  auto agents = count_by(db,
                         "SELECT status, COUNT(*) FROM resources WHERE kind = 'agent' "
                         "AND deleted = 0 AND retired = 0 GROUP BY status");
  if (!agents) return agents.error();
  s.agents_by_status = std::move(*agents);
  for (const auto& [status, n] : s.agents_by_status) s.total_agents += n;
  return s;
}

std::string dashboard_summary_json(const entity_stats& s, events::timestamp_us now) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  auto num = [&w](const char* key, std::int64_t v) {
    w.Key(key);
    w.Int64(v);
  };
  const auto& c = s.certificates_by_status;
  const auto& j = s.jobs_by_status;
  w.StartObject();
  num("total_certificates", s.total_certificates);
  num("expiring_certificates", s.expiring_within_window);
  num("expired_certificates", count_of(c, "Expired"));
  num("revoked_certificates", count_of(c, "Revoked"));
  num("active_agents", count_of(s.agents_by_status, "Online"));
  num("offline_agents", count_of(s.agents_by_status, "Offline"));
  num("total_agents", s.total_agents);
  num("pending_jobs",
      count_of(j, "Pending") + count_of(j, "AwaitingCSR") + count_of(j, "AwaitingApproval"));
  num("failed_jobs", count_of(j, "Failed"));
  num("complete_jobs", count_of(j, "Completed"));
  const std::string at = events::format_rfc3339(now);
  w.Key("completed_at");
  w.String(at.data(), static_cast<rapidjson::SizeType>(at.size()));
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace certctl::projections
