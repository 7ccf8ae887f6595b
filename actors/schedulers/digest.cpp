#include "actors/schedulers/digest.hpp"

namespace certctl::schedulers {

digest_sender::digest_sender(digest_options options) : options_(std::move(options)) {}

result<size_t, std::string> digest_sender::send(events::timestamp_us now) {
  if (!options_.build || !options_.email)
    return std::string("the digest needs the Email channel: set CERTCTL_SMTP_HOST");
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
  size_t sent = 0;
  std::string first_error;
  // One message per recipient: a shared To line would show every owner to every other.
  for (const auto& r : to) {
    connectors::notification n;
    n.channel = "Email";
    n.recipient = r;
    n.subject = content->subject;
    n.body = content->text;
    n.html_body = content->html;
    n.event_type = "digest";
    auto d = options_.email->send(n);
    if (d)
      ++sent;
    else if (first_error.empty())
      first_error = r + ": " + d.error().message;
  }
  if (!first_error.empty())
    return "digest sent to " + std::to_string(sent) + " of " + std::to_string(to.size()) +
           " recipient(s); " + first_error;
  return sent;
}

tick_report digest_sender::tick(events::timestamp_us now) {
  auto report = start_report("digest", now);
  auto r = send(now);
  loop_action a;
  a.command = "digest.send";
  a.ok = r.ok();
  a.detail = r ? std::to_string(*r) + " recipient(s)" : r.error();
  report.actions.push_back(std::move(a));
  return report;
}

}  // namespace certctl::schedulers
