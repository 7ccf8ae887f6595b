#pragma once
/// What the five HTTP notifiers (Webhook, Slack, Teams, PagerDuty, OpsGenie) share: their
/// endpoint URL parsed once at creation, one JSON POST through the outbound guard (plain HTTP
/// via infra/net, HTTPS via infra/crypto/https_client), and one mapping of the answer to
/// connector_errc, so every channel retries (unavailable) and gives up (failed) alike.
///
/// Errors never quote the URL's path, query or headers: for Slack and Teams the URL is the
/// credential, for the others a header is.

#include <string>
#include <utility>
#include <vector>

#include "connectors/connector_error.hpp"
#include "connectors/notifiers/notifier.hpp"
#include "events/json.hpp"
#include "events/result.hpp"
#include "infra/crypto/https_client.hpp"
#include "infra/net/outbound_guard.hpp"

namespace certctl::connectors {

/// An http:// or https:// URL split for the outbound client.
struct http_endpoint {
  bool tls = true;
  std::string host;
  int port = 443;
  std::string path = "/";  ///< with the query, if any
};

/// Parses `url`; the error names `field` (the config field) but not the URL, which may carry
/// a token.
certctl::result<http_endpoint, connector_error> parse_endpoint(const std::string& url,
                                                               const std::string& field);

/// How a notifier reaches its endpoint.
struct http_channel_options {
  net::outbound_guard guard;
  net::outbound_limits limits;
  crypto::https_options tls;  ///< ca_bundle_path from the config; "" = system trust store
};

/// The fields every HTTP notifier config shares besides its URL or key.
http_channel_options channel_options(const net::outbound_guard& guard,
                                     const events::json_object& config);

/// POSTs `json` with `headers` (Content-Type: application/json is added). 2xx: the response;
/// 408, 425, 429, 5xx and transport failures: unavailable (a later retry may pass); a refused
/// destination: invalid_config; other statuses: failed. `who` ("Slack notifier n-1") starts
/// every message.
certctl::result<net::http_get_response, connector_error> post_json(
    const http_channel_options& options, const http_endpoint& endpoint, const std::string& json,
    std::vector<std::pair<std::string, std::string>> headers, const std::string& who);

/// The part every HTTP notifier shares: its channel name (also its type), id, endpoint and
/// options, and the "<Channel> notifier <id>" prefix of its messages. Subclasses build the
/// request their vendor documents in send().
class http_notifier : public notifier {
 public:
  http_notifier(std::string channel, std::string id, http_endpoint endpoint,
                http_channel_options options)
      : channel_(std::move(channel)),
        id_(std::move(id)),
        who_(channel_ + " notifier " + id_),
        endpoint_(std::move(endpoint)),
        options_(std::move(options)) {}

  std::string_view type() const override { return channel_; }
  const std::string& id() const override { return id_; }
  std::string_view channel() const override { return channel_; }

 private:
  const std::string channel_;
  const std::string id_;

 protected:
  const std::string who_;
  const http_endpoint endpoint_;
  const http_channel_options options_;
};

/// Refuses a notification routed to another channel (a routing bug should show, not be sent).
certctl::result<done, connector_error> check_channel(const notification& n,
                                                     std::string_view channel,
                                                     const std::string& who);

/// The notification's details as a JSON object text.
std::string details_json(const notification& n);

}  // namespace certctl::connectors
