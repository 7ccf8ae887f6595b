#include "projections/due_work_queries.hpp"

#include <algorithm>

#include "events/json.hpp"
#include "events/time.hpp"

namespace certctl::projections {
namespace {

events::timestamp_us time_of(const events::json_object& doc, const char* key) {
  if (!doc.is_string(key)) return 0;
  return events::parse_rfc3339(doc.str(key)).value_or(0);
}

/// The largest value of an integer array field ("[30,14,7,0]"); `fallback` when absent or empty.
std::int64_t max_of_int_array(const events::json_object& doc, const char* key,
                              std::int64_t fallback) {
  if (!doc.is_array(key)) return fallback;
  const std::string raw = doc.raw(key);
  std::int64_t best = -1;
  std::int64_t value = 0;
  bool in_number = false;
  for (char c : raw) {
    if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      in_number = true;
    } else {
      if (in_number) best = std::max(best, value);
      value = 0;
      in_number = false;
    }
  }
  return best < 0 ? fallback : best;
}

domain::renewal_policy_info policy_from(const std::string& id, const events::json_object& d) {
  domain::renewal_policy_info p;
  p.id = id;
  p.renewal_window_days = d.int64("renewal_window_days", p.renewal_window_days);
  p.auto_renew = d.boolean("auto_renew", p.auto_renew);
  p.max_retries = d.int64("max_retries", p.max_retries);
  p.retry_interval_seconds = d.int64("retry_interval_seconds", p.retry_interval_seconds);
  p.alert_window_days = max_of_int_array(d, "alert_thresholds_days", p.alert_window_days);
  return p;
}

const char* certificate_columns =
    "SELECT id, status, expires_at_us, expires_at, renewal_policy_id, certificate_profile_id "
    "FROM certificates ";

std::vector<domain::due_certificate> certificates_of(const rows& rs) {
  std::vector<domain::due_certificate> out;
  for (const auto& r : rs) {
    domain::due_certificate c;
    c.id = r.text(0).value_or("");
    c.status = r.text(1).value_or("");
    c.expires_at = r.int64(2).value_or(0);
    c.expires_at_text = r.text(3).value_or("");
    c.renewal_policy_id = r.text(4).value_or("");
    c.certificate_profile_id = r.text(5).value_or("");
    out.push_back(std::move(c));
  }
  return out;
}

const char* job_columns = "SELECT id, type, status, certificate_id, created_at_us, doc FROM jobs ";

std::vector<domain::due_job> jobs_of(const rows& rs) {
  std::vector<domain::due_job> out;
  for (const auto& r : rs) {
    domain::due_job j;
    j.id = r.text(0).value_or("");
    j.type = r.text(1).value_or("");
    j.status = r.text(2).value_or("");
    j.certificate_id = r.text(3).value_or("");
    j.created_at = r.int64(4).value_or(0);
    auto doc = events::json_object::parse(r.text(5).value_or("{}")).value_or(events::json_object{});
    j.attempts = doc.int64("attempts");
    j.scheduled_at = time_of(doc, "scheduled_at");
    if (j.status == "Running") j.started_at = time_of(doc, "started_at");
    if (doc.str("order_state") == "pending") {
      j.order_id = doc.str("order_id");
      j.order_started_at = time_of(doc, "order_started_at");
    }
    out.push_back(std::move(j));
  }
  return out;
}

/// The jobs' doc column is compact JSON (no spaces), so a pending asynchronous order shows as
/// exactly this member; the rows are checked again after parsing.
constexpr const char* pending_order_pattern = "%\"order_state\":\"pending\"%";

std::int64_t limit_of(size_t limit) {
  return static_cast<std::int64_t>(std::max<size_t>(1, limit));
}

}  // namespace

db_result<std::vector<domain::due_certificate>> certificates_expiring_by(
    sql::database& db, events::timestamp_us horizon, size_t limit) {
  auto rs = db.query(std::string(certificate_columns) +
                         "WHERE status IN ('Active', 'Expiring') AND expires_at_us IS NOT NULL "
                         "AND expires_at_us <= ? ORDER BY expires_at_us, id LIMIT ?",
                     {horizon, limit_of(limit)});
  if (!rs) return rs.error();
  return certificates_of(*rs);
}

db_result<std::vector<domain::due_certificate>> short_lived_expired_by(sql::database& db,
                                                                       events::timestamp_us now,
                                                                       size_t limit) {
  // allow_short_lived lives only in the profile document: few profiles, so filter them here
  // and let the certificates query use its profile index.
  auto profiles = db.query("SELECT id, doc FROM resources WHERE kind = 'profile' AND deleted = 0");
  if (!profiles) return profiles.error();
  params p;
  std::string in_list;
  for (const auto& r : *profiles) {
    auto doc = events::json_object::parse(r.text(1).value_or("{}")).value_or(events::json_object{});
    if (!doc.boolean("allow_short_lived")) continue;
    in_list += in_list.empty() ? "?" : ", ?";
    p.emplace_back(r.text(0).value_or(""));
  }
  if (p.empty()) return std::vector<domain::due_certificate>{};
  p.emplace_back(now);
  p.emplace_back(limit_of(limit));
  auto rs =
      db.query(std::string(certificate_columns) + "WHERE certificate_profile_id IN (" + in_list +
                   ") AND status IN ('Active', 'Expiring') AND expires_at_us IS NOT NULL "
                   "AND expires_at_us <= ? ORDER BY expires_at_us, id LIMIT ?",
               p);
  if (!rs) return rs.error();
  return certificates_of(*rs);
}

db_result<std::vector<domain::renewal_policy_info>> renewal_policies(sql::database& db) {
  auto rs = db.query(
      "SELECT id, doc FROM resources WHERE kind = 'renewal_policy' AND deleted = 0 ORDER BY id");
  if (!rs) return rs.error();
  std::vector<domain::renewal_policy_info> out;
  for (const auto& r : *rs) {
    auto doc = events::json_object::parse(r.text(1).value_or("{}")).value_or(events::json_object{});
    out.push_back(policy_from(r.text(0).value_or(""), doc));
  }
  return out;
}

db_result<std::optional<domain::renewal_policy_info>> renewal_policy(sql::database& db,
                                                                     const std::string& id) {
  auto rs = db.query(
      "SELECT doc FROM resources WHERE kind = 'renewal_policy' AND id = ? AND deleted = 0", {id});
  if (!rs) return rs.error();
  if (rs->empty()) return std::optional<domain::renewal_policy_info>{};
  auto doc = events::json_object::parse(rs->front().text(0).value_or("{}"))
                 .value_or(events::json_object{});
  return std::optional<domain::renewal_policy_info>(policy_from(id, doc));
}

db_result<std::vector<domain::due_job>> pending_jobs_due(sql::database& db,
                                                         events::timestamp_us now, size_t limit) {
  auto rs = db.query(std::string(job_columns) +
                         "WHERE status = 'Pending' AND (scheduled_at_us IS NULL OR "
                         "scheduled_at_us <= ?) ORDER BY scheduled_at_us, id LIMIT ?",
                     {now, limit_of(limit)});
  if (!rs) return rs.error();
  return jobs_of(*rs);
}

db_result<std::vector<domain::due_job>> jobs_awaiting_csr_since(sql::database& db,
                                                                events::timestamp_us before,
                                                                size_t limit) {
  auto rs = db.query(std::string(job_columns) +
                         "WHERE status = 'AwaitingCSR' AND created_at_us < ? AND "
                         "(scheduled_at_us IS NULL OR scheduled_at_us < ?) "
                         "ORDER BY created_at_us, id LIMIT ?",
                     {before, before, limit_of(limit)});
  if (!rs) return rs.error();
  return jobs_of(*rs);
}

db_result<std::vector<domain::due_job>> jobs_running_since(sql::database& db,
                                                           events::timestamp_us before,
                                                           size_t limit) {
  // While Running, the last event a job's row folded is job.started (job.csr_submitted is
  // not projected), so updated_at_us is when the current attempt started.
  auto rs = db.query(std::string(job_columns) +
                         "WHERE status = 'Running' AND updated_at_us < ? AND doc NOT LIKE ? "
                         "ORDER BY updated_at_us, id LIMIT ?",
                     {before, std::string(pending_order_pattern), limit_of(limit)});
  if (!rs) return rs.error();
  auto jobs = jobs_of(*rs);
  jobs.erase(std::remove_if(jobs.begin(), jobs.end(),
                            [before](const domain::due_job& j) {
                              return j.started_at != 0 && j.started_at >= before;
                            }),
             jobs.end());
  return jobs;
}

db_result<std::vector<domain::due_job>> jobs_awaiting_order_due(sql::database& db,
                                                                events::timestamp_us now,
                                                                size_t limit) {
  auto rs = db.query(std::string(job_columns) +
                         "WHERE status = 'Running' AND doc LIKE ? AND scheduled_at_us <= ? "
                         "ORDER BY scheduled_at_us, id LIMIT ?",
                     {std::string(pending_order_pattern), now, limit_of(limit)});
  if (!rs) return rs.error();
  auto jobs = jobs_of(*rs);
  jobs.erase(std::remove_if(jobs.begin(), jobs.end(),
                            [](const domain::due_job& j) { return j.order_id.empty(); }),
             jobs.end());
  return jobs;
}

db_result<std::vector<domain::silent_agent>> agents_silent_since(sql::database& db,
                                                                 events::timestamp_us before,
                                                                 size_t limit) {
  // Every agent event moves updated_at_us and none sets it earlier than the last heartbeat,
  // so updated_at_us < before is a superset of the silent agents; the document decides.
  auto rs = db.query(
      "SELECT id, doc FROM resources WHERE kind = 'agent' AND deleted = 0 AND retired = 0 AND "
      "status = 'Online' AND updated_at_us < ? ORDER BY updated_at_us, id LIMIT ?",
      {before, limit_of(limit)});
  if (!rs) return rs.error();
  std::vector<domain::silent_agent> out;
  for (const auto& r : *rs) {
    auto doc = events::json_object::parse(r.text(1).value_or("{}")).value_or(events::json_object{});
    const auto heard = time_of(doc, "last_heartbeat_at");
    if (heard >= before) continue;
    out.push_back({r.text(0).value_or(""), heard});
  }
  return out;
}

}  // namespace certctl::projections
