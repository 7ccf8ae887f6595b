// Leaf issuance through an intermediate CA, and the issuer adapter over it.
#include <algorithm>

#include "connectors/issuers/local/hierarchy.hpp"
#include "connectors/issuers/local/hierarchy_state.hpp"
#include "infra/crypto/csr.hpp"

namespace certctl::connectors {
namespace {

constexpr std::int64_t us_per_s = 1'000'000;
constexpr std::int64_t default_max_ttl_us = 398LL * 86400 * us_per_s;  // CA/B Forum TLS maximum
constexpr int max_rsa_bits = 8192;

issuer_error fail(issuer_errc code, std::string message) {
  return issuer_error{code, std::move(message)};
}

/// The request's key policy against the CSR's key (the same rules as local_ca).
certctl::result<done, issuer_error> check_key(const issuance_request& r,
                                              const crypto::csr_info& csr) {
  const auto& allowed = r.allowed_key_algorithms;
  if (!allowed.empty() &&
      std::find(allowed.begin(), allowed.end(), csr.key_algorithm) == allowed.end())
    return fail(issuer_errc::policy_violation,
                "key algorithm " + csr.key_algorithm + " is not allowed by the profile");
  if (csr.key_algorithm == "RSA" &&
      (csr.key_bits < std::max(r.min_rsa_bits, 2048) || csr.key_bits > max_rsa_bits))
    return fail(issuer_errc::policy_violation, "RSA key of " + std::to_string(csr.key_bits) +
                                                   " bits is outside the allowed sizes");
  if (csr.key_algorithm == "ECDSA" && csr.key_curve != "P-256" && csr.key_curve != "P-384" &&
      csr.key_curve != "P-521")
    return fail(issuer_errc::policy_violation, "ECDSA curve " + csr.key_curve + " is not allowed");
  return done{};
}

/// True when `cn` would be read as a host name by verifiers (OpenSSL checks such a CN against
/// name constraints when the certificate has no DNS SAN).
bool looks_like_dns(const std::string& cn) {
  return !cn.empty() && cn.find('.') != std::string::npos &&
         crypto::validate_names({{cn}, {}, {}, {}}).ok();
}

}  // namespace

certctl::result<issued_certificate, issuer_error> ca_hierarchy::issue_leaf(
    const std::string& id, const issuance_request& r) {
  auto rec = impl_->record_of(id);
  if (!rec) return fail(issuer_errc::invalid_request, rec.error().message);
  if (rec->status != "active")
    return fail(issuer_errc::policy_violation,
                "intermediate CA " + id + " is " + rec->status + "; it signs nothing new");
  auto node = impl_->node_of(id);
  if (!node) return fail(issuer_errc::unavailable, node.error().message);
  const ca_node& ca = **node;

  auto csr = crypto::parse_csr(r.csr_pem);  // verifies the CSR's signature
  if (!csr) return fail(issuer_errc::bad_csr, csr.error().message);
  if (auto k = check_key(r, csr.value()); !k) return k.error();

  crypto::certificate_template t;
  t.public_key_der = csr.value().public_key_der;
  t.sans = r.sans.empty() ? csr.value().sans() : r.sans;
  t.subject.common_name = r.common_name.empty() ? csr.value().common_name : r.common_name;
  if (t.subject.common_name.empty() && !t.sans.dns.empty() && t.sans.dns.front().size() <= 64)
    t.subject.common_name = t.sans.dns.front();
  if (t.subject.common_name.empty() && t.sans.empty())
    return fail(issuer_errc::invalid_request, "no common name and no subject alternative names");
  if (t.subject.common_name.size() > 64)
    return fail(issuer_errc::invalid_request, "common name longer than 64 characters");
  t.ext_key_usages = r.ekus.empty()
                         ? std::vector<crypto::ext_key_usage>{crypto::ext_key_usage::server_auth}
                         : r.ekus;
  const bool server = std::find(t.ext_key_usages.begin(), t.ext_key_usages.end(),
                                crypto::ext_key_usage::server_auth) != t.ext_key_usages.end();
  if (server && t.sans.empty() &&
      crypto::validate_names({{t.subject.common_name}, {}, {}, {}}).ok())
    t.sans.dns.push_back(t.subject.common_name);
  if (auto v = crypto::validate_names(t.sans); !v)
    return fail(issuer_errc::invalid_request, v.error().message);
  t.subject.organization = r.organization;
  t.subject.organizational_unit = r.organizational_unit;

  // Refused here rather than signed and left for every relying party to reject.
  std::vector<std::string> names = t.sans.dns;
  if (looks_like_dns(t.subject.common_name)) names.push_back(t.subject.common_name);
  for (const auto& name : names)
    for (const auto& c : ca.path)
      if (auto ok = crypto::check_dns_name_allowed(c, name); !ok)
        return fail(issuer_errc::policy_violation,
                    "name constraints of the CA path to " + id + ": " + ok.error().message);

  if (r.ttl_us < 0 || r.max_ttl_us < 0 || r.not_before_us < 0)
    return fail(issuer_errc::invalid_request, "validity values must not be negative");
  const std::int64_t now = impl_->now_us();
  const std::int64_t max_ttl = r.max_ttl_us > 0 ? r.max_ttl_us : default_max_ttl_us;
  const std::int64_t ttl = r.ttl_us > 0 ? std::min(r.ttl_us, max_ttl) : max_ttl;
  const std::int64_t not_before_us = r.not_before_us > 0 ? r.not_before_us : now;
  t.not_before = not_before_us / us_per_s;
  t.not_after = std::min((not_before_us + ttl) / us_per_s, ca.signer->ca_not_after());
  if (t.not_after <= t.not_before || t.not_after <= now / us_per_s)
    return fail(issuer_errc::unavailable,
                "intermediate CA " + id + " expires before the requested validity starts");
  t.crl_url = impl_->url("crl", id);
  t.ocsp_url = rec->ocsp_url.empty() ? impl_->url("ocsp", id) : rec->ocsp_url;

  auto signed_cert = ca.signer->sign_certificate(t);
  if (!signed_cert) return fail(issuer_errc::internal, signed_cert.error().message);
  crypto::signed_certificate& c = signed_cert.value();
  return issued_certificate{std::move(c.pem),
                            ca.chain_pem,
                            std::move(c.serial_hex),
                            c.not_before * us_per_s,
                            c.not_after * us_per_s,
                            std::move(c.fingerprint_sha256_hex),
                            std::string()};
}

intermediate_issuer::intermediate_issuer(ca_hierarchy& hierarchy, std::string intermediate_id)
    : hierarchy_(hierarchy), id_(std::move(intermediate_id)) {}

certctl::result<issued_certificate, issuer_error> intermediate_issuer::issue(
    const issuance_request& request) {
  return hierarchy_.issue_leaf(id_, request);
}

issuer_capabilities intermediate_issuer::capabilities() const {
  issuer_capabilities c;
  c.crl = c.ocsp = true;
  return c;
}

certctl::result<issuer_test_report, issuer_error> intermediate_issuer::self_test() {
  auto key = crypto::generate_key_and_csr(crypto::key_type::ecdsa_p256, "certctl issuer test", {});
  if (!key) return fail(issuer_errc::internal, key.error().message);
  issuance_request r;
  r.csr_pem = key.value().csr_pem;
  r.ekus = {crypto::ext_key_usage::client_auth};
  r.ttl_us = 5LL * 60 * us_per_s;
  auto issued = hierarchy_.issue_leaf(id_, r);
  if (!issued) return issued.error();
  return issuer_test_report{"intermediate CA " + id_ + " signed a test certificate", 0};
}

std::string intermediate_issuer::ca_chain_pem() const {
  auto chain = hierarchy_.chain_of(id_);
  return chain ? chain.value() : std::string();
}

}  // namespace certctl::connectors
