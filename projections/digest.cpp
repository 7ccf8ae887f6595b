#include "projections/digest.hpp"

#include <set>

#include "events/json.hpp"
#include "events/time.hpp"
#include "projections/entity_queries.hpp"
#include "projections/stats_queries.hpp"

namespace certctl::projections {

namespace {

constexpr std::int64_t us_per_day = 86400LL * 1000000;

struct expiring_row {
  std::string id, common_name, expires_at, owner_id;
  std::int64_t days_left = 0;
};

const char* urgency_colour(std::int64_t days) {
  if (days <= 7) return "#d13438";
  if (days <= 14) return "#ff8c00";
  return "#c8a400";
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

db_result<digest_content> build_digest(sql::database& db, events::timestamp_us now) {
  auto stats = get_entity_stats(db, now, 30);
  if (!stats) return stats.error();
  auto trends = job_trends(db, now, 30);
  if (!trends) return trends.error();
  auto rows = db.query(
      "SELECT id, common_name, expires_at, expires_at_us, owner_id FROM certificates WHERE "
      "status IN ('Active', 'Expiring') AND expires_at_us IS NOT NULL AND expires_at_us > ? AND "
      "expires_at_us <= ? ORDER BY expires_at_us, id LIMIT 200",
      {now, now + 30 * us_per_day});
  if (!rows) return rows.error();
  std::vector<expiring_row> expiring;
  for (const auto& r : *rows)
    expiring.push_back({r.text(0).value_or(""), r.text(1).value_or(""), r.text(2).value_or(""),
                        r.text(4).value_or(""), (r.int64(3).value_or(now) - now) / us_per_day});

  digest_content d;
  d.total_certificates = stats->total_certificates;
  d.expiring = stats->expiring_within_window;
  if (auto it = stats->certificates_by_status.find("Expired");
      it != stats->certificates_by_status.end())
    d.expired = it->second;
  if (auto it = stats->agents_by_status.find("Online"); it != stats->agents_by_status.end())
    d.active_agents = it->second;
  for (const auto& b : *trends) {
    d.jobs_completed += b.count;
    d.jobs_failed += b.failed;
  }
  const std::string day = events::format_rfc3339(now).substr(0, 10);
  d.subject = "certctl digest " + day + ": " + std::to_string(d.expiring) + " expiring, " +
              std::to_string(d.expired) + " expired";

  d.text = "Certificate digest for " + day +
           "\n\nTotal certificates: " + std::to_string(d.total_certificates) +
           "\nExpiring within 30 days: " + std::to_string(d.expiring) +
           "\nExpired: " + std::to_string(d.expired) +
           "\nActive agents: " + std::to_string(d.active_agents) +
           "\nJobs in the last 30 days: " + std::to_string(d.jobs_completed) + " completed, " +
           std::to_string(d.jobs_failed) + " failed\n";
  if (!expiring.empty()) d.text += "\nExpiring certificates:\n";
  for (const auto& e : expiring)
    d.text += "  " + e.common_name + " (" + e.id + ") expires " + e.expires_at + ", " +
              std::to_string(e.days_left) + " days\n";

  auto stat = [](const std::string& label, std::int64_t v, const char* colour) {
    return "<td style=\"padding:12px;border:1px solid #ddd;text-align:center\"><div "
           "style=\"font-size:24px;font-weight:bold;color:" +
           std::string(colour) + "\">" + std::to_string(v) +
           "</div><div style=\"font-size:12px;color:#555\">" + label + "</div></td>";
  };
  std::string html =
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\"><meta http-equiv=\"refresh\" "
      "content=\"300\"><title>" +
      html_escape(d.subject) +
      "</title></head><body style=\"font-family:Arial,Helvetica,sans-serif;max-width:720px;"
      "margin:auto\"><h1 style=\"font-size:20px\">Certificate digest " +
      day + "</h1><table style=\"border-collapse:collapse;width:100%\"><tr>" +
      stat("Total certificates", d.total_certificates, "#333") +
      stat("Expiring (30 days)", d.expiring, "#ff8c00") + stat("Expired", d.expired, "#d13438") +
      stat("Active agents", d.active_agents, "#107c10") +
      "</tr></table><h2 style=\"font-size:16px\">Jobs, last 30 days</h2><p>" +
      std::to_string(d.jobs_completed) + " completed, " + std::to_string(d.jobs_failed) +
      " failed</p><h2 style=\"font-size:16px\">Expiring certificates</h2>";
  if (expiring.empty()) {
    html += "<p>No certificate expires within 30 days.</p>";
  } else {
    html +=
        "<table style=\"border-collapse:collapse;width:100%\"><tr><th align=\"left\">Common "
        "name</th><th align=\"left\">Certificate</th><th align=\"left\">Expires</th><th "
        "align=\"right\">Days</th></tr>";
    for (const auto& e : expiring)
      html += "<tr style=\"color:" + std::string(urgency_colour(e.days_left)) + "\"><td>" +
              html_escape(e.common_name) + "</td><td>" + html_escape(e.id) + "</td><td>" +
              html_escape(e.expires_at) + "</td><td align=\"right\">" +
              std::to_string(e.days_left) + "</td></tr>";
    html += "</table>";
  }
  html += "</body></html>";
  d.html = std::move(html);
  return d;
}

db_result<std::vector<std::string>> certificate_owner_emails(sql::database& db) {
  auto rows = db.query(
      "SELECT DISTINCT o.doc FROM resources o JOIN certificates c ON c.owner_id = o.id WHERE "
      "o.kind = 'owner' AND o.deleted = 0 AND c.status <> 'Archived'",
      {});
  if (!rows) return rows.error();
  std::set<std::string> emails;
  for (const auto& r : *rows) {
    const auto email = events::json_object::parse(r.text(0).value_or("{}"))
                           .value_or(events::json_object{})
                           .str("email");
    if (!email.empty()) emails.insert(email);
  }
  return std::vector<std::string>(emails.begin(), emails.end());
}

}  // namespace certctl::projections
