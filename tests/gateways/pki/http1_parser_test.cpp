// The PKI listener's HTTP/1.1 parser (gateways/pki/http1_parser.hpp): one request at a time
// from the front of a buffer, every limit enforced before the bytes are buffered whole.
#include <boost/test/unit_test.hpp>

#include <string>

#include "gateways/pki/http1_parser.hpp"

using namespace certctl::gateways::pki;

namespace {

http1_limits limits() {
  return http1_limits{};
}

int error_of(const std::string& buf) {
  auto r = parse_request(buf, limits());
  return r.status == parse_status::error ? r.error_status : 0;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http1_parser)

BOOST_AUTO_TEST_CASE(a_get_is_parsed_with_decoded_path_query_and_headers) {
  const std::string buf =
      "GET /.well-known/pki/ocsp/iss/MEMw%2BQT%2F?a=1&b=x%20y HTTP/1.1\r\nHost: h\r\n"
      "X-Request-Id:  abc \r\n\r\n";
  auto r = parse_request(buf, limits());
  BOOST_REQUIRE(r.status == parse_status::complete);
  BOOST_TEST(r.consumed == buf.size());
  BOOST_TEST(r.request.method == "GET");
  BOOST_TEST(r.request.path == "/.well-known/pki/ocsp/iss/MEMw+QT/");
  BOOST_TEST(r.request.query.find("b")->second == "x y");
  BOOST_TEST(r.request.headers.find("x-request-id")->second == "abc");
  BOOST_TEST(r.keep_alive);
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_taken_one_at_a_time_with_their_bodies) {
  const std::string first = "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  const std::string second = "GET /q HTTP/1.1\r\nConnection: close\r\n\r\n";
  const std::string buf = first + second + "GET /r HT";
  auto a = parse_request(buf, limits());
  BOOST_REQUIRE(a.status == parse_status::complete);
  BOOST_TEST(a.consumed == first.size());
  BOOST_TEST(a.request.body == "hello");
  auto b = parse_request(std::string_view(buf).substr(a.consumed), limits());
  BOOST_REQUIRE(b.status == parse_status::complete);
  BOOST_TEST(b.request.path == "/q");
  BOOST_TEST(!b.keep_alive);
  auto c = parse_request(std::string_view(buf).substr(a.consumed + b.consumed), limits());
  BOOST_TEST((c.status == parse_status::incomplete));
}

BOOST_AUTO_TEST_CASE(an_incomplete_body_says_how_many_bytes_are_needed) {
  const std::string head = "POST /p HTTP/1.1\r\nContent-Length: 10\r\n\r\n";
  auto r = parse_request(head + "abc", limits());
  BOOST_REQUIRE(r.status == parse_status::incomplete);
  BOOST_TEST(r.needed == head.size() + 10);
  auto whole = parse_request(head + "abcdefghij", limits());
  BOOST_TEST((whole.status == parse_status::complete));
}

BOOST_AUTO_TEST_CASE(http10_closes_unless_asked_and_bare_lf_is_accepted) {
  auto r = parse_request("GET / HTTP/1.0\n\n", limits());
  BOOST_REQUIRE(r.status == parse_status::complete);
  BOOST_TEST(!r.keep_alive);
  auto k = parse_request("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", limits());
  BOOST_REQUIRE(k.status == parse_status::complete);
  BOOST_TEST(k.keep_alive);
}

BOOST_AUTO_TEST_CASE(limits_and_malformed_input_get_their_statuses) {
  BOOST_TEST(error_of("GET /" + std::string(9000, 'a')) == 414);  // no line end yet: too long
  BOOST_TEST(error_of("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n") == 414);
  BOOST_TEST(error_of("GET / HTTP/1.1\r\nX: " + std::string(9000, 'b')) == 431);
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 70; ++i) many += "H" + std::to_string(i) + ": v\r\n";
  BOOST_TEST(error_of(many + "\r\n") == 431);
  BOOST_TEST(error_of("POST / HTTP/1.1\r\nContent-Length: 70000\r\n\r\n") == 413);
  BOOST_TEST(error_of("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n") == 413);
  BOOST_TEST(error_of("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 501);
  BOOST_TEST(error_of("GET / HTTP/2.0\r\n\r\n") == 505);
  BOOST_TEST(error_of("GET / FTP/1.1\r\n\r\n") == 400);
  BOOST_TEST(error_of("GET  / HTTP/1.1\r\n\r\n") == 400);
  BOOST_TEST(error_of("GET http://x/ HTTP/1.1\r\n\r\n") == 400);  // origin-form only
  BOOST_TEST(error_of("GET /%zz HTTP/1.1\r\n\r\n") == 400);
  BOOST_TEST(error_of("GET /%00 HTTP/1.1\r\n\r\n") == 400);
  BOOST_TEST(error_of("GET /%4 HTTP/1.1\r\n\r\n") == 400);
  BOOST_TEST(error_of("GET / HTTP/1.1\r\n folded\r\n\r\n") == 400);
  BOOST_TEST(error_of("GET / HTTP/1.1\r\nNo colon\r\n\r\n") == 400);
  BOOST_TEST(error_of("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n") == 400);
  BOOST_TEST(error_of("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
  BOOST_TEST(error_of("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
  BOOST_TEST(error_of("G\x01T / HTTP/1.1\r\n\r\n") == 400);
  BOOST_TEST(error_of("\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n") == 400);  // only a few empty lines
}

BOOST_AUTO_TEST_SUITE_END()
