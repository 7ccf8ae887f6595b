// The DNS message codec and the resolver settings of dns-01 (gateways/acme/dns_message,
// dns_client): queries, answers with compression, every malformed shape the decoder refuses.
#define BOOST_TEST_MODULE gateways_acme
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>

#include <unistd.h>

#include "gateways/acme/dns_client.hpp"
#include "gateways/acme/dns_message.hpp"

using namespace certctl::gateways::acme;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s += static_cast<char>(v);
  return s;
}

/// A response header: id 0x1234, QR RD RA, rcode, one question, `an` answers.
std::string header(int an, int rcode = 0, bool tc = false) {
  return bytes({0x12, 0x34, 0x81 | (tc ? 0x02 : 0), 0x80 | rcode, 0, 1, 0, an, 0, 0, 0, 0});
}

/// The question "_acme-challenge.example.test" TXT IN (starts at offset 12).
std::string question() {
  return bytes({15}) + "_acme-challenge" + bytes({7}) + "example" + bytes({4}) + "test" +
         bytes({0, 0, 16, 0, 1});
}

std::string txt_record(const std::string& owner, const std::string& value) {
  return owner +
         bytes({0, 16, 0, 1, 0, 0, 0, 60, 0, static_cast<int>(value.size() + 1),
                static_cast<int>(value.size())}) +
         value;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dns_message)

BOOST_AUTO_TEST_CASE(query_is_a_recursive_question_in_wire_form) {
  auto q = dns::encode_query(0xBEEF, "_acme-challenge.Example.test.", dns::type_txt);
  BOOST_REQUIRE(q.ok());
  const std::string want = bytes({0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0}) + bytes({15}) +
                           "_acme-challenge" + bytes({7}) + "Example" + bytes({4}) + "test" +
                           bytes({0, 0, 16, 0, 1});
  BOOST_TEST(*q == want);
  BOOST_TEST(!dns::encode_query(1, "", dns::type_txt).ok());
  BOOST_TEST(!dns::encode_query(1, "a..b", dns::type_txt).ok());
  BOOST_TEST(!dns::encode_query(1, std::string(64, 'a') + ".test", dns::type_txt).ok());
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";
  BOOST_TEST(!dns::encode_query(1, long_name + "x", dns::type_txt).ok());
}

BOOST_AUTO_TEST_CASE(answer_with_compression_pointers_decodes) {
  // Two TXT records owned by the question name (pointer to 12), one split over two strings.
  const std::string msg = header(2) + question() + txt_record(bytes({0xC0, 12}), "first") +
                          bytes({0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 8, 3}) + "abc" +
                          bytes({3}) + "def";
  auto m = dns::decode(msg);
  BOOST_REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  BOOST_TEST(m->id == 0x1234);
  BOOST_TEST(m->response);
  BOOST_TEST(!m->truncated);
  BOOST_TEST(m->rcode == 0);
  BOOST_REQUIRE(m->questions.size() == 1u);
  BOOST_TEST(m->questions[0].name == "_acme-challenge.example.test");
  BOOST_REQUIRE(m->answers.size() == 2u);
  BOOST_TEST(m->answers[0].name == "_acme-challenge.example.test");
  BOOST_TEST(m->answers[0].ttl == 60u);
  BOOST_TEST(m->answers[0].txt == std::vector<std::string>{"first"});
  BOOST_TEST(m->answers[1].txt == (std::vector<std::string>{"abc", "def"}));
  BOOST_TEST(txt_values(*m, "_acme-challenge.EXAMPLE.test.") ==
             (std::vector<std::string>{"first", "abcdef"}));
  BOOST_TEST(txt_values(*m, "other.test").empty());
}

BOOST_AUTO_TEST_CASE(cname_chains_inside_the_answer_are_followed) {
  // CNAME question -> "x.dns.test" (its "dns.test" a pointer back into the question? no: a
  // fresh name), then a TXT owned by a pointer into the CNAME's rdata.
  const std::string q = question();
  std::string msg = header(2) + q;
  msg += bytes({0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 12});
  const size_t target_at = msg.size();
  msg += bytes({1}) + "x" + bytes({3}) + "dns" + bytes({4}) + "test" + bytes({0});
  msg += txt_record(bytes({0xC0, static_cast<int>(target_at)}), "digest");
  auto m = dns::decode(msg);
  BOOST_REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error().message));
  BOOST_TEST(m->answers[0].target == "x.dns.test");
  BOOST_TEST(m->answers[1].name == "x.dns.test");
  BOOST_TEST(txt_values(*m, "_acme-challenge.example.test") == std::vector<std::string>{"digest"});
  // A TXT record of an unrelated owner does not count.
  BOOST_TEST(txt_values(*m, "x.dns.test") == std::vector<std::string>{"digest"});
}

BOOST_AUTO_TEST_CASE(labels_with_dots_or_odd_bytes_cannot_impersonate_other_names) {
  // One label "_acme-challenge.example" + label "test": must not read as the 3-label name.
  const std::string msg = header(0) + bytes({23}) + "_acme-challenge.example" + bytes({4}) +
                          "test" + bytes({0, 0, 16, 0, 1});
  auto m = dns::decode(msg);
  BOOST_REQUIRE(m.ok());
  BOOST_TEST(m->questions[0].name == "_acme-challenge\\046example.test");
  BOOST_TEST(m->questions[0].name != dns::canonical_name("_acme-challenge.example.test"));
  auto nul = dns::decode(header(0) + bytes({3, 'a', 0, 'B', 0, 0, 16, 0, 1}));
  BOOST_REQUIRE(nul.ok());
  BOOST_TEST(nul->questions[0].name == "a\\000b");
}

BOOST_AUTO_TEST_CASE(malformed_messages_are_errors) {
  const std::string q = question();
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"short header", bytes({0x12, 0x34, 0x81})},
      {"question cut", header(0) + q.substr(0, 10)},
      {"question type cut", header(0) + q.substr(0, q.size() - 2)},
      {"forward pointer",
       header(1) + q + bytes({0xC0, 0xFF}) + bytes({0, 16, 0, 1, 0, 0, 0, 1, 0, 0})},
      {"self pointer", header(0) + bytes({0xC0, 12, 0, 16, 0, 1})},
      {"pointer cut", header(0) + bytes({0xC0})},
      {"label type 01", header(0) + bytes({0x40, 0, 0, 16, 0, 1})},
      {"label past end", header(0) + bytes({40, 'a', 'b'})},
      {"answer missing", header(1) + q},
      {"answer cut", header(1) + q + bytes({0xC0, 12, 0, 16, 0})},
      {"rdata past end", header(1) + q + bytes({0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 1, 0, 9, 3})},
      {"txt string past rdata",
       header(1) + q + bytes({0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2, 5, 'a'})},
      {"cname not filling rdata",
       header(1) + q + bytes({0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 1, 0, 4, 0xC0, 12, 0, 0})},
  };
  for (const auto& [what, msg] : bad) BOOST_TEST(!dns::decode(msg).ok(), what);
  // A name over 255 octets through pointers: four 63-octet labels chained backwards inside
  // the rdata of an unknown record type, named by the second record's owner.
  std::string msg = bytes({0x12, 0x34, 0x81, 0x80, 0, 0, 0, 2, 0, 0, 0, 0});
  msg += bytes({0, 0, 99, 0, 1, 0, 0, 0, 1, 0, 0});  // owner root, rdlength patched below
  const size_t rdata_at = msg.size();
  size_t prev = 0;
  for (int i = 0; i < 4; ++i) {
    const size_t at = msg.size();
    msg += bytes({63}) + std::string(63, 'a');
    msg += i == 0 ? bytes({0}) : bytes({0xC0, static_cast<int>(prev)});
    prev = at;
  }
  const size_t rdlength = msg.size() - rdata_at;
  msg[rdata_at - 2] = static_cast<char>(rdlength >> 8);
  msg[rdata_at - 1] = static_cast<char>(rdlength & 0xFF);
  msg += bytes({0xC0 | static_cast<int>(prev >> 8), static_cast<int>(prev & 0xFF), 0, 16, 0, 1, 0,
                0, 0, 1, 0, 0});
  auto too_long = dns::decode(msg);
  BOOST_REQUIRE(!too_long.ok());
  BOOST_TEST(too_long.error().message.find("255") != std::string::npos, too_long.error().message);
}

BOOST_AUTO_TEST_CASE(resolver_addresses_parse_and_default_from_resolv_conf) {
  auto a = parse_resolver_address("127.0.0.1:5353");
  BOOST_REQUIRE(a.ok());
  BOOST_TEST(a->host == "127.0.0.1");
  BOOST_TEST(a->port == 5353);
  BOOST_TEST(parse_resolver_address("10.0.0.1")->port == 53);
  BOOST_TEST(parse_resolver_address("[::1]:54")->host == "::1");
  BOOST_TEST(parse_resolver_address("[::1]:54")->port == 54);
  BOOST_TEST(parse_resolver_address("fe80::1")->host == "fe80::1");
  for (const char* bad :
       {"", ":53", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:70000", "1.2.3.4:x", "[::1", "[::1]x"})
    BOOST_TEST(!parse_resolver_address(bad).ok(), bad);

  const std::string path = "/tmp/certctl-resolv-" + std::to_string(::getpid()) + ".conf";
  {
    std::ofstream out(path);
    out << "# comment\nsearch example.test\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n";
  }
  auto d = default_resolver(path);
  BOOST_REQUIRE(d.ok());
  BOOST_TEST(d->host == "192.0.2.53");
  BOOST_TEST(d->port == 53);
  {
    std::ofstream out(path);
    out << "search example.test\n";
  }
  BOOST_TEST(!default_resolver(path).ok());
  std::remove(path.c_str());
}

BOOST_AUTO_TEST_SUITE_END()
