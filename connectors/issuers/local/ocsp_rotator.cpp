#include "connectors/issuers/local/ocsp_rotator.hpp"

namespace certctl::connectors {

namespace {
constexpr std::int64_t us_per_s = 1'000'000;
}

ocsp_rotator::ocsp_rotator(std::string ca_cert_pem, const crypto::revocation_signer& signer,
                           const infra::clock& clock, ocsp_rotation rotation)
    : ca_cert_pem_(std::move(ca_cert_pem)), signer_(signer), clock_(clock), rotation_(rotation) {}

certctl::result<std::shared_ptr<const crypto::ocsp_signer>, issuer_error> ocsp_rotator::current() {
  std::lock_guard<std::mutex> lock(mu_);
  const std::int64_t now = clock_.now() / us_per_s;
  if (current_ && current_->responder_not_after() - now > rotation_.renew_before_us / us_per_s)
    return current_;
  // Backdated an hour like the root, for relying parties whose clocks run a little slow.
  auto creds = signer_.issue_ocsp_responder(now - 3600, now + rotation_.validity_us / us_per_s);
  certctl::result<crypto::ocsp_signer, crypto::crypto_error> made =
      creds ? crypto::ocsp_signer::create(ca_cert_pem_, creds->cert_pem, creds->key_pem)
            : certctl::result<crypto::ocsp_signer, crypto::crypto_error>(creds.error());
  if (!made) {
    if (current_ && current_->responder_not_after() > now) return current_;
    return issuer_error{issuer_errc::internal, "OCSP responder: " + made.error().message};
  }
  current_ = std::make_shared<const crypto::ocsp_signer>(std::move(made).value());
  return current_;
}

}  // namespace certctl::connectors
