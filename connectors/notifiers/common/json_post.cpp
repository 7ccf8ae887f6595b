#include "connectors/notifiers/common/json_post.hpp"

#include <cctype>

#include "infra/net/outbound_http.hpp"

namespace certctl::connectors {

certctl::result<http_endpoint, connector_error> parse_endpoint(const std::string& url,
                                                               const std::string& field) {
  const connector_error bad{connector_errc::invalid_config,
                            "config." + field + " must be an http:// or https:// URL with a host"};
  http_endpoint e;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    e.tls = true;
    e.port = 443;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    e.tls = false;
    e.port = 80;
    rest = url.substr(7);
  } else {
    return bad;
  }
  const auto slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) e.path = rest.substr(slash);
  if (!e.path.empty() && e.path.front() == '?') e.path = "/" + e.path;
  if (authority.empty() || authority.find('@') != std::string::npos) return bad;
  // [v6]:port, host:port, host
  std::string port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return bad;
    e.host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad;
      port_text = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.find(':'); colon != std::string::npos) {
    e.host = authority.substr(0, colon);
    port_text = authority.substr(colon + 1);
  } else {
    e.host = authority;
  }
  if (e.host.empty()) return bad;
  if (!port_text.empty()) {
    if (port_text.size() > 5) return bad;
    for (char c : port_text)
      if (!std::isdigit(static_cast<unsigned char>(c))) return bad;
    e.port = std::stoi(port_text);
    if (e.port < 1 || e.port > 65535) return bad;
  }
  for (char c : e.path)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return bad;
  return e;
}

http_channel_options channel_options(const net::outbound_guard& guard,
                                     const events::json_object& config) {
  http_channel_options o{guard, {}, {}};
  o.tls.ca_bundle_path = config.str("ca_bundle_path");
  const auto timeout = config.int64("timeout_seconds", 10);
  if (timeout > 0 && timeout <= 300) o.limits.io_timeout = std::chrono::seconds(timeout);
  return o;
}

certctl::result<net::http_get_response, connector_error> post_json(
    const http_channel_options& options, const http_endpoint& endpoint, const std::string& json,
    std::vector<std::pair<std::string, std::string>> headers, const std::string& who) {
  net::http_get_request req;
  req.method = "POST";
  req.host = endpoint.host;
  req.port = endpoint.port;
  req.path = endpoint.path;
  req.body = json;
  req.headers = std::move(headers);
  req.headers.emplace_back("Content-Type", "application/json");
  auto r = endpoint.tls ? crypto::https_get(options.guard, req, options.limits, options.tls)
                        : net::http_get(options.guard, req, options.limits);
  if (!r) {
    const auto& e = r.error();
    // The detail names host, address and port, never the path: safe for logs and callers.
    if (e.code == net::outbound_errc::refused_address)
      return connector_error{
          connector_errc::invalid_config,
          who + ": destination not permitted by the outbound policy (" + e.detail + ")"};
    if (e.code == net::outbound_errc::invalid_request)
      return connector_error{connector_errc::invalid_config, who + ": " + e.log_line()};
    return connector_error{connector_errc::unavailable, who + ": " + e.log_line()};
  }
  const int status = r->status;
  if (status >= 200 && status < 300) return std::move(*r);
  // The body of an error answer is the vendor's reason ("invalid_payload", "no_service");
  // cut short, it helps the operator and carries nothing of ours.
  std::string reason = r->body.substr(0, 200);
  for (char& c : reason)
    if (c == '\r' || c == '\n') c = ' ';
  const std::string text = who + ": HTTP " + std::to_string(status) +
                           (reason.empty() ? std::string() : " (" + reason + ")");
  if (status == 408 || status == 425 || status == 429 || status >= 500)
    return connector_error{connector_errc::unavailable, text};
  return connector_error{connector_errc::failed, text};
}

certctl::result<done, connector_error> check_channel(const notification& n,
                                                     std::string_view channel,
                                                     const std::string& who) {
  if (n.channel != channel)
    return connector_error{connector_errc::invalid_request,
                           who + " serves channel " + std::string(channel) + ", not " + n.channel};
  return done{};
}

std::string details_json(const notification& n) {
  events::json_object d;
  d.set("details", n.details);
  return d.raw("details");
}

}  // namespace certctl::connectors
