#pragma once
/// The notifier interface (DESIGN §11): tells people or systems about certificate events
/// (expiry warnings, renewal failures, deployment results) over one channel (email, webhook,
/// chat, paging). Implementations are registered by type name (registry.hpp).
///
/// send() is synchronous and may block; callers run it on worker threads and decide about
/// retries from the error code (unavailable: retry later; failed: the peer refused it).

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "connectors/connector_error.hpp"
#include "events/result.hpp"

namespace certctl::connectors {

enum class severity { info, warning, critical };

std::string_view to_string(severity s);

struct notification {
  /// "Email", "Webhook", "Slack", ...: the channel the caller routed this to. A notifier
  /// refuses a notification for another channel (invalid_request), so routing errors show.
  std::string channel;
  severity level = severity::info;
  std::string recipient;  ///< channel-specific: an address, a room; "" for the configured one
  std::string subject;
  std::string body;       ///< plain text
  std::string html_body;  ///< optional HTML alternative (email sends both, multipart)
  /// Webhook only: a JSON document to POST as it is instead of the notifier's own (an event
  /// of the log, for webhook subscriptions); still signed.
  std::string json_body;
  std::string event_type;  ///< e.g. "certificate.expiring"
  std::string certificate_id;
  std::map<std::string, std::string> details;
};

struct delivery {
  std::string message_id;  ///< the peer's id for the message, when it gives one
  std::int64_t sent_at_us = 0;
};

class notifier {
 public:
  virtual ~notifier() = default;

  virtual std::string_view type() const = 0;
  virtual const std::string& id() const = 0;
  /// The channel this notifier serves, e.g. "Email".
  virtual std::string_view channel() const = 0;

  virtual certctl::result<delivery, connector_error> send(const notification& n) = 0;
};

}  // namespace certctl::connectors
