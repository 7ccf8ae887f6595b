// OCSP requests and responses (infra/crypto/ocsp.hpp), checked by our parser and by the
// openssl CLI (a peer: `openssl ocsp -respin ... -CAfile`).
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <ctime>

#include "infra/crypto/crl.hpp"
#include "infra/crypto/keys.hpp"
#include "infra/crypto/ocsp.hpp"
#include "infra/crypto/signer.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;
namespace t = certctl::test;

namespace {

const std::int64_t now_s = static_cast<std::int64_t>(std::time(nullptr));

struct responder_fixture {
  std::string ca_pem;
  ocsp_signer signer;

  static responder_fixture make(const std::string& cn = "OCSP Test Root") {
    auto key = generate_key(key_type::ecdsa_p256);
    BOOST_REQUIRE(key.ok());
    certificate_template tpl;
    tpl.subject = {cn, "", ""};
    tpl.not_before = now_s - 60;
    tpl.not_after = now_s + 365 * 86400;
    tpl.is_ca = true;
    auto cert = self_sign(key->pem, tpl);
    CERTCTL_REQUIRE_OK(cert);
    auto rs = revocation_signer::create(cert.value(), key->pem);
    CERTCTL_REQUIRE_OK(rs);
    auto creds = rs->issue_ocsp_responder(now_s - 60, now_s + 86400);
    CERTCTL_REQUIRE_OK(creds);
    auto s = ocsp_signer::create(cert.value(), creds->cert_pem, creds->key_pem);
    CERTCTL_REQUIRE_OK(s);
    return {cert.value(), std::move(s).value()};
  }
};

certctl::result<ocsp_request, ocsp_request_error> parse(const bytes& der) {
  return parse_ocsp_request(der.data(), der.size());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ocsp)

BOOST_AUTO_TEST_CASE(request_round_trip_with_nonce_and_several_ids) {
  auto r = responder_fixture::make();
  auto der = build_ocsp_request(r.ca_pem, {"0A1B", "01"}, ocsp_hash::sha256, true);
  CERTCTL_REQUIRE_OK(der);
  auto req = parse(der.value());
  BOOST_REQUIRE_MESSAGE(req.ok(), (req.ok() ? std::string() : req.error().message));
  BOOST_REQUIRE(req->ids.size() == 2u);
  BOOST_TEST(req->ids[0].serial_hex == "0A1B");
  BOOST_TEST(req->ids[1].serial_hex == "01");
  BOOST_TEST((req->ids[0].hash == ocsp_hash::sha256));
  BOOST_TEST(req->nonce.size() == 18u);  // OCTET STRING header + 16 random bytes
  BOOST_TEST(r.signer.issuer_matches(req->ids[0]));
  auto other = responder_fixture::make("Another Root");
  BOOST_TEST(!other.signer.issuer_matches(req->ids[0]));
}

BOOST_AUTO_TEST_CASE(signed_response_carries_status_reason_and_nonce) {
  auto r = responder_fixture::make();
  std::vector<ocsp_single_response> singles(3);
  singles[0] = {ocsp_hash::sha1, "0A", ocsp_cert_status::good, 0, -1, now_s, now_s + 3600};
  singles[1] = {ocsp_hash::sha1, "0B", ocsp_cert_status::revoked, now_s - 30, 1, now_s, 0};
  singles[2] = {ocsp_hash::sha256, "0C", ocsp_cert_status::unknown, 0, -1, now_s, now_s + 60};
  const bytes nonce = {0x04, 0x02, 0xca, 0xfe};
  auto der = r.signer.sign(singles, nonce);
  CERTCTL_REQUIRE_OK(der);
  auto info = parse_ocsp_response(der.value());
  CERTCTL_REQUIRE_OK(info);
  BOOST_TEST((info->status == ocsp_response_status::successful));
  BOOST_TEST(info->signature_valid);
  BOOST_TEST(info->nonce == nonce);
  BOOST_REQUIRE(info->singles.size() == 3u);
  BOOST_TEST((info->singles[0].status == ocsp_cert_status::good));
  BOOST_TEST(info->singles[0].next_update == now_s + 3600);
  BOOST_TEST((info->singles[1].status == ocsp_cert_status::revoked));
  BOOST_TEST(info->singles[1].revoked_at == now_s - 30);
  BOOST_TEST(info->singles[1].reason_code == 1);
  BOOST_TEST((info->singles[2].status == ocsp_cert_status::unknown));
  BOOST_TEST((info->singles[2].hash == ocsp_hash::sha256));
}

BOOST_AUTO_TEST_CASE(malformed_requests_are_refused_with_malformed_request) {
  auto r = responder_fixture::make();
  auto good = build_ocsp_request(r.ca_pem, {"0A"});
  CERTCTL_REQUIRE_OK(good);
  const bytes& d = good.value();
  auto refused = [](const bytes& b) {
    auto p = parse(b);
    return !p.ok() && p.error().status == ocsp_response_status::malformed_request;
  };
  BOOST_TEST(refused({}));
  BOOST_TEST(refused({0x30, 0x00}));
  BOOST_TEST(refused(bytes(d.begin(), d.end() - 3)));  // truncated
  bytes trailing = d;
  trailing.push_back(0);
  BOOST_TEST(refused(trailing));
  BOOST_TEST(refused(bytes(max_ocsp_request_der + 1, 0x30)));
  // SHA-256 CertID with its OID turned into SHA-224 (2.16.840.1.101.3.4.2.4): unsupported.
  auto sha256 = build_ocsp_request(r.ca_pem, {"0A"}, ocsp_hash::sha256);
  CERTCTL_REQUIRE_OK(sha256);
  bytes patched = sha256.value();
  const bytes oid = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
  auto at = std::search(patched.begin(), patched.end(), oid.begin(), oid.end());
  BOOST_REQUIRE(at != patched.end());
  *(at + 8) = 0x04;
  BOOST_TEST(refused(patched));
  // Every truncation and every single-byte flip: an answer, never a crash.
  for (size_t i = 0; i < d.size(); ++i) {
    parse(bytes(d.begin(), d.begin() + static_cast<long>(i)));
    bytes flipped = d;
    flipped[i] ^= 0x41;
    parse(flipped);
  }
  auto err = parse_ocsp_response(ocsp_error_response(ocsp_response_status::unauthorized));
  CERTCTL_REQUIRE_OK(err);
  BOOST_TEST((err->status == ocsp_response_status::unauthorized));
}

BOOST_AUTO_TEST_CASE(openssl_verifies_the_response_against_the_ca) {
  auto r = responder_fixture::make();
  t::temp_dir dir;
  t::write_text(dir.file("ca.pem"), r.ca_pem);
  std::vector<ocsp_single_response> singles = {
      {ocsp_hash::sha1, "0ABC", ocsp_cert_status::revoked, now_s - 30, 1, now_s - 1, now_s + 3600}};
  auto der = r.signer.sign(singles);
  CERTCTL_REQUIRE_OK(der);
  t::write_text(dir.file("resp.der"), std::string(der->begin(), der->end()));
  auto out =
      t::run("openssl ocsp -respin " + dir.file("resp.der") + " -issuer " + dir.file("ca.pem") +
             " -CAfile " + dir.file("ca.pem") + " -serial 0x0ABC -no_nonce");
  BOOST_TEST(out.output.find("Response verify OK") != std::string::npos, out.output);
  BOOST_TEST(out.output.find("0x0ABC: revoked") != std::string::npos, out.output);
  BOOST_TEST(out.output.find("keyCompromise") != std::string::npos, out.output);
}

BOOST_AUTO_TEST_SUITE_END()
