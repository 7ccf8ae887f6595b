#include "connectors/issuers/local/local_ca.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <memory>

#include "connectors/issuers/local/local_ca_state.hpp"
#include "events/time.hpp"
#include "infra/crypto/csr.hpp"

namespace certctl::connectors {

namespace {

constexpr std::int64_t us_per_s = 1'000'000;
constexpr int max_rsa_bits = 8192;  // larger keys only make verification slow for everyone

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

/// The request's key policy against what the CSR carries.
certctl::result<done, issuer_error> check_key_policy(const issuance_request& r,
                                                     const crypto::csr_info& csr) {
  static const std::vector<std::string> all = {"ECDSA", "RSA", "Ed25519"};
  const auto& allowed = r.allowed_key_algorithms.empty() ? all : r.allowed_key_algorithms;
  if (std::find(allowed.begin(), allowed.end(), csr.key_algorithm) == allowed.end())
    return fail(
        issuer_errc::policy_violation,
        "key algorithm " + csr.key_algorithm + " is not allowed (allowed: " + join(allowed) + ")");
  if (csr.key_algorithm == "RSA") {
    const int min_bits = std::max(r.min_rsa_bits, 2048);
    if (csr.key_bits < min_bits)
      return fail(issuer_errc::policy_violation, "RSA key of " + std::to_string(csr.key_bits) +
                                                     " bits is below the minimum of " +
                                                     std::to_string(min_bits));
    if (csr.key_bits > max_rsa_bits)
      return fail(issuer_errc::policy_violation, "RSA key of " + std::to_string(csr.key_bits) +
                                                     " bits exceeds the maximum of " +
                                                     std::to_string(max_rsa_bits));
  }
  if (csr.key_algorithm == "ECDSA" && csr.key_curve != "P-256" && csr.key_curve != "P-384" &&
      csr.key_curve != "P-521")
    return fail(issuer_errc::policy_violation,
                "ECDSA curve " + csr.key_curve + " is not allowed (allowed: P-256, P-384, P-521)");
  return done{};
}

/// Issues for an already-verified public key; shared by issue() and the server bootstrap.
certctl::result<issued_certificate, issuer_error> sign_leaf(const local_ca::state& s,
                                                            crypto::certificate_template t,
                                                            const issuance_request& r) {
  if (r.ttl_us < 0 || r.max_ttl_us < 0 || r.not_before_us < 0)
    return fail(issuer_errc::invalid_request, "validity values must not be negative");
  const std::int64_t now = s.now_us();
  const std::int64_t max_ttl = r.max_ttl_us > 0 ? r.max_ttl_us : s.config.default_max_ttl_us;
  const std::int64_t ttl = r.ttl_us > 0 ? std::min(r.ttl_us, max_ttl) : max_ttl;
  const std::int64_t not_before_us = r.not_before_us > 0 ? r.not_before_us : now;
  // Whole seconds: X.509 times have no finer precision. notAfter never outlives the CA, since
  // relying parties would reject the chain from that moment anyway.
  t.not_before = not_before_us / us_per_s;
  t.not_after = std::min((not_before_us + ttl) / us_per_s, s.signer.ca_not_after());
  if (t.not_after <= t.not_before || t.not_after <= now / us_per_s)
    return fail(issuer_errc::unavailable,
                "the CA certificate expires before the requested validity starts");
  t.ext_key_usages = r.ekus.empty()
                         ? std::vector<crypto::ext_key_usage>{crypto::ext_key_usage::server_auth}
                         : r.ekus;
  // Short-lived certificates are not tracked for revocation, so they must not point at it.
  const bool short_lived = (t.not_after - t.not_before) * us_per_s < short_lived_threshold_us;
  t.crl_url = short_lived ? std::string() : s.crl_url;
  t.ocsp_url = short_lived ? std::string() : s.ocsp_url;
  // Must-staple promises an OCSP response: only where this CA serves one.
  t.must_staple = r.must_staple && !t.ocsp_url.empty();
  t.ca_issuers_url = s.config.ca_issuers_url;

  if (t.subject.common_name.size() > 64)  // RFC 5280 ub-common-name
    return fail(issuer_errc::invalid_request, "common name longer than 64 characters");
  if (auto v = crypto::validate_names(t.sans); !v)
    return fail(issuer_errc::invalid_request, v.error().message);

  // The signer reports serial, validity and fingerprint: no parsing the new certificate back.
  auto signed_cert = s.signer.sign_certificate(t);
  if (!signed_cert) return fail(issuer_errc::internal, signed_cert.error().message);
  crypto::signed_certificate& c = signed_cert.value();
  return issued_certificate{std::move(c.pem),
                            s.chain_pem,
                            std::move(c.serial_hex),
                            c.not_before * us_per_s,
                            c.not_after * us_per_s,
                            std::move(c.fingerprint_sha256_hex),
                            std::string()};
}

}  // namespace

local_ca::local_ca(std::unique_ptr<state> s) : s_(std::move(s)) {}
local_ca::~local_ca() = default;

const std::string& local_ca::id() const {
  return s_->config.issuer_id;
}
std::string local_ca::ca_chain_pem() const {
  return s_->chain_pem;
}
const std::string& local_ca::ca_certificate_pem() const {
  return s_->ca_cert_pem;
}
bool local_ca::self_signed() const {
  return s_->self_signed;
}
const std::string& local_ca::crl_url() const {
  return s_->crl_url;
}
const std::string& local_ca::ocsp_url() const {
  return s_->ocsp_url;
}

crypto::crypto_result<crypto::bytes> local_ca::sign_crl(const crypto::crl_content& content) const {
  return s_->revocation.sign_crl(content);
}

certctl::result<std::shared_ptr<const crypto::ocsp_signer>, issuer_error>
local_ca::ocsp_responder() {
  return s_->responder->current();
}

issuer_capabilities local_ca::capabilities() const {
  issuer_capabilities c;
  // Revocation needs no call to a CA: this server is the CA, and the certificate.revoked
  // event is what its CRL and OCSP responder publish.
  c.revoke = false;
  c.crl = c.ocsp = !s_->crl_url.empty();
  return c;
}

certctl::result<issuer_test_report, issuer_error> local_ca::self_test() {
  // A throwaway certificate covers the CA's validity window, the key's availability and the
  // signing path in one step; it and its key are dropped, nothing is recorded.
  auto issued = issue_server_certificate({self_test_host}, self_test_ttl_us);
  if (!issued) return issued.error();
  const std::int64_t until = s_->signer.ca_not_after() * us_per_s;
  return issuer_test_report{
      "the local CA signed a test certificate; its certificate is valid until " +
          events::format_rfc3339(until),
      until};
}

certctl::result<issued_certificate, issuer_error> local_ca::issue(const issuance_request& r) {
  auto csr = crypto::parse_csr(r.csr_pem);  // verifies the CSR's signature
  if (!csr) return fail(issuer_errc::bad_csr, csr.error().message);
  return issue_parsed(r, csr.value());
}

certctl::result<issued_certificate, issuer_error> local_ca::issue_parsed(
    const issuance_request& r, const crypto::csr_info& csr) {
  if (auto p = check_key_policy(r, csr); !p) return p.error();

  crypto::certificate_template t;
  t.public_key_der = csr.public_key_der;
  t.sans = r.sans.empty() ? csr.sans() : r.sans;
  t.subject.common_name = r.common_name.empty() ? csr.common_name : r.common_name;
  if (t.subject.common_name.empty() && !t.sans.dns.empty() && t.sans.dns.front().size() <= 64)
    t.subject.common_name = t.sans.dns.front();
  if (t.subject.common_name.empty() && t.sans.empty())
    return fail(issuer_errc::invalid_request, "no common name and no subject alternative names");
  // TLS clients ignore the CN and match only SANs (RFC 6125; browsers since 2017), so a
  // server certificate asked for by CN alone gets that name as its DNS SAN too.
  const bool server =
      r.ekus.empty() ||
      std::find(r.ekus.begin(), r.ekus.end(), crypto::ext_key_usage::server_auth) != r.ekus.end();
  if (server && t.sans.empty() &&
      crypto::validate_names({{t.subject.common_name}, {}, {}, {}}).ok())
    t.sans.dns.push_back(t.subject.common_name);
  t.subject.organization = r.organization;
  t.subject.organizational_unit = r.organizational_unit;
  return sign_leaf(*s_, std::move(t), r);
}

certctl::result<server_credentials, issuer_error> local_ca::issue_server_certificate(
    const std::vector<std::string>& hosts, std::int64_t ttl_us) {
  if (hosts.empty()) return fail(issuer_errc::invalid_request, "no host names given");
  crypto::certificate_template t;
  for (const auto& h : hosts) {
    unsigned char buf[16];
    const bool ip =
        inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
    (ip ? t.sans.ip : t.sans.dns).push_back(h);
  }
  t.subject.common_name = hosts.front().size() <= 64 ? hosts.front() : std::string();
  auto key = crypto::generate_key(crypto::key_type::ecdsa_p256);
  if (!key) return fail(issuer_errc::internal, key.error().message);
  t.public_key_der = key.value().public_key.spki_der;
  issuance_request r;
  r.ttl_us = ttl_us;
  r.ekus = {crypto::ext_key_usage::server_auth};
  auto issued = sign_leaf(*s_, std::move(t), r);
  if (!issued) return issued.error();
  return server_credentials{std::move(issued.value().cert_pem), std::move(key.value().pem),
                            std::move(issued.value().chain_pem)};
}

}  // namespace certctl::connectors
