#pragma once
/// The certificate digest (docs/notifications.md "Digest"): inventory health read from the
/// read models at `now` and rendered once as plain text and as an HTML email (stats grid,
/// jobs of the last 30 days, expiring certificates colour-coded by urgency: 7, 14, 30 days).
/// GET /api/v1/digest/preview shows the HTML; the digest loop and POST /api/v1/digest/send
/// mail both parts.

#include <cstdint>
#include <string>
#include <vector>

#include "events/event.hpp"
#include "projections/sql_names.hpp"

namespace certctl::projections {

struct digest_content {
  std::string subject;
  std::string text;
  std::string html;
  std::int64_t total_certificates = 0;
  std::int64_t expiring = 0;  ///< within 30 days, not yet expired
  std::int64_t expired = 0;
  std::int64_t active_agents = 0;
  std::int64_t jobs_completed = 0;  ///< last 30 days
  std::int64_t jobs_failed = 0;
};

db_result<digest_content> build_digest(sql::database& db, events::timestamp_us now);

/// Distinct email addresses of owners that own at least one certificate not archived: the
/// digest's recipients when CERTCTL_DIGEST_RECIPIENTS is empty.
db_result<std::vector<std::string>> certificate_owner_emails(sql::database& db);

/// `s` with &, <, >, " and ' escaped for HTML text and attribute values.
std::string html_escape(const std::string& s);

}  // namespace certctl::projections
