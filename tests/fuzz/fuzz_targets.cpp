#include "tests/fuzz/fuzz_targets.hpp"

#include <sstream>
#include <string>
#include <string_view>

#include "events/canonical_json.hpp"
#include "events/json.hpp"
#include "events/json_depth.hpp"
#include "events/time.hpp"
#include "gateways/http/api_keys.hpp"
#include "gateways/http/json.hpp"
#include "infra/crypto/certificate.hpp"
#include "infra/crypto/crl.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/jws.hpp"
#include "infra/crypto/jwt.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/ocsp.hpp"
#include "infra/crypto/signer.hpp"
#include "infra/store/store_url.hpp"

namespace certctl::fuzz {
namespace {
std::string_view view(const std::uint8_t* d, std::size_t n) {
  return {reinterpret_cast<const char*>(d), n};
}
// A crash or sanitizer report is the finding; these checks catch silent contract breaks.
void check(bool ok) {
  if (!ok) __builtin_trap();
}
}  // namespace

int canonical_json(const std::uint8_t* d, std::size_t n) {
  auto once = events::canonicalize_json(view(d, n));
  if (once) {
    // Canonical form is a fixed point: canonicalising it again changes nothing.
    auto twice = events::canonicalize_json(*once);
    check(twice.ok() && *twice == *once);
  }
  return 0;
}

int json_object(const std::uint8_t* d, std::size_t n) {
  auto obj = events::json_object::parse(view(d, n));
  if (obj) {
    auto again = events::json_object::parse(obj->dump());
    check(again.has_value());
    for (const auto& k : obj->keys()) (void)obj->raw(k.c_str());
  }
  return 0;
}

int rfc3339(const std::uint8_t* d, std::size_t n) {
  auto t = events::parse_rfc3339(view(d, n));
  if (t && *t > -62135596800000000LL && *t < 253402300799000000LL) {
    // Whatever parses renders and parses back to the same instant.
    auto back = events::parse_rfc3339(events::format_rfc3339(*t));
    check(back.has_value() && *back == *t);
  }
  return 0;
}

int csr_pem(const std::uint8_t* d, std::size_t n) {
  (void)crypto::parse_csr(view(d, n));
  std::vector<std::uint8_t> der(d, d + n);
  (void)crypto::parse_csr_der(der);
  return 0;
}

int certificate_pem(const std::uint8_t* d, std::size_t n) {
  (void)crypto::parse_certificate(view(d, n));
  (void)crypto::split_pem_chain(view(d, n));
  return 0;
}

int store_url(const std::uint8_t* d, std::size_t n) {
  (void)store::parse_store_url(std::string(view(d, n)));
  return 0;
}

int bearer_and_request_json(const std::uint8_t* d, std::size_t n) {
  (void)gateways::http::bearer_token(view(d, n));
  (void)gateways::http::parse_json(std::string(view(d, n)), 1 << 20);
  return 0;
}

int rest_body(const std::uint8_t* d, std::size_t n) {
  const auto text = view(d, n);
  auto body = gateways::http::parse_json_object(text, 1 << 20);
  const bool too_deep = events::json_deeper_than(text, events::max_untrusted_json_depth);
  // Nothing nested past the cap gets through; what does get through is a command body that
  // serialises and parses back (the round trip a forwarded cluster command takes).
  check(!(body && too_deep));
  if (body) check(events::json_object::parse(body->dump()).has_value());
  if (too_deep) check(!body && body.error().status == 400);
  return 0;
}

int jws(const std::uint8_t* d, std::size_t n) {
  const auto text = view(d, n);
  auto parsed = crypto::parse_jws(text);
  // An embedded key must be usable (or cleanly refused) for verification.
  if (parsed && parsed->header.key) (void)crypto::verify_jws(*parsed, *parsed->header.key);
  (void)crypto::parse_jwk(text);
  // The step-ca forms (crypto/jwt.hpp): private JWKs, compact tokens, JWE-encrypted keys.
  (void)crypto::private_key_pem_of_jwk(text);
  (void)crypto::decrypt_pbes2_jwe(text, "fuzz");
  static const auto token_key = crypto::parse_jwk(
      R"({"kty":"EC","crv":"P-256","x":"aqoiNipHVN7X3UFAbg_SLWLZMIk9GLKfA59qt5fH6pY","y":"n-VpVoH_5c0xDJdAa1Cqbz1XwI1aGUSB1y9jJF0tJZ8"})");
  if (token_key) (void)crypto::verify_compact_jws(text, *token_key);
  // Strict base64url has one encoding per value: whatever decodes re-encodes to the input.
  if (auto decoded = crypto::base64url_decode(text))
    check(crypto::base64url_encode(*decoded) == text);
  return 0;
}

int ocsp_request(const std::uint8_t* d, std::size_t n) {
  auto req = crypto::parse_ocsp_request(d, n);
  if (req) {
    // What the parser lets through is what the responder relies on.
    check(!req->ids.empty() && req->ids.size() <= crypto::max_ocsp_request_ids);
    check(req->nonce.size() <= crypto::max_ocsp_nonce);
  } else {
    check(req.error().status == crypto::ocsp_response_status::malformed_request);
  }
  return 0;
}

int crl_builder(const std::uint8_t* d, std::size_t n) {
  // One throwaway CA per process: the target exercises the builder, not key generation.
  static const auto ca = [] {
    auto key = crypto::generate_key(crypto::key_type::ecdsa_p256);
    crypto::certificate_template t;
    t.subject.common_name = "fuzz CRL CA";
    t.not_before = 1'700'000'000;
    t.not_after = 2'000'000'000;
    t.is_ca = true;
    auto cert = crypto::self_sign(key.value().pem, t);
    return std::make_pair(cert.value(),
                          crypto::revocation_signer::create(cert.value(), key.value().pem));
  }();
  if (!ca.second) return 0;
  std::istringstream in{std::string(view(d, n))};
  crypto::crl_content c;
  c.crl_number = 1;
  c.this_update = 1'800'000'000;
  c.next_update = 1'800'086'400;
  for (std::string line; std::getline(in, line) && c.revoked.size() < 64;) {
    std::istringstream fields(line);
    crypto::crl_entry e;
    long long at = 0, inv = 0;
    fields >> e.serial_hex >> e.reason_code >> at >> inv;
    e.revoked_at = at;
    e.invalidity_date = inv;
    c.revoked.push_back(std::move(e));
  }
  auto der = ca.second->sign_crl(c);
  if (der) {
    // Whatever was signed parses back, verifies, and lists every entry.
    auto info = crypto::parse_crl(der.value(), ca.first);
    check(info.ok() && info->revoked.size() == c.revoked.size() && info->crl_number == 1);
  }
  return 0;
}

}  // namespace certctl::fuzz
