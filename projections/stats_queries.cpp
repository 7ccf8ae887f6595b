#include "projections/stats_queries.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <map>
#include <set>

#include "events/time.hpp"

namespace certctl::projections {
namespace {

constexpr std::int64_t day_us = 86400LL * 1000000LL;
/// Day number of a timestamp column, spelled as a literal: integer division of two BIGINTs
/// truncates on both backends, and a literal (unlike a `?`) needs no type inference on
/// PostgreSQL. Timestamps are after 1970, so truncation is flooring.
constexpr const char* day_divisor = "86400000000";

/// Explicit ids are matched in chunks: one statement stays well below SQLite's parameter limit.
constexpr size_t ids_per_statement = 500;

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

db_result<done> check_days(std::int64_t days) {
  if (days < 1 || days > max_stats_days)
    return db_error{db_errc::invalid_argument,
                    "days must be between 1 and " + std::to_string(max_stats_days)};
  return done{};
}

std::int64_t day_of(events::timestamp_us t) {
  return t / day_us;
}

std::string date_of_day(std::int64_t day) {
  return events::format_rfc3339(day * day_us).substr(0, 10);  // "YYYY-MM-DDT..."
}

/// Dense buckets for days [first, first + n): per-day values from `rows` of
/// (day, count[, failed]) and zeros elsewhere.
std::vector<day_bucket> dense(std::int64_t first, std::int64_t n, const rows& found) {
  std::map<std::int64_t, std::pair<std::int64_t, std::int64_t>> by_day;
  for (const auto& r : found) {
    auto& slot = by_day[r.int64(0).value_or(-1)];
    slot.first += r.int64(1).value_or(0);
    if (r.size() > 2) slot.second += r.int64(2).value_or(0);
  }
  std::vector<day_bucket> out;
  out.reserve(static_cast<size_t>(n));
  for (std::int64_t d = first; d < first + n; ++d) {
    day_bucket b;
    b.date = date_of_day(d);
    if (auto it = by_day.find(d); it != by_day.end()) {
      b.count = it->second.first;
      b.failed = it->second.second;
    }
    out.push_back(std::move(b));
  }
  return out;
}

/// Rows of `table` per day of `column` for days [first, first + n), restricted by `condition`
/// (SQL with parameters `p`; empty: none); `extra_columns` adds aggregates after the count.
db_result<std::vector<day_bucket>> per_day(sql::database& db, const std::string& table,
                                           const std::string& column, const std::string& condition,
                                           params p, std::int64_t first, std::int64_t n,
                                           const std::string& extra_columns = "") {
  const std::string day = "(" + column + " / " + day_divisor + ")";
  std::string sql = "SELECT " + day + ", COUNT(*)" + extra_columns + " FROM " + table + " WHERE " +
                    column + " >= ? AND " + column + " < ?";
  params all{first * day_us, (first + n) * day_us};
  if (!condition.empty()) sql += " AND " + condition;
  all.insert(all.end(), p.begin(), p.end());
  auto found = db.query(sql + " GROUP BY " + day, all);
  if (!found) return found.error();
  return dense(first, n, *found);
}

void put_string(json_writer& w, const char* key, const std::string& v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

void put_int(json_writer& w, const char* key, std::int64_t v) {
  w.Key(key);
  w.Int64(v);
}

}  // namespace

db_result<std::vector<status_count>> certificates_by_status(sql::database& db) {
  auto found =
      db.query("SELECT status, COUNT(*) FROM certificates GROUP BY status ORDER BY status");
  if (!found) return found.error();
  std::vector<status_count> out;
  for (const auto& r : *found) out.push_back({r.text(0).value_or(""), r.int64(1).value_or(0)});
  return out;
}

std::string status_counts_json(const std::vector<status_count>& counts) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("status_counts");
  w.StartArray();
  for (const auto& c : counts) {
    w.StartObject();
    put_string(w, "status", c.status);
    put_int(w, "count", c.count);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

db_result<std::vector<day_bucket>> expiration_timeline(sql::database& db, events::timestamp_us now,
                                                       std::int64_t days) {
  if (auto ok = check_days(days); !ok) return ok.error();
  // Today's bucket counts only what has not expired yet; later days are whole.
  return per_day(db, "certificates", "expires_at_us",
                 "status IN ('Active', 'Expiring') AND expires_at_us >= ?", {now}, day_of(now),
                 days);
}

db_result<std::vector<day_bucket>> job_trends(sql::database& db, events::timestamp_us now,
                                              std::int64_t days) {
  if (auto ok = check_days(days); !ok) return ok.error();
  // A finished job changes no more, so its updated_at is when it finished. COUNT(*) is the
  // completed column because the filter leaves only the two statuses; SUM picks the failed.
  auto buckets =
      per_day(db, "jobs", "updated_at_us", "status IN ('Completed', 'Failed')", {},
              day_of(now) - days + 1, days, ", SUM(CASE WHEN status = 'Failed' THEN 1 ELSE 0 END)");
  if (!buckets) return buckets.error();
  for (auto& b : *buckets) b.count -= b.failed;
  return buckets;
}

db_result<std::vector<day_bucket>> issuance_rate(sql::database& db, events::timestamp_us now,
                                                 std::int64_t days) {
  if (auto ok = check_days(days); !ok) return ok.error();
  return per_day(db, "certificate_versions", "created_at_us", "", {}, day_of(now) - days + 1, days);
}

std::string day_counts_json(const char* key, const std::vector<day_bucket>& buckets) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key(key);
  w.StartArray();
  for (const auto& b : buckets) {
    w.StartObject();
    put_string(w, "date", b.date);
    put_int(w, "count", b.count);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string job_trends_json(const std::vector<day_bucket>& buckets) {
  rapidjson::StringBuffer buf;
  json_writer w(buf);
  w.StartObject();
  w.Key("trends");
  w.StartArray();
  for (const auto& b : buckets) {
    w.StartObject();
    put_string(w, "date", b.date);
    put_int(w, "completed", b.count);
    put_int(w, "failed", b.failed);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

db_result<std::vector<std::string>> select_certificate_ids(sql::database& db,
                                                           const certificate_selector& s,
                                                           std::int64_t limit) {
  if (s.empty())
    return db_error{db_errc::invalid_argument, "at least one selection criterion is required"};
  std::string where = "1 = 1";
  params p;
  auto add = [&](const char* clause, const std::optional<std::string>& v) {
    if (!v) return;
    where += std::string(" AND ") + clause;
    p.push_back(*v);
  };
  add("certificate_profile_id = ?", s.profile_id);
  add("owner_id = ?", s.owner_id);
  add("issuer_id = ?", s.issuer_id);
  add("team_id = ?", s.team_id);
  add("id IN (SELECT certificate_id FROM jobs WHERE agent_id = ?)", s.agent_id);

  std::vector<std::string> out;
  if (!s.ids) {
    // The limit is our own integer, so it is spelled into the text (as a parameter GCC 12
    // reports a false maybe-uninitialized inside std::variant here).
    auto found = db.query("SELECT id FROM certificates WHERE " + where +
                              " ORDER BY created_seq LIMIT " + std::to_string(limit + 1),
                          p);
    if (!found) return found.error();
    for (const auto& r : *found) out.push_back(r.text(0).value_or(""));
    return out;
  }
  // Explicit ids keep the caller's order (duplicates once).
  std::set<std::string> matched;
  const auto& ids = *s.ids;
  for (size_t start = 0; start < ids.size(); start += ids_per_statement) {
    const size_t end = std::min(ids.size(), start + ids_per_statement);
    std::string in;
    params chunk = p;
    for (size_t i = start; i < end; ++i) {
      in += in.empty() ? "?" : ", ?";
      chunk.push_back(ids[i]);
    }
    auto found =
        db.query("SELECT id FROM certificates WHERE " + where + " AND id IN (" + in + ")", chunk);
    if (!found) return found.error();
    for (const auto& r : *found) matched.insert(r.text(0).value_or(""));
  }
  std::set<std::string> seen;
  for (const auto& id : ids) {
    if (static_cast<std::int64_t>(out.size()) > limit) break;
    if (matched.count(id) && seen.insert(id).second) out.push_back(id);
  }
  return out;
}

}  // namespace certctl::projections
