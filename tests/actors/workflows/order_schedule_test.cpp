// The poll ladder of pending asynchronous CA orders (issue 13): 5 s, 15 s, 45 s, 2 min, 5 min
// and 5 min after that, each spread by +-20 % jitter, and the schedule's parsing.
#include <boost/test/unit_test.hpp>

#include "actors/workflows/order_schedule.hpp"

using namespace certctl;
using std::chrono::seconds;

namespace {
constexpr std::int64_t us = 1000000;
}

BOOST_AUTO_TEST_SUITE(order_schedule)

BOOST_AUTO_TEST_CASE(without_jitter_the_waits_follow_the_ladder_and_stay_on_its_last_step) {
  const auto ladder = actors::default_poll_ladder();
  const std::int64_t want[] = {5, 15, 45, 120, 300, 300, 300};
  for (std::int64_t n = 0; n < 7; ++n)
    BOOST_TEST(actors::poll_wait_us(ladder, n, 0.2, 0.5) == want[n] * us, "poll " << n);
  BOOST_TEST(actors::poll_wait_us(ladder, 1000000, 0.2, 0.5) == 300 * us);
  BOOST_TEST(actors::poll_wait_us(ladder, -3, 0.2, 0.5) == 5 * us);
}

BOOST_AUTO_TEST_CASE(the_jitter_spreads_each_step_by_at_most_twenty_percent) {
  const auto ladder = actors::default_poll_ladder();
  // The extremes of the draw land on the bounds.
  BOOST_TEST(actors::poll_wait_us(ladder, 0, 0.2, 0.0) == 4 * us);
  BOOST_TEST(actors::poll_wait_us(ladder, 0, 0.2, 1.0) == 6 * us);
  BOOST_TEST(actors::poll_wait_us(ladder, 3, 0.2, 0.0) == 96 * us);
  BOOST_TEST(actors::poll_wait_us(ladder, 3, 0.2, 1.0) == 144 * us);
  // Real draws: always inside the bounds, and not all the same.
  std::int64_t lowest = INT64_MAX, highest = 0;
  for (int i = 0; i < 2000; ++i) {
    const double u = actors::random_unit();
    BOOST_REQUIRE(u >= 0.0);
    BOOST_REQUIRE(u < 1.0);
    const auto w = actors::poll_wait_us(ladder, 2, 0.2, u);
    BOOST_REQUIRE(w >= 36 * us);
    BOOST_REQUIRE(w <= 54 * us);
    lowest = std::min(lowest, w);
    highest = std::max(highest, w);
  }
  // 2000 uniform draws cover most of the 18 s range (the chance they stay within a 9 s
  // band is far below 1e-100).
  BOOST_TEST(highest - lowest > 9 * us);
}

BOOST_AUTO_TEST_CASE(a_jitter_out_of_range_is_clamped) {
  const std::vector<seconds> ladder{seconds(10)};
  BOOST_TEST(actors::poll_wait_us(ladder, 0, -1.0, 0.0) == 10 * us);
  BOOST_TEST(actors::poll_wait_us(ladder, 0, 5.0, 0.0) == 1 * us);  // at most 90 %
}

BOOST_AUTO_TEST_CASE(the_schedule_parses_and_names_a_bad_step) {
  std::string error;
  auto ladder = actors::parse_poll_ladder("1,2,30", error);
  BOOST_TEST(error.empty());
  BOOST_REQUIRE(ladder.size() == 3u);
  BOOST_TEST(ladder[2].count() == 30);
  for (const char* bad : {"", "5,,15", "5,x", "0", "86401", "5, 15", "-5"}) {
    error.clear();
    BOOST_TEST(actors::parse_poll_ladder(bad, error).empty(), bad);
    BOOST_TEST(!error.empty(), bad);
  }
}

BOOST_AUTO_TEST_SUITE_END()
