// SigV4 against the AWS Signature Version 4 test suite's "get-vanilla" case (published by AWS
// with the suite: credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region
// us-east-1, service "service", 20150830T123600Z).
#include <boost/test/unit_test.hpp>

#include "infra/crypto/sigv4.hpp"

using namespace certctl;

namespace {

crypto::sigv4_credentials example_credentials() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sigv4)

BOOST_AUTO_TEST_CASE(get_vanilla_matches_the_aws_test_suite) {
  crypto::sigv4_request req;
  req.method = "GET";
  req.path = "/";
  req.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  auto s =
      crypto::sigv4_sign(req, {"20150830T123600Z", "us-east-1", "service"}, example_credentials());
  BOOST_TEST(s.canonical_request ==
             "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
             "host;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(s.string_to_sign ==
             "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
             "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  BOOST_TEST(s.signature == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  BOOST_TEST(s.authorization ==
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=host;x-amz-date, "
             "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

BOOST_AUTO_TEST_CASE(any_change_to_the_request_changes_the_signature) {
  crypto::sigv4_request req;
  req.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
  const crypto::sigv4_scope scope{"20150830T123600Z", "us-east-1", "service"};
  const auto base = crypto::sigv4_sign(req, scope, example_credentials()).signature;
  auto with_body = req;
  with_body.body = "{}";
  BOOST_TEST(crypto::sigv4_sign(with_body, scope, example_credentials()).signature != base);
  auto other_region = scope;
  other_region.region = "eu-west-1";
  BOOST_TEST(crypto::sigv4_sign(req, other_region, example_credentials()).signature != base);
  // Header names are case-insensitive and values trimmed: the same canonical request.
  auto spaced = req;
  spaced.headers = {{"X-AMZ-DATE", " 20150830T123600Z "}, {"host", "example.amazonaws.com"}};
  BOOST_TEST(crypto::sigv4_sign(spaced, scope, example_credentials()).signature == base);
}

BOOST_AUTO_TEST_CASE(amz_date_is_utc_basic_format) {
  BOOST_TEST(crypto::sigv4_amz_date(1440938160) == "20150830T123600Z");
}

BOOST_AUTO_TEST_SUITE_END()
