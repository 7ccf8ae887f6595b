#include "connectors/issuers/async_ca/async_ca.hpp"

#include <chrono>
#include <ctime>

#include "infra/crypto/certificate.hpp"

namespace certctl::connectors::async_ca {

certctl::result<issued_certificate, issuer_error> certificate_from_bundle(const std::string& pem,
                                                                          const std::string& who) {
  auto parts = crypto::split_pem_chain(pem);
  if (!parts || parts->empty())
    return issuer_error{issuer_errc::unavailable, who + ": the CA's bundle holds no certificate"};
  auto leaf = crypto::parse_certificate((*parts)[0]);
  if (!leaf)
    return issuer_error{issuer_errc::unavailable,
                        who + ": the CA's certificate does not parse: " + leaf.error().message};
  issued_certificate out;
  out.cert_pem = (*parts)[0];
  for (size_t i = 1; i < parts->size(); ++i) out.chain_pem += (*parts)[i];
  out.serial_hex = leaf->serial_hex;
  out.not_before_us = leaf->not_before * 1000000;
  out.not_after_us = leaf->not_after * 1000000;
  out.fingerprint_sha256_hex = leaf->fingerprint_sha256_hex;
  return out;
}

std::int64_t retry_after_seconds(const external_ca::http_reply& reply, std::int64_t fallback) {
  const std::string v = external_ca::header_value(reply, "retry-after");
  auto clamp = [](std::int64_t s) { return s < 1 ? 1 : (s > 3600 ? 3600 : s); };
  if (v.empty()) return fallback;
  if (v.find_first_not_of("0123456789") == std::string::npos && v.size() <= 9)
    return clamp(std::stoll(v));
  std::tm tm{};
  if (strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm) == nullptr) return fallback;
  const std::int64_t at = timegm(&tm);
  return clamp(at - now_us() / 1000000);
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool safe_id(const std::string& text) {
  if (text.empty() || text.size() > 128) return false;
  for (char c : text)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return false;
  return text != "." && text != "..";
}

certctl::result<common_settings, std::string> read_common_settings(
    const events::json_object& config, const std::vector<net::cidr>& outbound_allow) {
  common_settings out;
  out.poll_max_wait_seconds = config.int64("poll_max_wait_seconds", 600);
  if (out.poll_max_wait_seconds < 10 || out.poll_max_wait_seconds > 2592000)
    return std::string("poll_max_wait_seconds must be 10..2592000");
  const std::int64_t timeout = config.int64("timeout_seconds", 30);
  if (timeout < 1 || timeout > 300) return std::string("timeout_seconds must be 1..300");
  out.http.allow = outbound_allow;
  out.http.ca_bundle_path = config.str("ca_bundle_path");
  out.http.timeout = std::chrono::seconds(timeout);
  return out;
}

}  // namespace certctl::connectors::async_ca
