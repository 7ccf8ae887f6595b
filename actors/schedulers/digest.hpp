#pragma once
/// The scheduled certificate digest (docs/notifications.md "Digest"): every interval
/// (CERTCTL_DIGEST_INTERVAL, default 24 h; never at start) one email per recipient with the
/// digest's text and HTML, sent through the Email notifier. Recipients are
/// CERTCTL_DIGEST_RECIPIENTS, or else the owners of certificates. POST /api/v1/digest/send
/// sends the same at once. The digest is a report, not an alert: it is not a notification
/// record (the API's NotificationType has no digest); a failed send is reported and the next
/// interval sends a fresh one.
///
/// The content and the owner list come from the read models through injected functions, so
/// actors/ does not depend on projections/ (tools/server wires projections/digest.hpp in).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/schedulers/tick_report.hpp"
#include "connectors/notifiers/notifier.hpp"
#include "events/result.hpp"

namespace certctl::schedulers {

struct digest_message {
  std::string subject;
  std::string text;
  std::string html;
};

struct digest_options {
  std::chrono::seconds interval{std::chrono::hours(24)};
  std::vector<std::string> recipients;  ///< empty = the certificate owners
  std::function<result<digest_message, std::string>(events::timestamp_us now)> build;
  std::function<result<std::vector<std::string>, std::string>()> owner_emails;
  std::shared_ptr<connectors::notifier> email;  ///< the Email channel
};

class digest_sender {
 public:
  explicit digest_sender(digest_options options);

  /// Builds the digest at `now` and mails it to every recipient: the number sent, or why
  /// nothing or not everything was sent (the first failure; the others are still tried).
  result<size_t, std::string> send(events::timestamp_us now);

  /// The scheduled send, as a loop report.
  tick_report tick(events::timestamp_us now);

 private:
  digest_options options_;
};

}  // namespace certctl::schedulers
