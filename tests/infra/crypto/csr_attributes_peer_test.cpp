// The CSR challengePassword (EST channel binding) read from CSRs the openssl CLI builds.
#include <boost/test/unit_test.hpp>

#include "infra/crypto/csr.hpp"
#include "infra/crypto/csr_attributes.hpp"
#include "infra/crypto/keys.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl::crypto;
using namespace certctl;

BOOST_AUTO_TEST_SUITE(csr_attributes)

BOOST_AUTO_TEST_CASE(the_challenge_password_of_a_csr_is_read_back) {
  test::temp_dir dir;
  test::write_text(dir.file("req.cnf"),
                   "[req]\ndistinguished_name=dn\nattributes=a\nprompt=no\n[dn]\nCN=cp\n"
                   "[a]\nchallengePassword=c2VjcmV0LWJpbmRpbmc=\n");
  test::run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " +
            dir.file("k.pem") + " -config " + dir.file("req.cnf") + " -outform DER -out " +
            dir.file("req.der"));
  const std::string der = test::read_text(dir.file("req.der"));
  auto pw = csr_challenge_password(bytes(der.begin(), der.end()));
  CERTCTL_REQUIRE_OK(pw);
  BOOST_REQUIRE(pw->has_value());
  BOOST_TEST(**pw == "c2VjcmV0LWJpbmRpbmc=");
  auto key = generate_key(key_type::ecdsa_p256);
  auto plain = build_csr({key->pem, "nopw", {}});
  CERTCTL_REQUIRE_OK(plain);
  auto plain_der = test::pem_to_der(*plain);
  auto none = csr_challenge_password(plain_der);
  CERTCTL_REQUIRE_OK(none);
  BOOST_TEST(!none->has_value());
  BOOST_TEST(!csr_challenge_password(bytes{0x30, 0x01}).ok());
}

BOOST_AUTO_TEST_SUITE_END()
