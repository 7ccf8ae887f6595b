#include "infra/crypto/ca_constraints.hpp"

#include <boost/test/unit_test.hpp>

#include "infra/crypto/keys.hpp"
#include "infra/crypto/signer.hpp"

using namespace certctl::crypto;

namespace {

std::string error_of(const crypto_result<ca_constraints>& r) {
  BOOST_REQUIRE(!r.ok());
  return r.error().message;
}

ca_constraints derive(const ca_constraints& parent, child_constraints_request req) {
  auto r = derive_child_constraints(parent, req);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
  return r.value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ca_constraints_rules)

BOOST_AUTO_TEST_CASE(dns_subtrees_follow_rfc_5280_and_openssl) {
  BOOST_TEST(dns_name_in_subtree("example.com", "example.com"));
  BOOST_TEST(dns_name_in_subtree("a.b.example.com", "example.com"));
  BOOST_TEST(!dns_name_in_subtree("badexample.com", "example.com"));
  BOOST_TEST(!dns_name_in_subtree("example.com", ".example.com"));
  BOOST_TEST(dns_name_in_subtree("www.example.com", ".example.com"));
  BOOST_TEST(!dns_name_in_subtree("example.org", "example.com"));
}

BOOST_AUTO_TEST_CASE(subtree_containment) {
  BOOST_TEST(dns_subtree_within("example.com", "example.com"));
  BOOST_TEST(dns_subtree_within("a.example.com", "example.com"));
  BOOST_TEST(dns_subtree_within(".example.com", "example.com"));
  BOOST_TEST(dns_subtree_within(".example.com", ".example.com"));
  BOOST_TEST(dns_subtree_within("a.example.com", ".example.com"));
  BOOST_TEST(!dns_subtree_within("example.com", ".example.com"));  // adds example.com itself
  BOOST_TEST(!dns_subtree_within("example.org", "example.com"));
  BOOST_TEST(!dns_subtree_within("xexample.com", "example.com"));
  BOOST_TEST(!dns_subtree_within("com", "example.com"));
}

BOOST_AUTO_TEST_CASE(path_length_must_shrink) {
  ca_constraints root;  // unconstrained
  BOOST_TEST(derive(root, {}).path_len == -1);
  BOOST_TEST(derive(root, {3, {}, {}}).path_len == 3);
  ca_constraints parent;
  parent.path_len = 2;
  BOOST_TEST(derive(parent, {}).path_len == 1);  // inherited, one level used
  BOOST_TEST(derive(parent, {1, {}, {}}).path_len == 1);
  BOOST_TEST(derive(parent, {0, {}, {}}).path_len == 0);
  BOOST_TEST(error_of(derive_child_constraints(parent, {2, {}, {}})).find("less than") !=
             std::string::npos);
  parent.path_len = 0;
  BOOST_TEST(error_of(derive_child_constraints(parent, {})).find("pathLenConstraint 0") !=
             std::string::npos);
  BOOST_TEST(error_of(derive_child_constraints(root, {-1, {}, {}})).find("between") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(permitted_subtrees_must_be_within_the_parents) {
  ca_constraints parent;
  parent.permitted_dns = {"example.com"};
  parent.excluded_dns = {"secret.example.com"};
  auto child = derive(parent, {std::nullopt, {"Shop.Example.com"}, {"old.shop.example.com"}});
  BOOST_TEST(child.permitted_dns == std::vector<std::string>{"shop.example.com"});
  // Excluded subtrees accumulate: the parent's stay, the request's are added.
  BOOST_TEST(child.excluded_dns ==
             (std::vector<std::string>{"secret.example.com", "old.shop.example.com"}));
  // No permitted subtrees asked for: the parent's are inherited, never dropped.
  BOOST_TEST(derive(parent, {}).permitted_dns == std::vector<std::string>{"example.com"});
  const auto outside =
      error_of(derive_child_constraints(parent, {std::nullopt, {"example.org"}, {}}));
  BOOST_TEST(outside.find("\"example.org\" is not within the parent's permitted subtrees") !=
             std::string::npos);
  BOOST_TEST(outside.find("4.2.1.10") != std::string::npos);
  BOOST_TEST(
      error_of(derive_child_constraints(parent, {std::nullopt, {"a.secret.example.com"}, {}}))
          .find("excluded") != std::string::npos);
  // An unconstrained parent allows any permitted set.
  BOOST_TEST(derive(ca_constraints{}, {std::nullopt, {"example.org"}, {}}).permitted_dns.size() ==
             1);
}

BOOST_AUTO_TEST_CASE(bad_subtrees_are_refused) {
  BOOST_TEST(!normalize_dns_subtree("").ok());
  BOOST_TEST(!normalize_dns_subtree(".").ok());
  BOOST_TEST(!normalize_dns_subtree("*.example.com").ok());
  BOOST_TEST(!normalize_dns_subtree("exa mple.com").ok());
  BOOST_TEST(normalize_dns_subtree(".Example.COM").value() == ".example.com");
}

BOOST_AUTO_TEST_CASE(leaf_names_are_checked_against_the_constraints) {
  ca_constraints c;
  c.permitted_dns = {"example.com"};
  c.excluded_dns = {"secret.example.com"};
  BOOST_TEST(check_dns_name_allowed(c, "www.Example.com").ok());
  auto outside = check_dns_name_allowed(c, "www.example.org");
  BOOST_REQUIRE(!outside.ok());
  BOOST_TEST(outside.error().message.find("outside the permitted subtrees") != std::string::npos);
  BOOST_TEST(!check_dns_name_allowed(c, "db.secret.example.com").ok());
  BOOST_TEST(check_dns_name_allowed(ca_constraints{}, "anything.test").ok());
}

BOOST_AUTO_TEST_CASE(constraints_are_read_back_from_a_certificate) {
  auto key = generate_key(key_type::ecdsa_p256);
  BOOST_REQUIRE(key.ok());
  certificate_template t;
  t.subject.common_name = "Constrained CA";
  t.not_before = 1700000000;
  t.not_after = 1900000000;
  t.is_ca = true;
  t.path_len = 1;
  t.permitted_dns = {"example.com", ".example.net"};
  t.excluded_dns = {"bad.example.com"};
  auto pem = self_sign(key.value().pem, t);
  BOOST_REQUIRE(pem.ok());
  auto c = read_ca_constraints(pem.value());
  BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? std::string() : c.error().message));
  BOOST_TEST(c.value().path_len == 1);
  BOOST_TEST(c.value().permitted_dns == (std::vector<std::string>{"example.com", ".example.net"}));
  BOOST_TEST(c.value().excluded_dns == std::vector<std::string>{"bad.example.com"});

  t.is_ca = false;
  t.path_len = -1;
  t.permitted_dns.clear();
  t.excluded_dns.clear();
  auto leaf = self_sign(key.value().pem, t);
  BOOST_REQUIRE(leaf.ok());
  BOOST_TEST(error_of(read_ca_constraints(leaf.value())).find("not a CA") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
