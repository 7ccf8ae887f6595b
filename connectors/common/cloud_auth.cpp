// Endpoints, the guarded transport and Google's service-account grant (RFC 7523 §2.1).
#include <algorithm>
#include <cctype>
#include <ctime>

#include "connectors/common/cloud_auth.hpp"
#include "events/json.hpp"
#include "infra/crypto/https_client.hpp"
#include "infra/crypto/jwt.hpp"
#include "infra/net/outbound_http.hpp"

namespace certctl::connectors::cloud_auth {
namespace {

auth_error fail(auth_errc code, std::string message) {
  return auth_error{code, std::move(message)};
}

const char* failure_class(net::outbound_errc c) {
  switch (c) {
    case net::outbound_errc::timeout:
      return "timed out";
    case net::outbound_errc::refused_address:
      return "address refused by the outbound policy (CERTCTL_OUTBOUND_ALLOW_CIDRS)";
    case net::outbound_errc::resolve_failed:
      return "name not resolved";
    case net::outbound_errc::too_large:
      return "response too large";
    case net::outbound_errc::protocol_error:
      return "not an HTTP response";
    case net::outbound_errc::invalid_request:
      return "invalid request";
    case net::outbound_errc::connect_failed:
    case net::outbound_errc::io_error:
      break;
  }
  return "connection or TLS verification failed";
}

std::string url_encode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

}  // namespace

std::int64_t system_seconds() {
  return static_cast<std::int64_t>(std::time(nullptr));
}

certctl::result<endpoint, auth_error> parse_endpoint(const std::string& url,
                                                     const std::string& field, bool allow_http) {
  auto bad = [&](const std::string& why) {
    return fail(auth_errc::invalid_config, field + " '" + url.substr(0, 100) + "' " + why);
  };
  endpoint out;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (allow_http && url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
    out.tls = false;
    out.port = 80;
  } else {
    return bad(allow_http ? "must start with http:// or https://" : "must start with https://");
  }
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  if (authority.find('@') != std::string::npos) return bad("must not carry credentials");
  const size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
      return bad("has a bad port");
    out.port = std::stoi(port);
    if (out.port < 1 || out.port > 65535) return bad("has a bad port");
    authority = authority.substr(0, colon);
  }
  if (authority.empty()) return bad("has no host");
  out.host = authority;
  for (char c : out.base_path + out.host)
    if (static_cast<unsigned char>(c) <= 0x20 || c == '?' || c == '#')
      return bad("must be a plain URL without query or fragment");
  return out;
}

std::string host_header(const endpoint& e) {
  return e.port == (e.tls ? 443 : 80) ? e.host : e.host + ":" + std::to_string(e.port);
}

certctl::result<http_answer, auth_error> call(
    const endpoint& e, const transport_options& o, const std::string& who,
    const std::string& method, const std::string& path_and_query,
    std::vector<std::pair<std::string, std::string>> headers, const std::string& body) {
  net::outbound_guard guard(o.allow);
  net::http_get_request req;
  req.host = e.host;
  req.port = e.port;
  req.path = e.base_path + path_and_query;
  if (req.path.empty()) req.path = "/";
  req.method = method;
  req.body = body;
  req.headers = std::move(headers);
  net::outbound_limits limits;
  limits.connect_timeout = std::min(o.timeout, std::chrono::milliseconds(10000));
  limits.io_timeout = o.timeout;
  limits.max_response_bytes = 1024 * 1024;
  auto r = e.tls ? crypto::https_get(guard, req, limits, crypto::https_options{o.ca_bundle_path})
                 : net::http_get(guard, req, limits);
  if (!r)
    return fail(auth_errc::unavailable,
                who + ": " + method + " failed: " + failure_class(r.error().code));
  return http_answer{r->status, std::move(r->headers), std::move(r->body)};
}

certctl::result<google_service_account, auth_error> parse_google_service_account(
    const std::string& json) {
  auto doc = events::json_object::parse(json);
  // Never quote the document: it holds the private key.
  if (!doc) return fail(auth_errc::invalid_config, "the service-account key is not JSON");
  if (doc->has("type") && doc->str("type") != "service_account")
    return fail(
        auth_errc::invalid_config,
        "the key file's type is '" + doc->str("type").substr(0, 40) + "', not service_account");
  google_service_account a;
  a.client_email = doc->str("client_email");
  a.private_key_pem = doc->str("private_key");
  a.private_key_id = doc->str("private_key_id");
  a.token_uri = doc->str("token_uri", "https://oauth2.googleapis.com/token");
  if (a.client_email.empty() || a.private_key_pem.empty())
    return fail(auth_errc::invalid_config,
                "the service-account key lacks client_email or private_key");
  return a;
}

google_token_source::google_token_source(google_service_account account, std::string scope,
                                         std::string token_url, transport_options options,
                                         std::string who, std::chrono::seconds refresh_margin,
                                         clock_fn now)
    : account_(std::move(account)),
      scope_(std::move(scope)),
      token_url_(token_url.empty() ? account_.token_uri : std::move(token_url)),
      who_(std::move(who)),
      options_(std::move(options)),
      margin_(refresh_margin),
      now_(std::move(now)) {}

certctl::result<std::string, auth_error> google_token_source::access_token() {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::int64_t now = now_();
  if (!token_.empty() && now + margin_.count() < expires_at_) return token_;
  auto url = parse_endpoint(token_url_, "token URL");
  if (!url) return url.error();
  // The assertion's audience is the token endpoint it is presented to (RFC 7523 §3).
  events::json_object claims;
  claims.set("iss", account_.client_email)
      .set("scope", scope_)
      .set("aud", token_url_)
      .set("iat", now)
      .set("exp", now + 3600);
  auto jwt =
      crypto::sign_compact_jws(account_.private_key_pem, account_.private_key_id, claims.dump());
  if (!jwt)
    return fail(auth_errc::invalid_config, who_ + ": cannot sign with the service-account key");
  const std::string body =
      "grant_type=" + url_encode("urn:ietf:params:oauth:grant-type:jwt-bearer") +
      "&assertion=" + url_encode(*jwt);
  auto r = call(*url, options_, who_ + " token endpoint", "POST", "",
                {{"Content-Type", "application/x-www-form-urlencoded"}}, body);
  if (!r) return r.error();
  auto doc = events::json_object::parse(r->body);
  if (r->status != 200) {
    std::string why = doc ? doc->str("error_description", doc->str("error")) : "";
    const std::string text = who_ + ": the token endpoint answered " + std::to_string(r->status) +
                             (why.empty() ? "" : ": " + why.substr(0, 200));
    return fail(r->status >= 500 || r->status == 429 ? auth_errc::unavailable : auth_errc::rejected,
                text);
  }
  if (!doc || doc->str("access_token").empty())
    return fail(auth_errc::unavailable, who_ + ": token answer without access_token");
  token_ = doc->str("access_token");
  expires_at_ = now + doc->int64("expires_in", 3600);
  ++exchanges_;
  return token_;
}

void google_token_source::forget() {
  std::lock_guard<std::mutex> lock(mutex_);
  token_.clear();
  expires_at_ = 0;
}

int google_token_source::exchanges() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return exchanges_;
}

}  // namespace certctl::connectors::cloud_auth
