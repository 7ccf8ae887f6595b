// The REST gateway's one error-to-status table: every code of every layer it renders.
#include <boost/test/unit_test.hpp>

#include "gateways/rest/command_support.hpp"

using namespace certctl;
using gateways::rest::http_status;

BOOST_AUTO_TEST_SUITE(error_table)

BOOST_AUTO_TEST_CASE(domain_errors_map_as_the_reference_api_answers) {
  using e = domain::domain_errc;
  BOOST_TEST(http_status(e::invalid) == 400);
  BOOST_TEST(http_status(e::not_found) == 404);
  BOOST_TEST(http_status(e::conflict) == 409);
  BOOST_TEST(http_status(e::forbidden) == 403);
  BOOST_TEST(http_status(e::internal) == 500);
  BOOST_TEST(http_status(e::unavailable) == 503);
}

BOOST_AUTO_TEST_CASE(read_model_errors_are_400_for_bad_input_and_503_when_worth_a_retry) {
  using e = sql::db_errc;
  BOOST_TEST(http_status(e::invalid_argument) == 400);
  BOOST_TEST(http_status(e::unavailable) == 503);
  BOOST_TEST(http_status(e::constraint) == 500);
  BOOST_TEST(http_status(e::query_failed) == 500);
  BOOST_TEST(http_status(e::bad_url) == 500);
  auto r = gateways::rest::error_response(sql::db_error{e::unavailable, "database is locked"},
                                          "audit query failed");
  BOOST_TEST(r.status == 503);
  BOOST_TEST(r.error.value_or("") == "audit query failed: database is locked");
}

BOOST_AUTO_TEST_CASE(ca_hierarchy_errors_keep_their_documented_statuses) {
  using e = connectors::hierarchy_errc;
  BOOST_TEST(http_status(e::invalid) == 400);
  BOOST_TEST(http_status(e::not_found) == 404);
  BOOST_TEST(http_status(e::conflict) == 409);
  BOOST_TEST(http_status(e::unavailable) == 503);
  BOOST_TEST(http_status(e::internal) == 500);
  auto r = gateways::rest::error_response(domain::domain_error{domain::domain_errc::conflict, "x"});
  BOOST_TEST(r.status == 409);
  BOOST_TEST(r.error.value_or("") == "x");
}

BOOST_AUTO_TEST_SUITE_END()
