#include <boost/test/unit_test.hpp>

#include "infra/store/postgres_store.hpp"
#include "infra/store/store_url.hpp"

using namespace certctl::store;

BOOST_AUTO_TEST_SUITE(store_urls)

BOOST_AUTO_TEST_CASE(the_three_url_forms_parse) {
  BOOST_TEST((parse_store_url("memory:")->k == store_url::kind::memory));
  auto sqlite = parse_store_url("sqlite:///var/lib/certctl/events.db");
  BOOST_REQUIRE(sqlite.ok());
  BOOST_TEST(sqlite->location == "/var/lib/certctl/events.db");
  BOOST_TEST((parse_store_url("postgresql://certctl@127.0.0.1:5432/certctl")->k ==
              store_url::kind::postgres));
  BOOST_TEST((parse_store_url("postgres://u:p@h/db")->k == store_url::kind::postgres));
}

BOOST_AUTO_TEST_CASE(malformed_urls_are_refused_with_a_message_naming_the_problem) {
  auto relative = parse_store_url("sqlite://relative/path.db");
  BOOST_REQUIRE(!relative.ok());
  BOOST_TEST(relative.error().code == store_errc::bad_url);
  BOOST_TEST(relative.error().message.find("absolute") != std::string::npos);
  auto unknown = parse_store_url("mysql://x");
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST(unknown.error().message.find("unknown scheme") != std::string::npos);
  BOOST_TEST(!parse_store_url("").ok());
  BOOST_TEST(!parse_store_url("postgresql://").ok());
}

BOOST_AUTO_TEST_CASE(passwords_never_appear_in_messages) {
  BOOST_TEST(redact_uri("postgresql://user:s3cret@host:5432/db") ==
             "postgresql://user:***@host:5432/db");
  auto refused = open_event_store("postgresql://user:s3cret@127.0.0.1:1/db?connect_timeout=2");
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST(refused.error().code == store_errc::unavailable);
  BOOST_TEST(refused.error().message.find("s3cret") == std::string::npos);
  BOOST_TEST(refused.error().message.find("127.0.0.1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unopenable_sqlite_path_is_a_clear_error) {
  auto r = open_event_store("sqlite:///nonexistent-dir-certctl/x/events.db");
  BOOST_REQUIRE(!r.ok());
  BOOST_TEST(r.error().message.find("/nonexistent-dir-certctl/x/events.db") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
