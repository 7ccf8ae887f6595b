#pragma once
/// The delivery loop: sends every due notification (pending, or failed with next_retry_at
/// passed) through the notifier of its channel and records the outcome on the entity
/// (notification.record_delivery): sent; failed with backoff 2^n minutes up to 1 h; dead after
/// 5 attempts or a permanent refusal (domain/notification.hpp).
///
/// Before sending, the loop re-reads the notification entity (not the read model) and skips it
/// unless it is still due, so a lagging read model does not send a message twice. Run it on
/// one node of a cluster (a singleton): two nodes sending the same due notification at once
/// would both send.

#include <functional>
#include <string>

#include "actors/runtime/entity_runtime.hpp"
#include "actors/schedulers/notification_source.hpp"
#include "actors/schedulers/tick_report.hpp"
#include "connectors/notifiers/common/channel_set.hpp"

namespace certctl::schedulers {

/// One delivery attempt, for metrics and logs: the notification as it was before the attempt.
struct delivery_attempt {
  events::json_object notification;
  bool delivered = false;
  bool dead = false;  ///< the attempt made it dead
  std::string error;  ///< the notifier's message (never a secret)
};

struct notification_delivery_options {
  size_t batch = 200;
  std::function<void(const delivery_attempt&)> on_attempt;
};

class notification_delivery {
 public:
  /// `channels` must outlive the loop.
  notification_delivery(actors::entity_runtime& runtime, notification_source& source,
                        const connectors::channel_set& channels,
                        notification_delivery_options options = {});

  tick_report tick(events::timestamp_us now);

 private:
  actors::entity_runtime& runtime_;
  notification_source& source_;
  const connectors::channel_set& channels_;
  notification_delivery_options options_;
};

/// A notification entity's view as the notifier's message.
connectors::notification to_message(const events::json_object& view);

}  // namespace certctl::schedulers
