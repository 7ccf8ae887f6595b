// EST's wire format without a server: request bodies as devices send them, base64 and
// multipart answers, HTTP Basic, and the CsrAttrs DER (checked byte for byte).
#define BOOST_TEST_MODULE gateways_est_wire
#include <boost/test/unit_test.hpp>

#include "gateways/est/est_wire.hpp"
#include "infra/crypto/csr.hpp"
#include "infra/crypto/jwk.hpp"
#include "infra/crypto/keys.hpp"

using namespace certctl;
using namespace certctl::gateways::est;

namespace {

/// A real CSR: PEM, and its DER.
struct sample_csr {
  std::string pem;
  crypto::bytes der;
};

sample_csr make_csr() {
  auto key = crypto::generate_key(crypto::key_type::ecdsa_p256);
  BOOST_REQUIRE(key.ok());
  auto pem = crypto::build_csr({key->pem, "wire.example.test", {}});
  BOOST_REQUIRE(pem.ok());
  auto der = pem_block_der(*pem, "CERTIFICATE REQUEST");
  BOOST_REQUIRE(der.has_value());
  return {*pem, *der};
}

std::string b64(const crypto::bytes& der) {
  return crypto::base64_encode(
      std::string_view(reinterpret_cast<const char*>(der.data()), der.size()));
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_body_encoding_devices_send_decodes_to_the_same_der) {
  const auto csr = make_csr();
  const std::string one_line = b64(csr.der);
  std::string crlf, lf;
  for (size_t i = 0; i < one_line.size(); i += 64) {
    crlf += one_line.substr(i, 64) + "\r\n";
    lf += one_line.substr(i, 64) + "\n";
  }
  const std::string raw(csr.der.begin(), csr.der.end());
  for (const std::string& body : {one_line, crlf, lf, "  " + lf + "\n\n", csr.pem, raw,
                                  std::string("-----BEGIN NEW CERTIFICATE REQUEST-----\r\n") +
                                      crlf + "-----END NEW CERTIFICATE REQUEST-----\r\n"}) {
    auto got = decode_csr_body(body, 64 * 1024);
    BOOST_TEST(got.error.empty(), got.error);
    BOOST_TEST((got.der == csr.der));
    BOOST_TEST(crypto::parse_csr_der(got.der).ok());
  }
}

BOOST_AUTO_TEST_CASE(bodies_that_are_empty_oversized_or_not_base64_are_refused_with_a_reason) {
  const auto csr = make_csr();
  BOOST_TEST(!decode_csr_body("", 1024).error.empty());
  BOOST_TEST(decode_csr_body(std::string(2000, 'A'), 1024).error.find("exceeds") !=
             std::string::npos);
  BOOST_TEST(!decode_csr_body("not base64 at all!", 1024).error.empty());
  BOOST_TEST(!decode_csr_body("QUJD=QUJD", 1024).error.empty());  // padding in the middle
  BOOST_TEST(!decode_csr_body("QUJ", 1024).error.empty());        // truncated
  BOOST_TEST(!decode_csr_body("-----BEGIN CERTIFICATE REQUEST-----\nQUJD\n", 1024).error.empty());
  BOOST_TEST(
      !decode_csr_body("-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n", 1024)
           .error.empty());
}

BOOST_AUTO_TEST_CASE(base64_bodies_are_crlf_lines_of_64_characters) {
  const crypto::bytes der(100, 0xab);
  const std::string body = base64_body(der);
  BOOST_TEST(body.substr(64, 2) == "\r\n");
  BOOST_TEST(body.size() == 136u + 2 * 3);  // 136 characters in three lines
  BOOST_TEST((decode_csr_body(body, 4096).der == der));
}

BOOST_AUTO_TEST_CASE(multipart_parts_carry_their_type_and_encoding_between_boundaries) {
  const std::string m =
      multipart_mixed("b0undary", {{"application/pkcs8", "AAAA\r\n"},
                                   {"application/pkcs7-mime; smime-type=certs-only", "BBBB"}});
  BOOST_TEST(m ==
             "--b0undary\r\nContent-Type: application/pkcs8\r\nContent-Transfer-Encoding: "
             "base64\r\n\r\nAAAA\r\n--b0undary\r\nContent-Type: application/pkcs7-mime; "
             "smime-type=certs-only\r\nContent-Transfer-Encoding: base64\r\n\r\nBBBB\r\n"
             "--b0undary--\r\n");
}

BOOST_AUTO_TEST_CASE(basic_credentials_split_at_the_first_colon) {
  auto c = basic_credentials("Basic ZGV2aWNlOnBhc3M6d29yZA==");  // device:pass:word
  BOOST_REQUIRE(c.has_value());
  BOOST_TEST(c->first == "device");
  BOOST_TEST(c->second == "pass:word");
  BOOST_TEST(basic_credentials("basic ZGV2aWNlOnBhc3M6d29yZA==").has_value());
  BOOST_TEST(!basic_credentials("Bearer abc").has_value());
  BOOST_TEST(!basic_credentials("Basic bm9jb2xvbg==").has_value());  // "nocolon"
  BOOST_TEST(!basic_credentials("Basic !!!").has_value());
  BOOST_TEST(!basic_credentials("").has_value());
}

BOOST_AUTO_TEST_CASE(csr_attrs_encode_the_profile_as_der) {
  BOOST_TEST(encode_csr_attrs({}).empty());
  // SEQUENCE { challengePassword, SEQUENCE { id-ecPublicKey, SET { secp384r1 } } }
  const crypto::bytes want = {0x30, 0x1f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
                              0x09, 0x07, 0x30, 0x12, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
                              0x02, 0x01, 0x31, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
  csr_attrs_request r;
  r.challenge_password = true;
  r.key_algorithms = {{"ECDSA", 384}};
  BOOST_TEST((encode_csr_attrs(r) == want));
  // rsaEncryption with the minimum size as an INTEGER (3072 = 0x0c00).
  const auto rsa = encode_csr_attrs({{{"RSA", 3072}}, false});
  const crypto::bytes tail = {0x31, 0x04, 0x02, 0x02, 0x0c, 0x00};
  BOOST_REQUIRE(rsa.size() > tail.size());
  BOOST_TEST((crypto::bytes(rsa.end() - 6, rsa.end()) == tail));
}
