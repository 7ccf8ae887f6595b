#pragma once
/// The scheduled certificate digest (docs/notifications.md "Digest"): every interval
/// (CERTCTL_DIGEST_INTERVAL, default 24 h; never at start) one Digest notification per
/// recipient on the Email channel, with the digest's text and HTML; the delivery loop sends
/// them. Recipients are CERTCTL_DIGEST_RECIPIENTS, or else the owners of certificates.
/// POST /api/v1/digest/send queues the same at once.
///
/// The content and the owner list come from the read models through injected functions, so
/// actors/ does not depend on projections/ (tools/server wires projections/digest.hpp in).

#include <functional>
#include <string>
#include <vector>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/schedulers/tick_report.hpp"
#include "events/result.hpp"

namespace certctl::schedulers {

struct digest_message {
  std::string subject;
  std::string text;
  std::string html;
};

struct digest_options {
  std::chrono::seconds interval{std::chrono::hours(24)};
  std::vector<std::string> recipients;  ///< "" = the certificate owners
  std::function<result<digest_message, std::string>(events::timestamp_us now)> build;
  std::function<result<std::vector<std::string>, std::string>()> owner_emails;
};

class digest_sender {
 public:
  digest_sender(actors::entity_runtime& runtime, digest_options options);

  /// Queues the digest for every recipient; `key` names this send (the scheduled period, or
  /// the request), so the same key queues nothing twice. The number queued, or why not.
  result<size_t, std::string> send(events::timestamp_us now, const std::string& key,
                                   tick_report& report);

  /// The scheduled send: keyed by the interval `now` falls in.
  tick_report tick(events::timestamp_us now);

  const digest_options& options() const { return options_; }

 private:
  actors::entity_runtime& runtime_;
  digest_options options_;
};

}  // namespace certctl::schedulers
