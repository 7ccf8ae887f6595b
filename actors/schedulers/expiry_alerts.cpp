#include "actors/schedulers/expiry_alerts.hpp"

#include <algorithm>

#include "events/time.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::schedulers {

namespace {

constexpr std::int64_t us_per_day = 86400LL * 1000000;

std::string subject_of(const domain::alert_certificate& c, std::int64_t threshold,
                       events::timestamp_us now) {
  const std::string name = c.common_name.empty() ? c.id : c.common_name;
  if (c.expires_at <= now) return "Certificate " + name + " has expired";
  if (threshold == 0) return "Certificate " + name + " expires within a day";
  return "Certificate " + name + " expires in " + std::to_string(threshold) + " days or less";
}

}  // namespace

std::string expiry_alert_id(const std::string& certificate_id, const std::string& expires_at,
                            std::int64_t threshold, const std::string& channel) {
  // Hashed: certificate ids may be long, and the id must stay a valid entity id.
  const auto digest = crypto::sha256_of(certificate_id + "\n" + expires_at + "\n" +
                                        std::to_string(threshold) + "\n" + channel);
  return "exp-" + crypto::to_hex(digest).substr(0, 32);
}

expiry_alerts::expiry_alerts(actors::entity_runtime& runtime, notification_source& source,
                             expiry_alert_options options)
    : runtime_(runtime), source_(source), options_(options) {}

tick_report expiry_alerts::tick(events::timestamp_us now) {
  auto report = start_report("expiry-alerts", now);
  auto policies = source_.renewal_policies();
  if (!policies) {
    report.errors.push_back("policies: " + policies.error().message);
    return report;
  }
  std::map<std::string, domain::alert_policy> alert_of;
  std::int64_t widest = 30;  // the default thresholds, for certificates without a policy
  for (const auto& [id, doc] : *policies) {
    auto p = domain::alert_policy_of(doc);
    for (auto t : p.thresholds_days) widest = std::max(widest, t);
    alert_of.emplace(id, std::move(p));
  }
  auto certs = source_.alert_candidates(now + (widest + 1) * us_per_day, options_.batch);
  if (!certs) {
    report.errors.push_back("certificates: " + certs.error().message);
    return report;
  }
  const domain::alert_policy defaults;
  for (const auto& c : *certs) {
    auto it = alert_of.find(c.renewal_policy_id);
    const domain::alert_policy& policy = it == alert_of.end() ? defaults : it->second;
    const auto threshold = domain::crossed_threshold(policy, now, c.expires_at);
    if (!threshold) continue;
    const std::string tier = domain::severity_tier(policy, *threshold);
    const std::int64_t left = (c.expires_at - now) / us_per_day;
    const std::string subject = subject_of(c, *threshold, now);
    const std::string message =
        subject + " (" + c.expires_at_text + "; " +
        (c.expires_at > now ? std::to_string(left) + " whole days left" : "expired") +
        "). Certificate id " + c.id + ", renewal policy " +
        (c.renewal_policy_id.empty() ? "none" : c.renewal_policy_id) + ".";
    for (const auto& channel : domain::alert_channels(policy, tier)) {
      const std::string id = expiry_alert_id(c.id, c.expires_at_text, *threshold, channel);
      events::json_object details;
      details.set("threshold_days", std::to_string(*threshold))
          .set("severity_tier", tier)
          .set("common_name", c.common_name)
          .set("expires_at", c.expires_at_text)
          .set("renewal_policy_id", c.renewal_policy_id);
      events::json_object body;
      body.set("type", "ExpirationWarning")
          .set("channel", channel)
          .set("severity", domain::notification_severity(tier))
          .set("certificate_id", c.id)
          .set("event_type", "certificate.expiring")
          .set("subject", subject)
          .set("message", message)
          .set_raw("details", details.dump());
      // Email goes to the owner; the other channels to their configured room or service.
      if (channel == "Email" && !c.owner_email.empty()) body.set("recipient", c.owner_email);
      auto r =
          send_system_command(runtime_, report, "notification", "notification.create", id, body,
                              "alert:" + id, channel + " " + std::to_string(*threshold) + "d");
      // Already queued by an earlier tick (or another node): not a failure.
      if (!r && r.error().code == domain::domain_errc::conflict) {
        report.actions.back().ok = true;
        report.actions.back().duplicate = true;
      }
    }
  }
  return report;
}

}  // namespace certctl::schedulers
