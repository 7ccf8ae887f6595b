#pragma once
/// The delegated OCSP responder of one CA, replaced before it expires. One implementation for
/// the local CA (local_ca::ocsp_responder) and for every intermediate of a hierarchy
/// (gateways/pki), so the rotation rule cannot drift between them.
///
/// The responder (id-kp-OCSPSigning, id-pkix-ocsp-nocheck) gets a fresh key each time, kept in
/// memory only: a restart issues a new one, which costs one signature and keeps the key off
/// the disk. nocheck means nobody can revoke it, hence the short validity.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "connectors/issuers/issuer.hpp"
#include "infra/clock.hpp"
#include "infra/crypto/crl.hpp"
#include "infra/crypto/ocsp.hpp"

namespace certctl::connectors {

struct ocsp_rotation {
  std::int64_t validity_us = 7LL * 86400 * 1'000'000;      ///< of each responder certificate
  std::int64_t renew_before_us = 2LL * 86400 * 1'000'000;  ///< replace once less remains
};

class ocsp_rotator {
 public:
  /// `ca_cert_pem` is the CA that `signer` holds the key of; `clock` must outlive this.
  ocsp_rotator(std::string ca_cert_pem, const crypto::revocation_signer& signer,
               const infra::clock& clock, ocsp_rotation rotation = {});

  /// The current responder, issuing a new one first when there is none or the current one has
  /// less than renew_before_us left. Thread-safe; callers keep the pointer for as long as they
  /// sign with it, and can tell a rotation by the pointer changing. When issuing fails, the old
  /// responder keeps serving until it really expires (the next call tries again).
  certctl::result<std::shared_ptr<const crypto::ocsp_signer>, issuer_error> current();

 private:
  std::string ca_cert_pem_;
  const crypto::revocation_signer& signer_;
  const infra::clock& clock_;
  ocsp_rotation rotation_;
  std::mutex mu_;
  std::shared_ptr<const crypto::ocsp_signer> current_;  // guarded by mu_
};

}  // namespace certctl::connectors
