// ACME accounts, orders and authorizations as given/when/then specifications (pure domain).
#define BOOST_TEST_MODULE domain_acme
#include <boost/test/unit_test.hpp>

#include "tests/domain/given_when_then.hpp"

using certctl::testing::scenario;

namespace {
const char* register_body =
    R"({"jwk":"{\"crv\":\"P-256\"}","thumbprint":"tp","contact":["mailto:a@example.test"],)"
    R"("terms_of_service_agreed":true,"profile_id":""})";
}  // namespace

BOOST_AUTO_TEST_SUITE(acme_account_aggregate)

BOOST_AUTO_TEST_CASE(register_is_idempotent_on_the_same_stream) {
  scenario s("acme_account", "acct-1");
  auto first = s.when("acme_account.register", register_body);
  BOOST_REQUIRE(first.ok());
  BOOST_TEST(first->size() == 1u);
  BOOST_TEST(first->at(0).type == "acme_account.registered");
  s.given(*first);
  BOOST_TEST(s.view().str("status") == "valid");
  BOOST_TEST(s.view().str("thumbprint") == "tp");
  // The same key again: no new events, the existing account is the answer.
  auto again = s.when("acme_account.register", register_body);
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(again->empty());
}

BOOST_AUTO_TEST_CASE(change_key_records_the_new_thumbprint_and_keys_bind_once) {
  scenario s("acme_account", "acct-1");
  s.given(*s.when("acme_account.register", register_body));
  auto changed = s.when("acme_account.change_key", R"({"jwk":"{}","thumbprint":"tp2"})");
  BOOST_REQUIRE(changed.ok());
  BOOST_REQUIRE(changed->size() == 1u);
  BOOST_TEST(changed->at(0).type == "acme_account.key_changed");
  s.given(*changed);
  BOOST_TEST(s.view().str("thumbprint") == "tp2");
  BOOST_TEST(s.when("acme_account.change_key", R"({"jwk":"{}","thumbprint":"tp2"})")->empty());

  scenario k("acme_key", "acct-2");
  BOOST_TEST(!k.view().has("id"));  // no key claim yet
  auto bound = k.when("acme_key.bind", R"({"account_id":"acct-1","thumbprint":"tp2"})");
  BOOST_REQUIRE(bound.ok());
  k.given(*bound);
  BOOST_TEST(k.view().str("account_id") == "acct-1");
  BOOST_TEST(k.when("acme_key.bind", R"({"account_id":"acct-1","thumbprint":"tp2"})")->empty());
  auto other = k.when("acme_key.bind", R"({"account_id":"acct-9","thumbprint":"tp2"})");
  BOOST_REQUIRE(!other.ok());
  BOOST_TEST((other.error().code == certctl::domain::domain_errc::conflict));
}

BOOST_AUTO_TEST_CASE(contacts_must_be_mailto_urls) {
  scenario s("acme_account", "acct-1");
  auto bad =
      s.when("acme_account.register", R"({"jwk":"{}","thumbprint":"tp","contact":["tel:+123"]})");
  BOOST_REQUIRE(!bad.ok());
  BOOST_TEST((bad.error().code == certctl::domain::domain_errc::invalid));
  BOOST_TEST(!s.when("acme_account.register", R"({"thumbprint":"tp"})").ok());
}

BOOST_AUTO_TEST_CASE(update_and_deactivate) {
  scenario s("acme_account", "acct-1");
  BOOST_TEST(!s.when("acme_account.update", "{}").ok());  // not found yet
  s.given_command("acme_account.register", register_body);
  s.given_command("acme_account.update", R"({"contact":["mailto:b@example.test"]})");
  BOOST_TEST(s.view().str_array("contact").at(0) == "mailto:b@example.test");
  s.given_command("acme_account.deactivate", "{}");
  BOOST_TEST(s.view().str("status") == "deactivated");
  // Deactivation is final: updates are refused, a second deactivate changes nothing.
  auto upd = s.when("acme_account.update", R"({"contact":[]})");
  BOOST_REQUIRE(!upd.ok());
  BOOST_TEST((upd.error().code == certctl::domain::domain_errc::forbidden));
  BOOST_TEST(s.when("acme_account.deactivate", "{}")->empty());
}

BOOST_AUTO_TEST_SUITE_END()
