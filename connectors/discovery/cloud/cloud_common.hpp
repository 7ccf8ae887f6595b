#pragma once
/// What the cloud secret-store discovery sources (aws_sm, azure_kv, gcp_sm) share: a JSON and
/// form client for the vendors' HTTPS APIs that goes through the outbound guard (infra/net,
/// CERTCTL_OUTBOUND_ALLOW_CIDRS) with a deadline and a response cap, and the step every source
/// ends with: turning a secret's content (PEM, DER or base64 DER) into a found certificate.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connectors/discovery/discovery_source.hpp"
#include "events/json.hpp"
#include "infra/net/ip_address.hpp"

namespace certctl::connectors::cloud {

/// "https://host[:port][/base]" split.
struct https_url {
  std::string host;
  int port = 443;
  std::string base_path;  ///< without a trailing '/'; "" for the root
};

/// invalid_config naming `field` unless `url` is https with a host (and at most a path).
certctl::result<https_url, connector_error> parse_https_url(const std::string& url,
                                                            const std::string& field);

struct http_options {
  std::vector<net::cidr> allow;  ///< CERTCTL_OUTBOUND_ALLOW_CIDRS
  std::string ca_bundle_path;    ///< trust anchors of the API; "" = the system store
  std::chrono::milliseconds timeout{30000};
  std::size_t max_response_bytes = 4 * 1024 * 1024;
};

struct http_reply {
  int status = 0;
  std::string body;
  events::json_object json;  ///< the body parsed; empty when not a JSON object
};

/// One request to `url` (its base path + `path_and_query`). Headers are sent as given; the
/// body's Content-Type must be among them. Transport failures are `unavailable` naming `who`
/// and the failure class, never the address.
certctl::result<http_reply, connector_error> call(
    const https_url& url, const http_options& options, const std::string& who,
    const std::string& method, const std::string& path_and_query,
    std::vector<std::pair<std::string, std::string>> headers = {}, const std::string& body = {});

/// The Host header call() sends for `url`: "host", or "host:port" when the port is not 443.
std::string host_header(const https_url& url);

/// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string url_encode(const std::string& text);
/// application/x-www-form-urlencoded body of `fields`.
std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields);
/// Standard base64 (RFC 4648 §4, padding optional); nullopt when not base64.
std::optional<std::string> base64_decode(const std::string& text);

/// The certificate in a secret's `content` (PEM: its first certificate; else DER; else
/// base64 of DER), found at `location`; nullopt when the content holds none.
std::optional<discovered_certificate> certificate_from(const std::string& content,
                                                       const std::string& location);

/// A failed answer as a connector error: 401/403 and other 4xx are `failed`, 429 and 5xx
/// `unavailable`; the message names `who`, `what` and the status with an excerpt of the body.
connector_error answer_error(const http_reply& reply, const std::string& who,
                             const std::string& what);

/// Most pages any source follows in one list(): a peer that always answers "more" stops here.
inline constexpr int max_pages = 200;

}  // namespace certctl::connectors::cloud
