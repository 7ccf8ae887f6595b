// Address classification and CIDR parsing (infra/net/ip_address): every range the outbound
// guard refuses, the IPv6 forms that embed an IPv4 address, and the allow-list syntax.
#define BOOST_TEST_MODULE infra_net_ip_address
#include <boost/test/unit_test.hpp>

#include "infra/net/ip_address.hpp"

using namespace certctl::net;

namespace {

ip_address ip(const std::string& text) {
  ip_address a;
  BOOST_REQUIRE_MESSAGE(parse_ip(text, a), text);
  return a;
}

std::string class_of(const std::string& text) {
  return to_string(classify(ip(text)));
}

}  // namespace

BOOST_AUTO_TEST_CASE(ipv4_ranges_are_classified_at_both_edges) {
  const std::pair<const char*, const char*> cases[] = {
      {"0.0.0.0", "unspecified"},
      {"0.1.2.3", "reserved"},
      {"127.0.0.1", "loopback"},
      {"127.255.255.255", "loopback"},
      {"10.0.0.0", "private_use"},
      {"10.255.255.255", "private_use"},
      {"172.15.255.255", "public_unicast"},
      {"172.16.0.0", "private_use"},
      {"172.31.255.255", "private_use"},
      {"172.32.0.0", "public_unicast"},
      {"192.168.1.1", "private_use"},
      {"192.169.0.1", "public_unicast"},
      {"100.63.255.255", "public_unicast"},
      {"100.64.0.0", "shared_cgnat"},
      {"100.127.255.255", "shared_cgnat"},
      {"100.128.0.0", "public_unicast"},
      {"169.254.169.254", "link_local"},
      {"169.253.255.255", "public_unicast"},
      {"192.0.2.1", "documentation"},
      {"198.51.100.7", "documentation"},
      {"203.0.113.255", "documentation"},
      {"198.18.0.0", "benchmarking"},
      {"198.19.255.255", "benchmarking"},
      {"198.20.0.0", "public_unicast"},
      {"192.0.0.8", "reserved"},
      {"192.88.99.1", "reserved"},
      {"224.0.0.1", "multicast"},
      {"239.255.255.255", "multicast"},
      {"240.0.0.1", "reserved"},
      {"255.255.255.254", "reserved"},
      {"255.255.255.255", "broadcast"},
      {"8.8.8.8", "public_unicast"},
      {"1.1.1.1", "public_unicast"},
      {"223.255.255.255", "public_unicast"},
  };
  for (const auto& [addr, expected] : cases) BOOST_TEST(class_of(addr) == expected, addr);
}

BOOST_AUTO_TEST_CASE(ipv6_ranges_are_classified_at_both_edges) {
  const std::pair<const char*, const char*> cases[] = {
      {"::", "unspecified"},
      {"::1", "loopback"},
      {"::2", "reserved"},  // IPv4-compatible, deprecated
      {"fc00::1", "private_use"},
      {"fdff:ffff::1", "private_use"},
      {"fe00::1", "reserved"},
      {"fe80::1", "link_local"},
      {"febf:ffff::1", "link_local"},
      {"fec0::1", "reserved"},
      {"ff02::1", "multicast"},
      {"2001:db8::1", "documentation"},
      {"3fff::1", "documentation"},
      {"2001:2::1", "benchmarking"},
      {"2001::1", "reserved"},  // Teredo
      {"100::1", "reserved"},
      {"64:ff9b:1::1", "private_use"},
      {"2606:4700:4700::1111", "public_unicast"},
      {"2a00:1450:4001::1", "public_unicast"},
      {"4000::1", "reserved"},  // outside 2000::/3
  };
  for (const auto& [addr, expected] : cases) BOOST_TEST(class_of(addr) == expected, addr);
}

BOOST_AUTO_TEST_CASE(ipv6_forms_embedding_ipv4_take_the_class_of_the_embedded_address) {
  BOOST_TEST(class_of("::ffff:127.0.0.1") == "loopback");
  BOOST_TEST(class_of("::ffff:169.254.169.254") == "link_local");
  BOOST_TEST(class_of("::ffff:10.1.2.3") == "private_use");
  BOOST_TEST(class_of("::ffff:8.8.8.8") == "public_unicast");
  BOOST_TEST(class_of("64:ff9b::7f00:1") == "loopback");          // NAT64 of 127.0.0.1
  BOOST_TEST(class_of("64:ff9b::808:808") == "public_unicast");   // NAT64 of 8.8.8.8
  BOOST_TEST(class_of("2002:a9fe:a9fe::1") == "link_local");      // 6to4 of 169.254.169.254
  BOOST_TEST(class_of("2002:0808:0808::1") == "public_unicast");  // 6to4 of 8.8.8.8
}

BOOST_AUTO_TEST_CASE(addresses_parse_and_print_canonically) {
  ip_address a;
  BOOST_TEST(!parse_ip("", a));
  BOOST_TEST(!parse_ip("1.2.3", a));
  BOOST_TEST(!parse_ip("1.2.3.256", a));
  BOOST_TEST(!parse_ip("[::1]", a));
  BOOST_TEST(!parse_ip("localhost", a));
  BOOST_TEST(to_string(ip("2001:0DB8:0:0::1")) == "2001:db8::1");
  BOOST_TEST(to_string(ip("10.0.0.1")) == "10.0.0.1");
}

BOOST_AUTO_TEST_CASE(cidrs_parse_with_edge_prefixes_and_match) {
  auto all4 = parse_cidr("0.0.0.0/0");
  BOOST_REQUIRE(all4.ok());
  BOOST_TEST(all4->contains(ip("255.255.255.255")));
  BOOST_TEST(!all4->contains(ip("::1")));  // a v4 range does not match native IPv6
  auto host = parse_cidr("127.0.0.1");
  BOOST_REQUIRE(host.ok());
  BOOST_TEST(host->prefix == 32);
  BOOST_TEST(host->contains(ip("127.0.0.1")));
  BOOST_TEST(!host->contains(ip("127.0.0.2")));
  // A dual-stack peer seen as ::ffff:127.0.0.1 is the same host.
  BOOST_TEST(host->contains(ip("::ffff:127.0.0.1")));
  auto r12 = parse_cidr("172.16.0.0/12");
  BOOST_REQUIRE(r12.ok());
  BOOST_TEST(r12->contains(ip("172.31.255.255")));
  BOOST_TEST(!r12->contains(ip("172.32.0.0")));
  auto v6 = parse_cidr("fd00::/8");
  BOOST_REQUIRE(v6.ok());
  BOOST_TEST(v6->contains(ip("fdab::1")));
  BOOST_TEST(!v6->contains(ip("fc00::1")));
  auto all6 = parse_cidr("::/0");
  BOOST_REQUIRE(all6.ok());
  BOOST_TEST(all6->contains(ip("fe80::1")));
  BOOST_TEST(!all6->contains(ip("10.0.0.1")));
  auto one6 = parse_cidr("::1/128");
  BOOST_REQUIRE(one6.ok());
  BOOST_TEST(one6->contains(ip("::1")));
  BOOST_TEST(to_string(*one6) == "::1/128");
  auto odd = parse_cidr("10.0.0.128/25");
  BOOST_REQUIRE(odd.ok());
  BOOST_TEST(odd->contains(ip("10.0.0.200")));
  BOOST_TEST(!odd->contains(ip("10.0.0.127")));
}

BOOST_AUTO_TEST_CASE(malformed_cidrs_are_refused_with_the_entry_named) {
  for (const char* bad :
       {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1", "10.0.0.0/8x", "10.0.0.1/8",
        "fd00::1/8", "localhost/32", "10.0.0.0/0008", "[::1]/128"}) {
    auto r = parse_cidr(bad);
    BOOST_TEST(!r.ok(), bad);
    if (!r.ok())
      BOOST_TEST(r.error().message.find(std::string("'") + bad + "'") != std::string::npos,
                 r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(cidr_lists_are_comma_separated_and_strict_about_empty_entries) {
  auto empty = parse_cidr_list("");
  BOOST_REQUIRE(empty.ok());
  BOOST_TEST(empty->empty());
  auto two = parse_cidr_list(" 127.0.0.1/32 , ::1/128");
  BOOST_REQUIRE(two.ok());
  BOOST_REQUIRE(two->size() == 2u);
  BOOST_TEST(to_string((*two)[1]) == "::1/128");
  BOOST_TEST(!parse_cidr_list("127.0.0.1/32,").ok());
  BOOST_TEST(!parse_cidr_list("127.0.0.1/32,,10.0.0.0/8").ok());
  auto bad = parse_cidr_list("127.0.0.1/32,10.0.0.0/99");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST(bad.error().message.find("10.0.0.0/99") != std::string::npos);
}
