#include "connectors/issuers/external_ca.hpp"

#include <algorithm>
#include <cctype>

#include "infra/crypto/certificate.hpp"
#include "infra/crypto/https_client.hpp"

namespace certctl::connectors::external_ca {
namespace {

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

constexpr std::int64_t us_per_s = 1000000;

/// The failure class of a transport error, without the address or port (detail is for logs).
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

}  // namespace

certctl::result<crypto::csr_info, issuer_error> check_csr(const issuance_request& r) {
  auto csr = crypto::parse_csr(r.csr_pem);  // verifies the CSR's signature
  if (!csr) return fail(issuer_errc::bad_csr, csr.error().message);
  static const std::vector<std::string> all = {"ECDSA", "RSA", "Ed25519"};
  const auto& allowed = r.allowed_key_algorithms.empty() ? all : r.allowed_key_algorithms;
  if (std::find(allowed.begin(), allowed.end(), csr->key_algorithm) == allowed.end())
    return fail(
        issuer_errc::policy_violation,
        "key algorithm " + csr->key_algorithm + " is not allowed (allowed: " + join(allowed) + ")");
  if (csr->key_algorithm == "RSA" && csr->key_bits < std::max(r.min_rsa_bits, 2048))
    return fail(issuer_errc::policy_violation, "RSA key of " + std::to_string(csr->key_bits) +
                                                   " bits is below the minimum of " +
                                                   std::to_string(std::max(r.min_rsa_bits, 2048)));
  if (csr->key_algorithm == "ECDSA" && csr->key_curve != "P-256" && csr->key_curve != "P-384" &&
      csr->key_curve != "P-521")
    return fail(issuer_errc::policy_violation, "EC curve " + csr->key_curve + " is not allowed");
  return std::move(csr).value();
}

certctl::result<issued_certificate, issuer_error> accept_certificate(
    const crypto::csr_info& csr, const issuance_request& request, const std::string& cert_pem,
    const std::string& chain_pem, const std::string& who) {
  auto parts = crypto::split_pem_chain(cert_pem);
  if (!parts || parts->empty())
    return fail(issuer_errc::unavailable, who + " returned no PEM certificate");
  auto leaf = crypto::parse_certificate(parts->front());
  if (!leaf) return fail(issuer_errc::unavailable, who + " returned " + leaf.error().message);
  if (leaf->public_key_der != csr.public_key_der)
    return fail(issuer_errc::unavailable,
                who + " returned a certificate for another key than the CSR's; not accepted");
  if (request.max_ttl_us > 0 &&
      (leaf->not_after - leaf->not_before) * us_per_s > request.max_ttl_us + 300 * us_per_s)
    return fail(issuer_errc::policy_violation,
                who + " issued a certificate valid for " +
                    std::to_string((leaf->not_after - leaf->not_before) / 86400) +
                    " days, beyond the profile's maximum; not accepted");
  issued_certificate out;
  out.cert_pem = parts->front();
  std::string chain;
  if (!chain_pem.empty()) {
    auto c = crypto::split_pem_chain(chain_pem);
    if (!c)
      return fail(issuer_errc::unavailable, who + " returned a bad chain: " + c.error().message);
    for (const auto& p : *c) chain += p;
  } else {
    for (size_t i = 1; i < parts->size(); ++i) chain += (*parts)[i];
  }
  out.chain_pem = chain;
  out.serial_hex = leaf->serial_hex;
  out.not_before_us = leaf->not_before * us_per_s;
  out.not_after_us = leaf->not_after * us_per_s;
  out.fingerprint_sha256_hex = leaf->fingerprint_sha256_hex;
  return out;
}

certctl::result<std::string, issuer_error> normalise_serial(const std::string& serial_hex) {
  std::string s = serial_hex;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s = s.substr(2);
  if (s.empty() || s.size() > 64 ||
      !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; }))
    return fail(issuer_errc::invalid_request, "serial must be 1 to 64 hex digits (^[0-9a-fA-F]+$)");
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

certctl::result<std::pair<std::string, int>, issuer_error> check_reason(const std::string& reason) {
  // RFC 5280 §5.3.1; value 7 is unused by the RFC.
  static const std::pair<const char*, int> codes[] = {
      {"unspecified", 0},        {"keyCompromise", 1}, {"caCompromise", 2},
      {"affiliationChanged", 3}, {"superseded", 4},    {"cessationOfOperation", 5},
      {"certificateHold", 6},    {"removeFromCRL", 8}, {"privilegeWithdrawn", 9},
      {"aaCompromise", 10}};
  const std::string r = reason.empty() ? "unspecified" : reason;
  for (const auto& [name, code] : codes)
    if (r == name) return std::make_pair(std::string(name), code);
  return fail(issuer_errc::invalid_request,
              "revocation reason '" + excerpt(reason, 40) + "' is not an RFC 5280 reason");
}

std::int64_t requested_lifetime_seconds(const issuance_request& r, std::int64_t default_seconds) {
  std::int64_t s = r.ttl_us > 0 ? r.ttl_us / us_per_s : default_seconds;
  if (r.max_ttl_us > 0) s = std::min(s, r.max_ttl_us / us_per_s);
  return std::max<std::int64_t>(s, 60);
}

certctl::result<https_url, issuer_error> parse_https_url(const std::string& url,
                                                         const std::string& field) {
  const std::string scheme = "https://";
  auto bad = [&](const std::string& why) {
    return fail(issuer_errc::invalid_request, field + " '" + excerpt(url, 100) + "' " + why);
  };
  if (url.compare(0, scheme.size(), scheme) != 0) return bad("must start with https://");
  std::string rest = url.substr(scheme.size());
  const size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  https_url out;
  out.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  if (authority.find('@') != std::string::npos) return bad("must not carry credentials");
  size_t colon = authority.rfind(':');
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
      return bad("must be a plain https URL without query or fragment");
  return out;
}

certctl::result<http_reply, issuer_error> https_client::call(
    const std::string& method, const std::string& path, const std::string& body,
    std::vector<std::pair<std::string, std::string>> headers) const {
  net::outbound_guard guard(options_.allow);
  net::http_get_request req;
  req.host = url_.host;
  req.port = url_.port;
  req.path = url_.base_path + path;
  req.method = method;
  req.body = body;
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  req.headers = std::move(headers);
  net::outbound_limits limits;
  limits.connect_timeout = std::min(options_.timeout, std::chrono::milliseconds(10000));
  limits.io_timeout = options_.timeout;
  limits.max_response_bytes = options_.max_response_bytes;
  crypto::https_options tls;
  tls.ca_bundle_path = options_.ca_bundle_path;
  tls.client_cert_path = options_.client_cert_path;
  tls.client_key_path = options_.client_key_path;
  tls.cache = tls_;
  auto r = crypto::https_get(guard, req, limits, tls);
  if (!r) {
    const std::string what = who_ + ": " + method + " " + path + " failed: ";
    switch (crypto::tls_failure_of(r.error())) {
      case crypto::tls_failure::client_identity:
        // Our own files, so the detail (paths, OpenSSL's reason) is the operator's to see.
        return fail(issuer_errc::invalid_request, what + excerpt(r.error().detail));
      case crypto::tls_failure::client_cert_refused:
        return fail(issuer_errc::invalid_request,
                    what +
                        "the CA refused our TLS client certificate (not issued by a CA it "
                        "trusts, expired, revoked or missing); check client_cert_path");
      case crypto::tls_failure::other:
        break;
    }
    return fail(issuer_errc::unavailable, what + failure_class(r.error().code));
  }
  http_reply out;
  out.status = r->status;
  out.headers = std::move(r->headers);
  out.body = std::move(r->body);
  if (auto doc = events::json_object::parse(out.body)) out.json = std::move(*doc);
  return out;
}

std::string excerpt(const std::string& text, std::size_t max) {
  std::string out = text.substr(0, max);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (text.size() > max) out += "...";
  return out;
}

std::string header_value(const http_reply& reply, const std::string& name) {
  for (const auto& [key, value] : reply.headers)
    if (key == name) return value;
  return {};
}

issuer_error http_error(const http_reply& reply, const std::string& who, const std::string& op,
                        const std::string& words) {
  const std::string said = excerpt(words.empty() ? reply.body : words);
  const std::string text = who + ": " + op + " answered " + std::to_string(reply.status) +
                           (said.empty() ? "" : ": ") + said;
  switch (reply.status) {
    case 400:
    case 409:
    case 422:
      return fail(issuer_errc::policy_violation, text);
    case 401:
    case 403:
      return fail(issuer_errc::invalid_request,
                  text +
                      " (authentication or authorisation refused: check the credentials and "
                      "the client certificate)");
    case 404:
      return fail(issuer_errc::invalid_request, text + " (not found)");
    case 429: {
      const std::string after = header_value(reply, "retry-after");
      return fail(issuer_errc::unavailable,
                  text + " (rate limited" +
                      (after.empty() ? "" : "; the CA asks to retry after " + excerpt(after, 40)) +
                      ")");
    }
    default:
      return fail(issuer_errc::unavailable, text);
  }
}

certctl::result<issued_certificate, issuer_error> certificate_of_order(const std::string& cert_pem,
                                                                       const std::string& chain_pem,
                                                                       const std::string& who) {
  auto parts = crypto::split_pem_chain(cert_pem);
  if (!parts || parts->empty())
    return fail(issuer_errc::unavailable, who + " returned no PEM certificate");
  auto leaf = crypto::parse_certificate(parts->front());
  if (!leaf) return fail(issuer_errc::unavailable, who + " returned " + leaf.error().message);
  issued_certificate out;
  out.cert_pem = parts->front();
  if (!chain_pem.empty()) {
    auto c = crypto::split_pem_chain(chain_pem);
    if (!c)
      return fail(issuer_errc::unavailable, who + " returned a bad chain: " + c.error().message);
    for (const auto& p : *c) out.chain_pem += p;
  } else {
    for (size_t i = 1; i < parts->size(); ++i) out.chain_pem += (*parts)[i];
  }
  out.serial_hex = leaf->serial_hex;
  out.not_before_us = leaf->not_before * us_per_s;
  out.not_after_us = leaf->not_after * us_per_s;
  out.fingerprint_sha256_hex = leaf->fingerprint_sha256_hex;
  return out;
}

certctl::result<done, issuer_error> check_client_identity(const std::string& who,
                                                          const std::string& cert_path,
                                                          const std::string& key_path) {
  if (cert_path.empty() || key_path.empty())
    return fail(issuer_errc::invalid_request,
                who + ": client_cert_path and client_key_path are required (mutual TLS)");
  auto ok = crypto::check_client_identity(cert_path, key_path);
  if (!ok)
    return fail(issuer_errc::invalid_request,
                who + ": client_cert_path / client_key_path: " + ok.error().message);
  return done{};
}

events::json_object object_of(const events::json_object& j, const char* key) {
  if (!j.is_object(key)) return {};
  return events::json_object::parse(j.raw(key)).value_or(events::json_object{});
}

}  // namespace certctl::connectors::external_ca
