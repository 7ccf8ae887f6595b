#pragma once
/// PRIVATE to connectors/issuers/local: what a local_ca holds once opened. Immutable after
/// open_local_ca, which is what makes concurrent issue() calls safe without a lock; the one
/// exception, the rotating OCSP responder, sits behind its own mutex (ocsp_rotator).

#include <memory>
#include <string>

#include "connectors/issuers/local/local_ca.hpp"
#include "connectors/issuers/local/ocsp_rotator.hpp"
#include "infra/crypto/crl.hpp"
#include "infra/crypto/ocsp.hpp"
#include "infra/crypto/signer.hpp"

namespace certctl::connectors {

struct local_ca::state {
  local_ca_config config;
  crypto::certificate_signer signer;
  std::string ca_cert_pem;  ///< the issuing CA
  std::string chain_pem;    ///< issuing CA first, then its parents (sub-CA mode)
  std::string crl_url;
  std::string ocsp_url;
  bool self_signed = false;
  crypto::revocation_signer revocation;  ///< the CA key again, for CRLs and responders
  /// Set once the state has its final address (it refers to `revocation`); never null after.
  std::unique_ptr<ocsp_rotator> responder;

  std::int64_t now_us() const { return config.clock->now(); }
};

}  // namespace certctl::connectors
