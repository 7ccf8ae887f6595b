#include "actors/schedulers/renewal_check.hpp"

#include "domain/rules.hpp"

#include <algorithm>
#include <map>

#include "infra/crypto/sha256.hpp"

namespace certctl::schedulers {
namespace {

constexpr std::int64_t us_per_day = 86400LL * 1000000LL;

std::string lowercase(std::string s) {
  for (auto& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

}  // namespace

actors::command_result mark_certificate_status(actors::entity_runtime& runtime, tick_report& report,
                                               const due_certificate& cert,
                                               const std::string& status) {
  events::json_object body;
  body.set("status", status);
  return send_system_command(
      runtime, report, "certificate", "certificate.mark_status", cert.id, std::move(body),
      lowercase(status) + ":" + cert.id + ":" + cert.expires_at_text, status);
}

std::string renewal_job_id(const due_certificate& cert) {
  // Hashed rather than concatenated: ids are limited to 128 characters of [A-Za-z0-9._-].
  const auto digest = crypto::sha256_of(cert.id + "|" + cert.expires_at_text);
  // Placed with the certificate (docs/cluster.md "Affinity"): this node owns both.
  return domain::affine_id("job-rn-" + crypto::to_hex(digest).substr(0, 16),
                           domain::stream_id("certificate", cert.id));
}

renewal_check::renewal_check(actors::entity_runtime& runtime, due_work_source& source,
                             actors::issuance_handoff handoff, renewal_check_options options)
    : runtime_(runtime), source_(source), handoff_(std::move(handoff)), options_(options) {}

tick_report renewal_check::tick(events::timestamp_us now) {
  auto report = start_report("renewal", now);
  auto policies = source_.renewal_policies();
  if (!policies) {
    report.errors.push_back("renewal policies: " + policies.error().message);
    return report;
  }
  std::map<std::string, renewal_policy_info> by_id;
  // The query horizon covers the widest window any policy acts in.
  std::int64_t widest_days = options_.default_alert_window_days;
  for (const auto& p : *policies) {
    by_id[p.id] = p;
    widest_days = std::max(widest_days, p.alert_window_days);
    if (p.auto_renew) widest_days = std::max(widest_days, p.renewal_window_days);
  }
  auto certs = source_.certificates_expiring_by(now + widest_days * us_per_day, options_.batch);
  if (!certs) {
    report.errors.push_back("certificates: " + certs.error().message);
    return report;
  }
  for (const auto& cert : *certs) {
    renewal_policy_info policy;
    auto it = by_id.find(cert.renewal_policy_id);
    if (it != by_id.end()) {
      policy = it->second;
    } else {
      policy.auto_renew = false;
      policy.alert_window_days = options_.default_alert_window_days;
    }
    if (cert.expires_at <= now) {
      mark_certificate_status(runtime_, report, cert, "Expired");
    } else if (cert.status == "Active" &&
               cert.expires_at <= now + policy.alert_window_days * us_per_day) {
      mark_certificate_status(runtime_, report, cert, "Expiring");
    }
    if (!policy.auto_renew || cert.expires_at > now + policy.renewal_window_days * us_per_day)
      continue;
    actors::issuance_start start;
    start.certificate_id = cert.id;
    start.job_id = renewal_job_id(cert);
    start.max_attempts = policy.max_retries + 1;
    start.principal = "system:" + report.loop;
    start.correlation_id = report.correlation_id;
    start.renew_command_id = "renewal:" + cert.id + ":" + cert.expires_at_text;
    start.job_command_id = "renewal-job:" + cert.id + ":" + cert.expires_at_text;
    auto started = actors::start_renewal(runtime_, handoff_, start);
    if (started.certificate)
      record_action(report, "certificate.renew", cert.id, *started.certificate);
    if (started.job)
      record_action(report, "job.create", start.job_id, *started.job,
                    started.handed_off ? "handed to issuance" : "awaiting CSR");
  }
  return report;
}

}  // namespace certctl::schedulers
