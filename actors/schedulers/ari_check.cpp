#include "actors/schedulers/ari_check.hpp"

#include <map>

#include "actors/schedulers/renewal_check.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::schedulers {
namespace {

/// Far enough to cover every certificate a CA might want renewed early.
constexpr std::int64_t horizon_us = 20LL * 366 * 86400 * 1000000;

}  // namespace

events::timestamp_us renewal_point(const suggested_window& w, const std::string& certificate_id) {
  if (w.end <= w.start) return w.start;
  const auto d = crypto::sha256_of("ari|" + certificate_id);
  std::uint64_t h = 0;
  for (int i = 0; i < 8; ++i) h = (h << 8) | d[static_cast<size_t>(i)];
  return w.start +
         static_cast<events::timestamp_us>(h % static_cast<std::uint64_t>(w.end - w.start));
}

ari_check::ari_check(actors::entity_runtime& runtime, due_work_source& source,
                     actors::issuance_handoff handoff, ari_check_options options)
    : runtime_(runtime),
      source_(source),
      handoff_(std::move(handoff)),
      options_(std::move(options)) {}

tick_report ari_check::tick(events::timestamp_us now) {
  auto report = start_report("ari", now);
  if (!options_.advice) return report;
  auto policies = source_.renewal_policies();
  if (!policies) {
    report.errors.push_back("renewal policies: " + policies.error().message);
    return report;
  }
  std::map<std::string, renewal_policy_info> by_id;
  for (const auto& p : *policies) by_id[p.id] = p;
  auto certs = source_.certificates_expiring_by(now + horizon_us, options_.batch);
  if (!certs) {
    report.errors.push_back("certificates: " + certs.error().message);
    return report;
  }
  for (const auto& cert : *certs) {
    auto policy = by_id.find(cert.renewal_policy_id);
    // Auto-renewal is the policy's decision; ARI only says when.
    if (policy == by_id.end() || !policy->second.auto_renew || cert.expires_at <= now) continue;
    auto advice = options_.advice(cert);
    if (!advice) {
      report.errors.push_back("renewal info of " + cert.id + ": " + advice.error());
      continue;
    }
    if (!*advice || now < renewal_point(**advice, cert.id)) continue;
    // The renewal check's ids: whichever loop comes first renews, the other writes nothing.
    actors::issuance_start start;
    start.certificate_id = cert.id;
    start.job_id = renewal_job_id(cert);
    start.max_attempts = policy->second.max_retries + 1;
    start.principal = "system:" + report.loop;
    start.correlation_id = report.correlation_id;
    start.renew_command_id = "renewal:" + cert.id + ":" + cert.expires_at_text;
    start.job_command_id = "renewal-job:" + cert.id + ":" + cert.expires_at_text;
    auto started = actors::start_renewal(runtime_, handoff_, start);
    if (started.certificate)
      record_action(report, "certificate.renew", cert.id, *started.certificate,
                    "the CA's renewal window has opened");
    if (started.job)
      record_action(report, "job.create", start.job_id, *started.job,
                    started.handed_off ? "handed to issuance" : "awaiting CSR");
  }
  return report;
}

}  // namespace certctl::schedulers
