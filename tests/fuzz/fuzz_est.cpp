// The EST server's untrusted inputs: the enrollment body (base64 / PEM / DER CSR, size-capped)
// through to the CSR parser and the challengePassword reader, the HTTP Basic header, and the
// PKCS#7 certs-only parser.
#include <string>
#include <string_view>

#include "gateways/est/est_wire.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/csr_attributes.hpp"
#include "infra/crypto/pkcs7_certs.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace certctl::fuzz {

int est_csr_body(const std::uint8_t* d, std::size_t n) {
  const std::string_view body(reinterpret_cast<const char*>(d), n);
  auto decoded = gateways::est::decode_csr_body(body, 64 * 1024);
  // A decoded body is never empty, and a refusal always says why.
  if (decoded.error.empty() == decoded.der.empty()) __builtin_trap();
  if (decoded.error.empty()) {
    (void)crypto::parse_csr_der(decoded.der);
    (void)crypto::csr_challenge_password(decoded.der);
    (void)crypto::pkcs7_certificates(decoded.der);
  }
  (void)gateways::est::basic_credentials(body);
  return 0;
}

}  // namespace certctl::fuzz
