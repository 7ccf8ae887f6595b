// renewal-info (RFC 9773, ACME Renewal Information): a suggested renewal window per
// certificate, derived from its validity and its renewal policy.
#include <algorithm>
#include <chrono>

#include "events/time.hpp"
#include "gateways/acme/acme_impl.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/sha256.hpp"

namespace certctl::gateways::acme {
namespace {

constexpr std::int64_t seconds_per_day = 86400;
constexpr std::int64_t us_per_second = 1000000;

/// A certificate identifier (RFC 9773 §4.1) split into AKI and serial, both lower-case hex
/// (the serial without leading zero octets); nullopt when malformed.
struct cert_id {
  std::string aki_hex;
  std::string serial_hex;
};

std::optional<cert_id> parse_cert_id(const std::string& id) {
  const auto dot = id.find('.');
  if (dot == std::string::npos || id.find('.', dot + 1) != std::string::npos) return std::nullopt;
  const auto aki = crypto::base64url_decode(id.substr(0, dot));
  const auto serial = crypto::base64url_decode(id.substr(dot + 1));
  if (!aki || !serial || aki->empty() || serial->empty() || serial->size() > 20) {
    return std::nullopt;
  }
  // The serial is the DER INTEGER's content octets: positive, so a leading 0x00 only pads a
  // high bit; a negative serial is not something we issue.
  if (static_cast<unsigned char>(serial->front()) & 0x80) return std::nullopt;
  size_t skip = 0;
  while (skip + 1 < serial->size() && (*serial)[skip] == '\0') ++skip;
  auto hex = [](const std::string& s, size_t from) {
    return crypto::to_hex(reinterpret_cast<const std::uint8_t*>(s.data()) + from, s.size() - from);
  };
  return cert_id{hex(*aki, 0), hex(*serial, skip)};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char ch) { return std::tolower(ch); });
  return s;
}

}  // namespace

http::response acme_server::impl::renewal_info(const request& r) {
  const auto id = parse_cert_id(r.c.path_param("id"));
  if (!id) {
    return render(malformed(
        "the certificate identifier must be base64url(AKI keyIdentifier).base64url(serial)"));
  }
  std::string serial_upper = id->serial_hex;
  std::transform(serial_upper.begin(), serial_upper.end(), serial_upper.begin(),
                 [](unsigned char ch) { return std::toupper(ch); });
  auto version = deps.version_by_serial ? deps.version_by_serial(serial_upper) : std::nullopt;
  if (!version) return render(not_found_problem("no certificate with this serial was issued here"));
  auto leaf = crypto::parse_certificate(version->pem_chain);
  if (!leaf) return render({"serverInternal", 500, "stored certificate: " + leaf.error().message});
  // The AKI names the issuing CA: a certificate with our serial from another CA is not ours.
  if (lower(leaf->authority_key_id_hex) != id->aki_hex) {
    return render(not_found_problem("no certificate with this serial from this issuer"));
  }
  auto cert = deps.runtime.read("certificate", version->certificate_id);
  if (!cert) return render(from_domain(cert.error()));

  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::int64_t start = 0, end = 0;
  if (cert->view.str("status") == "Revoked") {
    // RFC 9773 §4.2: a window in the past asks the client to renew at once.
    start = now - 2 * 3600;
    end = now - 3600;
  } else {
    std::int64_t window_days = 30;
    const std::string policy_id = cert->view.str("renewal_policy_id");
    if (deps.renewal_policy && !policy_id.empty()) {
      if (auto p = deps.renewal_policy(policy_id)) {
        window_days = p->int64("renewal_window_days", window_days);
      }
    }
    start = std::max(leaf->not_before, leaf->not_after - window_days * seconds_per_day);
    end = std::min(leaf->not_after, start + (leaf->not_after - start) / 3);
    if (end <= start) end = std::min(leaf->not_after, start + 1);
  }
  http::json_writer w;
  w.begin_object().key("suggestedWindow").begin_object();
  w.field("start", events::format_rfc3339(start * us_per_second))
      .field("end", events::format_rfc3339(end * us_per_second));
  w.end_object().end_object();
  auto resp = json(w.str());
  resp.with_header("Retry-After", std::to_string(opt.renewal_info_retry_after.count()));
  return resp;
}

}  // namespace certctl::gateways::acme
