// Fuzz entry points for the SCEP server's parsers of untrusted input: client pkiMessages
// (CMS SignedData + EnvelopedData + PKCS#10 challengePassword), certs-only PKCS#7 (what the
// probe reads from remote servers) and Intune challenge tokens.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "gateways/scep/intune.hpp"
#include "infra/crypto/csr_attributes.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/scep_message.hpp"
#include "tests/fuzz/fuzz_targets.hpp"

namespace certctl::fuzz {
namespace {

/// An RA for decrypting envelopes, made once per process.
struct ra_material {
  std::string cert_pem, key_pem;
};
const ra_material& ra() {
  static const ra_material m = [] {
    ra_material r;
    auto key = crypto::generate_key(crypto::key_type::rsa_2048);
    if (!key) return r;
    r.key_pem = key->pem;
    auto cert = crypto::self_signed_certificate(r.key_pem, "fuzz RA", 1);
    if (cert) r.cert_pem = *cert;
    return r;
  }();
  return m;
}

}  // namespace

int scep_message(const std::uint8_t* d, std::size_t n) {
  const crypto::bytes der(d, d + n);
  auto m = crypto::open_scep_message(der);
  if (!m) return 0;
  auto plain = crypto::decrypt_scep_envelope(m->envelope_der, ra().cert_pem, ra().key_pem);
  if (plain) (void)crypto::csr_challenge_password(*plain);
  (void)crypto::csr_challenge_password(m->envelope_der);
  return 0;
}

int scep_certs_only(const std::uint8_t* d, std::size_t n) {
  (void)crypto::scep_parse_certs_only(crypto::bytes(d, d + n));
  return 0;
}

int intune_token(const std::uint8_t* d, std::size_t n) {
  static std::unique_ptr<gateways::scep::intune_validator> validator = [] {
    const std::string path = "/tmp/certctl-fuzz-intune-" + std::to_string(::getpid()) + ".pem";
    std::ofstream(path) << ra().cert_pem;
    gateways::scep::intune_settings s;
    s.trust_path = path;
    s.audience = "https://scep.example.test/scep";
    auto v = gateways::scep::intune_validator::make(s, 1700000000);
    std::remove(path.c_str());
    return v ? std::move(*v) : nullptr;
  }();
  if (!validator) return 0;
  std::string why;
  (void)validator->check(std::string(reinterpret_cast<const char*>(d), n), "cn", {"a.example"},
                         1700000000, why);
  (void)gateways::scep::looks_like_intune_token(std::string(reinterpret_cast<const char*>(d), n));
  return 0;
}

}  // namespace certctl::fuzz
