// API keys: configuration parsing, constant-time comparison, hashed storage, bearer parsing.
#define BOOST_TEST_MODULE gateways_rest
#include <boost/test/unit_test.hpp>

#include "gateways/http/api_keys.hpp"
#include "gateways/http/constant_time.hpp"

using namespace certctl::gateways::http;

BOOST_AUTO_TEST_SUITE(constant_time_compare)

BOOST_AUTO_TEST_CASE(equal_inputs_compare_equal) {
  BOOST_TEST(constant_time_equal("", ""));
  BOOST_TEST(constant_time_equal("abc", "abc"));
  const std::string binary("\0\x01\xff", 3);
  BOOST_TEST(constant_time_equal(binary, binary));
}

BOOST_AUTO_TEST_CASE(any_difference_in_content_or_length_compares_unequal) {
  BOOST_TEST(!constant_time_equal("abc", "abd"));
  BOOST_TEST(!constant_time_equal("abc", "xbc"));
  BOOST_TEST(!constant_time_equal("abc", "ab"));
  BOOST_TEST(!constant_time_equal("ab", "abc"));
  BOOST_TEST(!constant_time_equal("", "a"));
  // A prefix padded with NULs must not collide with the shorter input.
  BOOST_TEST(!constant_time_equal(std::string("ab\0", 3), "ab"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(key_configuration)

BOOST_AUTO_TEST_CASE(names_keys_and_roles_parse_with_operator_as_the_default_role) {
  auto keys = parse_named_keys(" alice:k1:admin , bob:k2, carol:k3:viewer,dave:k4:operator, ");
  BOOST_REQUIRE(keys.ok());
  BOOST_REQUIRE(keys->size() == 4u);
  BOOST_TEST((*keys)[0].name == "alice");
  BOOST_TEST((*keys)[0].key == "k1");
  BOOST_TEST(((*keys)[0].level == role::admin));
  BOOST_TEST(((*keys)[1].level == role::operator_));
  BOOST_TEST(((*keys)[2].level == role::viewer));
  BOOST_TEST(((*keys)[3].level == role::operator_));
}

BOOST_AUTO_TEST_CASE(an_empty_configuration_is_no_keys) {
  auto keys = parse_named_keys(" , ");
  BOOST_REQUIRE(keys.ok());
  BOOST_TEST(keys->empty());
}

BOOST_AUTO_TEST_CASE(bad_entries_are_rejected_naming_the_entry_but_never_the_key) {
  auto unknown_role = parse_named_keys("alice:sekrit1:root");
  BOOST_REQUIRE(!unknown_role.ok());
  BOOST_TEST(unknown_role.error().message ==
             "CERTCTL_API_KEYS_NAMED entry 1 ('alice'): unknown role 'root' (expected admin, "
             "operator, viewer or agent)");
  const char* bad[] = {"justakey",           "alice:",      ":sekrit2",
                       "a b:sekrit3",        "a:k:admin:x", "a:sekrit4,a:sekrit5",
                       "a:sekrit6,b:sekrit6"};
  for (const char* spec : bad) {
    auto r = parse_named_keys(spec);
    BOOST_TEST(!r.ok(), spec);
    if (!r.ok()) BOOST_TEST(r.error().message.find("sekrit") == std::string::npos, spec);
  }
}

BOOST_AUTO_TEST_CASE(roles_are_ordered_viewer_operator_admin) {
  BOOST_TEST((role::viewer < role::operator_));
  BOOST_TEST((role::operator_ < role::admin));
  BOOST_TEST((role::none < role::viewer));
  BOOST_TEST(to_string(role::operator_) == "operator");
  BOOST_TEST(!parse_role("none").has_value());
}

BOOST_AUTO_TEST_CASE(an_agent_key_parses_and_round_trips_its_role_name) {
  auto keys = parse_named_keys("edge-7:k7:agent");
  BOOST_REQUIRE(keys.ok());
  BOOST_TEST(((*keys)[0].level == role::agent));
  BOOST_TEST(to_string(role::agent) == "agent");
  BOOST_TEST((parse_role("agent") == std::optional<role>(role::agent)));
}

BOOST_AUTO_TEST_CASE(an_agent_key_names_the_agent_it_is_bound_to) {
  auto keys = parse_named_keys("edge-7:k7:agent:agent-7, ops:k8:operator");
  BOOST_REQUIRE(keys.ok());
  BOOST_TEST((*keys)[0].agent_id == "agent-7");
  BOOST_TEST((*keys)[1].agent_id.empty());
  // The binding reaches the principal the key authenticates as.
  const auto who = key_store::from_named_keys(*keys).authenticate("k7");
  BOOST_REQUIRE(who.has_value());
  BOOST_TEST(who->agent_id == "agent-7");
  // Only an agent key names an agent, and the id must be a plain id.
  BOOST_TEST(!parse_named_keys("v:k:viewer:agent-7").ok());
  BOOST_TEST(!parse_named_keys("e:k:agent:bad id").ok());
  BOOST_TEST(!parse_named_keys("e:k:agent:a:b").ok());
}

BOOST_AUTO_TEST_CASE(a_bare_role_rule_admits_that_role_and_the_ordered_ones_above_it_never_agent) {
  const access_rule viewer_up = role::viewer;
  BOOST_TEST(viewer_up.admits(role::viewer));
  BOOST_TEST(viewer_up.admits(role::operator_));
  BOOST_TEST(viewer_up.admits(role::admin));
  BOOST_TEST(!viewer_up.admits(role::agent));
  BOOST_TEST(!viewer_up.admits(role::none));
  const access_rule operator_up = role::operator_;
  BOOST_TEST(!operator_up.admits(role::viewer));
  BOOST_TEST(operator_up.admits(role::admin));
  BOOST_TEST(!operator_up.admits(role::agent));
  const access_rule admin_only = role::admin;
  BOOST_TEST(!admin_only.admits(role::operator_));
  BOOST_TEST(admin_only.describe() == "admin");
  const access_rule open = role::none;
  BOOST_TEST(open.is_public());
  BOOST_TEST(open.describe() == "public");
}

BOOST_AUTO_TEST_CASE(agent_is_admitted_only_where_a_rule_names_it) {
  const access_rule agent_ops = access_rule::at_least(role::operator_).plus(role::agent);
  BOOST_TEST(agent_ops.admits(role::agent));
  BOOST_TEST(agent_ops.admits(role::operator_));
  BOOST_TEST(!agent_ops.admits(role::viewer));
  BOOST_TEST(agent_ops.describe() == "operator|admin|agent");
  const access_rule agent_only = access_rule::only({role::agent});
  BOOST_TEST(agent_only.admits(role::agent));
  BOOST_TEST(!agent_only.admits(role::admin));
  BOOST_TEST(!agent_only.is_public());
  // An empty list admits nobody; it must never read as "public".
  const access_rule nobody = access_rule::only({});
  BOOST_TEST(!nobody.is_public());
  BOOST_TEST(nobody.describe() == "nobody");
  for (role r : {role::viewer, role::operator_, role::admin, role::agent})
    BOOST_TEST(!nobody.admits(r));
  BOOST_TEST((access_rule::only({role::admin}) == access_rule(role::admin)));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(key_store_lookup)

BOOST_AUTO_TEST_CASE(a_presented_key_finds_its_principal_and_nothing_else_does) {
  auto keys = parse_named_keys("alice:key-a:admin,bob:key-b,carol:key-c:viewer");
  BOOST_REQUIRE(keys.ok());
  const auto store = key_store::from_named_keys(*keys);
  BOOST_TEST(store.size() == 3u);
  for (const auto& k : *keys) {
    const auto p = store.authenticate(k.key);
    BOOST_REQUIRE(p.has_value());
    BOOST_TEST(p->name == k.name);
    BOOST_TEST((p->level == k.level));
  }
  BOOST_TEST(!store.authenticate("key-").has_value());
  BOOST_TEST(!store.authenticate("key-a ").has_value());
  BOOST_TEST(!store.authenticate("").has_value());
  BOOST_TEST(!key_store{}.authenticate("key-a").has_value());
}

BOOST_AUTO_TEST_CASE(records_keep_only_a_salted_hash) {
  const auto r1 = hash_key({"alice", "same-key", role::admin, {}});
  const auto r2 = hash_key({"alice", "same-key", role::admin, {}});
  BOOST_TEST(r1.salt.size() == key_salt_bytes);
  BOOST_TEST(r1.salt != r2.salt);
  BOOST_TEST((r1.hash != r2.hash));
  BOOST_TEST((r1.hash == salted_hash(r1.salt, "same-key")));
}

BOOST_AUTO_TEST_CASE(bearer_tokens_are_extracted_only_from_well_formed_headers) {
  BOOST_TEST(bearer_token("Bearer abc").value_or("") == "abc");
  BOOST_TEST(bearer_token("bearer   abc  ").value_or("") == "abc");
  BOOST_TEST(!bearer_token("Bearer").has_value());
  BOOST_TEST(!bearer_token("Bearer ").has_value());
  BOOST_TEST(!bearer_token("Bearerabc").has_value());
  BOOST_TEST(!bearer_token("Basic abc").has_value());
  BOOST_TEST(!bearer_token("Bearer a b").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
