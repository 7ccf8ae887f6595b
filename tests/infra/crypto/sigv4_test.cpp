// SigV4 against the AWS Signature Version 4 test suite (aws-sig-v4-test-suite, published by
// AWS with the SigV4 documentation: credentials AKIDEXAMPLE /
// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, region us-east-1, service "service",
// 20150830T123600Z, host example.amazonaws.com). The expected signatures are the suite's.
#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>
#include <vector>

#include "infra/crypto/sigv4.hpp"

using namespace certctl;

namespace {

crypto::sigv4_credentials example_credentials() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
}

/// One case of the suite: the request as the suite's .req file gives it (host and x-amz-date
/// added by the runner) and the signature its .authz file carries.
struct suite_case {
  const char* name;
  const char* method;
  const char* path;
  const char* query;  ///< canonical form, as the caller of sigv4_sign passes it
  std::vector<std::pair<std::string, std::string>> extra_headers;
  const char* body;
  const char* signed_headers;
  const char* signature;
};

crypto::sigv4_signature sign_case(const suite_case& c) {
  crypto::sigv4_request req;
  req.method = c.method;
  req.path = c.path;
  req.query = c.query;
  req.headers = {{"Host", "example.amazonaws.com"}};
  for (const auto& h : c.extra_headers) req.headers.push_back(h);
  req.headers.emplace_back("X-Amz-Date", "20150830T123600Z");
  req.body = c.body;
  return crypto::sigv4_sign(req, {"20150830T123600Z", "us-east-1", "service"},
                            example_credentials());
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

BOOST_AUTO_TEST_CASE(the_suite_cases_sign_as_aws_publishes_them) {
  const std::vector<suite_case> cases = {
      {"post-vanilla",
       "POST",
       "/",
       "",
       {},
       "",
       "host;x-amz-date",
       "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"post-vanilla-query",
       "POST",
       "/",
       "Param1=value1",
       {},
       "",
       "host;x-amz-date",
       "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
      // The parameters arrive as ?Param2=value2&Param1=value1: the canonical query sorts them.
      {"get-vanilla-query-order-key-case",
       "GET",
       "/",
       "Param1=value1&Param2=value2",
       {},
       "",
       "host;x-amz-date",
       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
      // ?Param1=value2&Param1=value1: equal names sort by value.
      {"get-vanilla-query-order-value",
       "GET",
       "/",
       "Param1=value1&Param1=value2",
       {},
       "",
       "host;x-amz-date",
       "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694"},
      {"get-unreserved",
       "GET",
       "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
       "",
       {},
       "",
       "host;x-amz-date",
       "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
      {"post-x-www-form-urlencoded",
       "POST",
       "/",
       "",
       {{"Content-Type", "application/x-www-form-urlencoded"}},
       "Param1=value1",
       "content-type;host;x-amz-date",
       "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
      {"post-header-key-case",
       "POST",
       "/",
       "",
       {{"My-Header1", "value1"}},
       "",
       "host;my-header1;x-amz-date",
       "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
      {"post-header-value-case",
       "POST",
       "/",
       "",
       {{"My-Header1", "VALUE1"}},
       "",
       "host;my-header1;x-amz-date",
       "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
      // Leading blanks dropped, inner runs made one space (inside quotes too).
      {"get-header-value-trim",
       "GET",
       "/",
       "",
       {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}},
       "",
       "host;my-header1;my-header2;x-amz-date",
       "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
      // A repeated header: its values joined by ',' in the order sent, not sorted.
      {"get-header-key-duplicate",
       "GET",
       "/",
       "",
       {{"My-Header1", "value2"}, {"My-Header1", "value2"}, {"My-Header1", "value1"}},
       "",
       "host;my-header1;x-amz-date",
       "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
      {"get-header-value-order",
       "GET",
       "/",
       "",
       {{"My-Header1", "value4"},
        {"My-Header1", "value1"},
        {"My-Header1", "value3"},
        {"My-Header1", "value2"}},
       "",
       "host;my-header1;x-amz-date",
       "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const auto s = sign_case(c);
      BOOST_TEST(s.signature == c.signature);
      BOOST_TEST(s.authorization ==
                 std::string("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                             "aws4_request, SignedHeaders=") +
                     c.signed_headers + ", Signature=" + c.signature);
    }
  }
}

BOOST_AUTO_TEST_CASE(the_suite_intermediate_strings_match_where_aws_publishes_them) {
  // get-vanilla-query-order-key-case: the canonical request's hash as the suite's .sts gives it.
  const auto q =
      sign_case({"", "GET", "/", "Param1=value1&Param2=value2", {}, "", "host;x-amz-date", ""});
  BOOST_TEST(q.string_to_sign ==
             "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
             "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0");
  // post-x-www-form-urlencoded: the body's hash ends the canonical request.
  const auto f = sign_case({"",
                            "POST",
                            "/",
                            "",
                            {{"Content-Type", "application/x-www-form-urlencoded"}},
                            "Param1=value1",
                            "",
                            ""});
  BOOST_TEST(f.canonical_request ==
             "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
             "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
             "content-type;host;x-amz-date\n"
             "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
  BOOST_TEST(f.string_to_sign ==
             "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
             "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281");
  // get-header-value-trim: the trimmed canonical header lines.
  const auto t = sign_case({"",
                            "GET",
                            "/",
                            "",
                            {{"My-Header1", " value1"}, {"My-Header2", " \"a   b   c\""}},
                            "",
                            "",
                            ""});
  BOOST_TEST(t.canonical_request ==
             "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
             "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n"
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(t.string_to_sign ==
             "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
             "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7");
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
