// The dashboard routes over the read models: counts by status, per-day series with the spec's
// day bounds, and the summary.
#include <boost/test/unit_test.hpp>

#include <map>

#include "events/time.hpp"
#include "tests/gateways/rest/rest_fixture.hpp"

using namespace certctl;
using certctl::test::rest_fixture;

BOOST_AUTO_TEST_SUITE(stats_routes)

BOOST_FIXTURE_TEST_CASE(certificates_are_counted_by_status, rest_fixture) {
  create_certificate("mc-1");
  create_certificate("mc-2");
  create_certificate("mc-3");
  issue("mc-3");
  auto r = read("/api/v1/stats/certificates-by-status");
  BOOST_REQUIRE(r.status == 200);
  std::map<std::string, std::int64_t> counts;
  for (const auto& c : json(r).object_array("status_counts"))
    counts[c.str("status")] = c.int64("count");
  BOOST_TEST(counts["Pending"] == 2);
  BOOST_TEST(counts["Active"] == 1);

  auto summary = json(read("/api/v1/stats/summary"));
  BOOST_TEST(summary.int64("total_certificates") == 3);
}

BOOST_FIXTURE_TEST_CASE(series_have_one_bucket_per_day_and_count_on_the_right_day, rest_fixture) {
  create_certificate("mc-1");
  issue("mc-1");  // expires in ten days
  auto timeline = json(read("/api/v1/stats/expiration-timeline"));
  const auto buckets = timeline.object_array("buckets");
  BOOST_REQUIRE(buckets.size() == 30u);
  const std::string expiry_day =
      events::format_rfc3339(clock.now() + 10 * 86400LL * 1'000'000).substr(0, 10);
  std::int64_t total = 0;
  for (const auto& b : buckets) {
    total += b.int64("count");
    if (b.int64("count") > 0) BOOST_TEST(b.str("date") == expiry_day);
  }
  BOOST_TEST(total == 1);
  BOOST_TEST(json(read("/api/v1/stats/issuance-rate?days=7")).object_array("rate").size() == 7u);
  BOOST_TEST(read("/api/v1/stats/job-trends?days=365").status == 200);
}

BOOST_FIXTURE_TEST_CASE(days_outside_1_to_365_are_400, rest_fixture) {
  for (const char* q : {"?days=0", "?days=366", "?days=-1", "?days=7d", "?days=1000"}) {
    auto r = send("GET", std::string("/api/v1/stats/expiration-timeline") + q);
    BOOST_TEST(r.status == 400, q);
    BOOST_TEST(json(r).str("error") == "query parameter 'days' must be an integer from 1 to 365");
  }
}

BOOST_AUTO_TEST_SUITE_END()
