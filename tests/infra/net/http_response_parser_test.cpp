// The HTTP/1.x response parser behind the guarded GET (infra/net/http_response_parser), fed
// byte strings directly: partial input, every body framing, the caps and malformed input.
#define BOOST_TEST_MODULE infra_net_http_response_parser
#include <boost/test/unit_test.hpp>

#include "infra/net/outbound_http.hpp"

using namespace certctl::net;

namespace certctl::net {
std::ostream& operator<<(std::ostream& o, http_parse_status s) {
  return o << (s == http_parse_status::need_more  ? "need_more"
               : s == http_parse_status::complete ? "complete"
                                                  : "failed");
}
std::ostream& operator<<(std::ostream& o, outbound_errc c) {
  return o << to_string(c);
}
}  // namespace certctl::net

BOOST_AUTO_TEST_CASE(every_prefix_of_a_response_needs_more_and_the_whole_completes) {
  const std::string full = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nX-A:  b \r\n\r\nbody";
  for (std::size_t n = 0; n < full.size(); ++n)
    BOOST_TEST(
        parse_http_response(full.substr(0, n), false, 100).status == http_parse_status::need_more,
        n);
  auto r = parse_http_response(full + "trailing junk", false, 100);
  BOOST_REQUIRE(r.status == http_parse_status::complete);
  BOOST_TEST(r.response.status == 200);
  BOOST_TEST(r.response.body == "body");
  BOOST_TEST(r.response.headers.at(1).first == "x-a");
  BOOST_TEST(r.response.headers.at(1).second == "b");
}

BOOST_AUTO_TEST_CASE(a_body_without_length_ends_at_the_close) {
  const std::string raw = "HTTP/1.0 404 Not Found\r\n\r\nnope";
  BOOST_TEST(parse_http_response(raw, false, 100).status == http_parse_status::need_more);
  auto r = parse_http_response(raw, true, 100);
  BOOST_REQUIRE(r.status == http_parse_status::complete);
  BOOST_TEST(r.response.status == 404);
  BOOST_TEST(r.response.body == "nope");
  // Exactly at the cap is fine, one byte above is not.
  BOOST_TEST(parse_http_response(raw, true, 4).status == http_parse_status::complete);
  auto over = parse_http_response(raw, false, 3);
  BOOST_TEST(over.status == http_parse_status::failed);
  BOOST_TEST(over.error == outbound_errc::too_large);
}

BOOST_AUTO_TEST_CASE(chunked_bodies_decode_and_count_toward_the_cap_as_they_arrive) {
  const std::string raw =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nwxyz\r\n1;ext\r\n!\r\n0\r\n\r\n";
  auto r = parse_http_response(raw, false, 100);
  BOOST_REQUIRE(r.status == http_parse_status::complete);
  BOOST_TEST(r.response.body == "wxyz!");
  const std::string head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  // A chunk that announces more than the cap fails once the cap's worth has arrived.
  auto big = parse_http_response(head + "ffff\r\n" + std::string(11, 'a'), false, 10);
  BOOST_TEST(big.status == http_parse_status::failed);
  BOOST_TEST(big.error == outbound_errc::too_large);
  BOOST_TEST(parse_http_response(head + "4\r\nwx", true, 100).status == http_parse_status::failed);
  BOOST_TEST(parse_http_response(head + "zz\r\n", false, 100).status == http_parse_status::failed);
  BOOST_TEST(parse_http_response(head + "4\r\nwxyzAB", false, 100).status ==
             http_parse_status::failed);  // no CRLF after the chunk
  BOOST_TEST(parse_http_response(head + std::string(100, '1'), false, 100).status ==
             http_parse_status::failed);  // a size line that never ends
}

BOOST_AUTO_TEST_CASE(malformed_heads_fail_and_oversized_ones_are_too_large) {
  for (const char* bad :
       {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
        "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"}) {
    auto r = parse_http_response(bad, false, 100);
    BOOST_TEST(r.status == http_parse_status::failed, bad);
    BOOST_TEST(r.error == outbound_errc::protocol_error, bad);
  }
  auto closed = parse_http_response("HTTP/1.1 200 OK\r\n", true, 100);
  BOOST_TEST(closed.status == http_parse_status::failed);
  auto huge = parse_http_response("HTTP/1.1 200 OK\r\nX: " + std::string(17000, 'x'), false, 100);
  BOOST_TEST(huge.status == http_parse_status::failed);
  BOOST_TEST(huge.error == outbound_errc::too_large);
  auto declared = parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", false, 100);
  BOOST_TEST(declared.error == outbound_errc::too_large);
  BOOST_TEST(max_raw_response_bytes(100) > 16 * 1024 + 100);
}
