#include "connectors/discovery/cloud/cloud_common.hpp"

#include <algorithm>
#include <cctype>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/https_client.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/net/outbound_http.hpp"

namespace certctl::connectors::cloud {

namespace {

connector_error bad(connector_errc c, std::string m) {
  return connector_error{c, std::move(m)};
}

const char* failure_class(net::outbound_errc c) {
  switch (c) {
    case net::outbound_errc::refused_address:
      return "destination refused by the outbound policy";
    case net::outbound_errc::timeout:
      return "timed out";
    case net::outbound_errc::too_large:
      return "answer too large";
    case net::outbound_errc::connect_failed:
      return "cannot connect (or TLS verification failed)";
    default:
      return "transport error";
  }
}

std::string excerpt(const std::string& text, std::size_t max = 200) {
  std::string out = text.substr(0, max);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace

certctl::result<https_url, connector_error> parse_https_url(const std::string& url,
                                                            const std::string& field) {
  const std::string scheme = "https://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return bad(connector_errc::invalid_config, field + " must be an https:// URL");
  std::string rest = url.substr(scheme.size());
  https_url out;
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) out.base_path = rest.substr(slash);
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  if (out.base_path.find_first_of("?#") != std::string::npos)
    return bad(connector_errc::invalid_config, field + " must not carry a query or fragment");
  if (authority.find('@') != std::string::npos)
    return bad(connector_errc::invalid_config, field + " must not carry credentials");
  const auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(),
                     [](unsigned char ch) { return std::isdigit(ch) != 0; }))
      return bad(connector_errc::invalid_config, field + " has an invalid port");
    out.port = std::stoi(port);
    if (out.port < 1 || out.port > 65535)
      return bad(connector_errc::invalid_config, field + " has an invalid port");
    authority.resize(colon);
  }
  if (authority.empty()) return bad(connector_errc::invalid_config, field + " has no host");
  out.host = authority;
  return out;
}

std::string host_header(const https_url& url) {
  return url.port == 443 ? url.host : url.host + ":" + std::to_string(url.port);
}

certctl::result<http_reply, connector_error> call(
    const https_url& url, const http_options& options, const std::string& who,
    const std::string& method, const std::string& path_and_query,
    std::vector<std::pair<std::string, std::string>> headers, const std::string& body) {
  const net::outbound_guard guard(options.allow);
  net::http_get_request req;
  req.host = url.host;
  req.port = url.port;
  req.host_header = host_header(url);
  req.path = url.base_path + path_and_query;
  if (req.path.empty()) req.path = "/";  // a token URI without a path
  req.method = method;
  req.body = body;
  req.headers = std::move(headers);
  net::outbound_limits limits;
  limits.connect_timeout = std::min(options.timeout, std::chrono::milliseconds(10000));
  limits.io_timeout = options.timeout;
  limits.max_response_bytes = options.max_response_bytes;
  auto r = crypto::https_get(guard, req, limits, crypto::https_options{options.ca_bundle_path});
  if (!r)
    return bad(connector_errc::unavailable,
               who + ": " + method + " failed: " + failure_class(r.error().code));
  http_reply out;
  out.status = r->status;
  out.body = std::move(r->body);
  if (auto doc = events::json_object::parse(out.body)) out.json = std::move(*doc);
  return out;
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

std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += '&';
    out += url_encode(k) + "=" + url_encode(v);
  }
  return out;
}

std::optional<std::string> base64_decode(const std::string& text) {
  std::string url;
  url.reserve(text.size());
  for (char c : text) {
    if (c == '+')
      url += '-';
    else if (c == '/')
      url += '_';
    else if (c == '=' || c == '\n' || c == '\r')
      continue;
    else if (c == '-' || c == '_')
      return std::nullopt;  // base64url letters are not standard base64
    else
      url += c;
  }
  return crypto::base64url_decode(url);
}

std::optional<discovered_certificate> certificate_from(const std::string& content,
                                                       const std::string& location) {
  std::string pem;
  if (content.find("-----BEGIN CERTIFICATE-----") != std::string::npos) {
    auto chain = crypto::split_pem_chain(content);
    if (!chain || chain->empty()) return std::nullopt;
    pem = chain->front();
  } else {
    crypto::bytes der(content.begin(), content.end());
    auto as_pem = crypto::certificate_der_to_pem(der);
    if (!as_pem) {
      auto decoded = base64_decode(content);
      if (!decoded) return std::nullopt;
      as_pem = crypto::certificate_der_to_pem(crypto::bytes(decoded->begin(), decoded->end()));
      if (!as_pem) return std::nullopt;
    }
    pem = *as_pem;
  }
  auto info = crypto::parse_certificate(pem);
  if (!info) return std::nullopt;
  discovered_certificate c;
  c.fingerprint_sha256_hex = info->fingerprint_sha256_hex;
  c.location = location;
  c.common_name = info->common_name;
  c.sans = info->sans.dns;
  for (const auto& ip : info->sans.ip) c.sans.push_back(ip);
  c.issuer_dn = info->issuer_dn;
  c.serial_hex = info->serial_hex;
  c.not_before_us = info->not_before * 1000000;
  c.not_after_us = info->not_after * 1000000;
  c.cert_pem = pem;
  return c;
}

connector_error answer_error(const http_reply& reply, const std::string& who,
                             const std::string& what) {
  const bool retry = reply.status == 429 || reply.status >= 500;
  return bad(
      retry ? connector_errc::unavailable : connector_errc::failed,
      who + ": " + what + " answered " + std::to_string(reply.status) + ": " + excerpt(reply.body));
}

}  // namespace certctl::connectors::cloud
