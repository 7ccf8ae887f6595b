#include "actors/schedulers/digest.hpp"

#include "infra/crypto/sha256.hpp"

namespace certctl::schedulers {

digest_sender::digest_sender(actors::entity_runtime& runtime, digest_options options)
    : runtime_(runtime), options_(std::move(options)) {}

result<size_t, std::string> digest_sender::send(events::timestamp_us now, const std::string& key,
                                                tick_report& report) {
  if (!options_.build) return std::string("the digest has no content source");
  std::vector<std::string> to = options_.recipients;
  if (to.empty() && options_.owner_emails) {
    auto owners = options_.owner_emails();
    if (!owners) return "owner emails: " + owners.error();
    to = std::move(*owners);
  }
  if (to.empty())
    return std::string(
        "no recipients: set CERTCTL_DIGEST_RECIPIENTS or give certificate owners an email");
  auto content = options_.build(now);
  if (!content) return "digest: " + content.error();
  size_t queued = 0;
  for (const auto& r : to) {
    const std::string id =
        "digest-" + crypto::to_hex(crypto::sha256_of(key + "\n" + r)).substr(0, 32);
    events::json_object body;
    body.set("type", "Digest")
        .set("channel", "Email")
        .set("severity", "info")
        .set("recipient", r)
        .set("event_type", "digest")
        .set("subject", content->subject)
        .set("message", content->text)
        .set("html_message", content->html);
    auto res = send_system_command(runtime_, report, "notification", "notification.create", id,
                                   body, "digest:" + id, r);
    if (res && !res->duplicate) ++queued;
    if (!res && res.error().code == domain::domain_errc::conflict) {
      report.actions.back().ok = true;
      report.actions.back().duplicate = true;
    }
  }
  return queued;
}

tick_report digest_sender::tick(events::timestamp_us now) {
  auto report = start_report("digest", now);
  const auto period =
      std::chrono::duration_cast<std::chrono::microseconds>(options_.interval).count();
  const std::string key = "scheduled:" + std::to_string(period > 0 ? now / period : now);
  if (auto r = send(now, key, report); !r) report.errors.push_back(r.error());
  return report;
}

}  // namespace certctl::schedulers
