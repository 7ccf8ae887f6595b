// RFC 3339: how occurred_at is shown in exports and read back from --from/--to filters.
#include <boost/test/unit_test.hpp>

#include "events/time.hpp"

using certctl::events::format_rfc3339;
using certctl::events::parse_rfc3339;
using certctl::events::timestamp_us;

namespace {
// 2026-11-27T08:12:46Z
constexpr timestamp_us base = 1795767166LL * 1000000;
}  // namespace

BOOST_AUTO_TEST_SUITE(rfc3339)

BOOST_AUTO_TEST_CASE(formats_utc_with_microseconds) {
  BOOST_TEST(format_rfc3339(0) == "1970-01-01T00:00:00.000000Z");
  BOOST_TEST(format_rfc3339(base + 123456) == "2026-11-27T08:12:46.123456Z");
  BOOST_TEST(format_rfc3339(-1) == "1969-12-31T23:59:59.999999Z");
  BOOST_TEST(format_rfc3339(951782400LL * 1000000) == "2000-02-29T00:00:00.000000Z");
}

BOOST_AUTO_TEST_CASE(format_and_parse_round_trip) {
  for (timestamp_us t :
       {timestamp_us{0}, timestamp_us{1}, timestamp_us{-1}, base, base + 999999,
        timestamp_us{951782400LL * 1000000 + 5}, timestamp_us{253402300799999999}}) {
    auto back = parse_rfc3339(format_rfc3339(t));
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST(*back == t);
  }
}

BOOST_AUTO_TEST_CASE(offsets_are_converted_to_utc) {
  BOOST_TEST(parse_rfc3339("2026-11-27T08:12:46Z").value() == base);
  BOOST_TEST(parse_rfc3339("2026-11-27T09:12:46+01:00").value() == base);
  BOOST_TEST(parse_rfc3339("2026-11-27T02:42:46-05:30").value() == base);
  BOOST_TEST(parse_rfc3339("2026-11-28T00:12:46+16:00").value() == base);  // across midnight
  BOOST_TEST(parse_rfc3339("2026-11-27T08:12:46+00:00").value() == base);
  BOOST_TEST(parse_rfc3339("2026-11-27T08:12:46-00:00").value() == base);
}

BOOST_AUTO_TEST_CASE(fractional_seconds_of_any_length_are_read_to_the_microsecond) {
  BOOST_TEST(parse_rfc3339("2026-11-27T08:12:46.5Z").value() == base + 500000);
  BOOST_TEST(parse_rfc3339("2026-11-27T08:12:46.000001Z").value() == base + 1);
  BOOST_TEST(parse_rfc3339("2026-11-27T08:12:46.123Z").value() == base + 123000);
  // Beyond microseconds the digits are dropped, never rounded up into the next second.
  BOOST_TEST(parse_rfc3339("2026-11-27T08:12:46.999999999Z").value() == base + 999999);
  BOOST_TEST(parse_rfc3339("2026-11-27T09:12:46.25+01:00").value() == base + 250000);
}

BOOST_AUTO_TEST_CASE(lower_case_and_space_separators_are_accepted) {
  BOOST_TEST(parse_rfc3339("2026-11-27t08:12:46z").value() == base);
  BOOST_TEST(parse_rfc3339("2026-11-27 08:12:46Z").value() == base);
}

BOOST_AUTO_TEST_CASE(malformed_inputs_are_rejected) {
  for (const char* s : {"",
                        "2026",
                        "2026-11-27",
                        "2026-11-27T08:12:46",
                        "2026-11-27T08:12Z",
                        "2026-11-27T08:12:46.Z",
                        "2026-11-27T08:12:46+0100",
                        "2026-11-27T08:12:46+01",
                        "2026-11-27T08:12:46Zjunk",
                        "2026/11/27T08:12:46Z",
                        "2026-13-01T00:00:00Z",
                        "2026-00-10T00:00:00Z",
                        "2026-11-00T00:00:00Z",
                        "2026-11-32T00:00:00Z",
                        "2026-11-27T24:00:00Z",
                        "2026-11-27T08:60:00Z",
                        "2026-11-27T08:12:61Z",
                        "2026-11-27X08:12:46Z",
                        "26-11-27T08:12:46Z",
                        " 2026-11-27T08:12:46Z",
                        "2026-11-27T08:12:46 Z",
                        "2026-1a-27T08:12:46Z",
                        "2026-11-27T08:12:46.12a3Z"}) {
    BOOST_TEST(!parse_rfc3339(s).has_value(), "accepted: \"" << s << "\"");
  }
}

BOOST_AUTO_TEST_CASE(impossible_dates_and_offsets_are_rejected) {
  BOOST_TEST(!parse_rfc3339("2026-02-30T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339("2025-02-29T00:00:00Z").has_value());
  BOOST_TEST(!parse_rfc3339("2026-11-27T08:12:46+99:99").has_value());
  BOOST_TEST(parse_rfc3339("2024-02-29T00:00:00Z").has_value());  // leap year
}

BOOST_AUTO_TEST_SUITE_END()
