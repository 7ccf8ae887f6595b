#pragma once
/// A notification: one message to one recipient over one channel, with its delivery record.
///
///   pending --sent--> sent --read--> read
///      |  ^
///   failed (retry_count < 5; next_retry_at = now + min(2^retry_count min, 1 h))
///      |
///   dead (5 attempts, or a permanent failure) --requeue--> pending (retry budget reset)
///
/// The id is chosen by whoever creates it; creating an existing id is a conflict, which is
/// how alerts are de-duplicated: the expiry loop names a notification after its (certificate,
/// threshold, channel) triple, so a second tick cannot send the same alert twice.

#include <cstdint>
#include <memory>
#include <string>

#include "domain/aggregate.hpp"

namespace certctl::domain {

/// Delivery attempts before a notification is dead.
inline constexpr std::int64_t notification_max_attempts = 5;

/// The wait after the `retry_count`-th failed attempt: 2^retry_count minutes, at most 1 hour.
std::int64_t notification_backoff_us(std::int64_t retry_count);

/// The channels a notification can go to (the reference's set).
bool is_notification_channel(const std::string& channel);

/// The notification types (NotificationType of the API).
bool is_notification_type(const std::string& type);

std::unique_ptr<aggregate> make_notification(const std::string& id);

/// Folds one notification event into its API view; the aggregate's apply() and the read model
/// both use it. Returns false for a type the view does not show.
bool fold_notification(events::json_object& view, const std::string& id,
                       const events::recorded_event& e, const events::json_object& payload);

}  // namespace certctl::domain
