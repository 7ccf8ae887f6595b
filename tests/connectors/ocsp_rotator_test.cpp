// The delegated OCSP responder rotation shared by the local CA and the intermediate CAs
// (connectors/issuers/local/ocsp_rotator.hpp), driven by a manual clock.
#define BOOST_TEST_MODULE connectors_ocsp_rotator
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "connectors/issuers/local/local_ca.hpp"
#include "infra/clock.hpp"
#include "tests/infra/crypto/test_support.hpp"

using namespace certctl;
using namespace certctl::connectors;
using certctl::test::temp_dir;

namespace {

constexpr std::int64_t start_us = 1'800'000'000LL * 1'000'000;  // 2027-01-15
constexpr std::int64_t day_s = 86400;

std::unique_ptr<local_ca> open_at(const temp_dir& tmp, const infra::clock& clock,
                                  std::int64_t validity_us = 0, std::int64_t renew_us = 0) {
  local_ca_config c;
  c.data_dir = tmp.file("data");
  c.pki_base_url = "http://127.0.0.1:8080";
  c.clock = &clock;
  if (validity_us > 0) c.ocsp_responder_validity_us = validity_us;
  if (renew_us > 0) c.ocsp_responder_renew_before_us = renew_us;
  auto ca = open_local_ca(c);
  BOOST_REQUIRE(ca.ok());
  return std::move(ca).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ocsp_responder_rotation)

BOOST_AUTO_TEST_CASE(the_responder_is_kept_until_its_renewal_window_then_replaced) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_at(tmp, clock);
  auto first = ca->ocsp_responder();
  BOOST_REQUIRE(first.ok());
  BOOST_TEST((*first)->responder_not_after() == start_us / 1'000'000 + 7 * day_s);

  clock.advance(std::chrono::hours(24 * 4));  // 3 days left: more than the 2 of the window
  auto same = ca->ocsp_responder();
  BOOST_REQUIRE(same.ok());
  BOOST_TEST(same->get() == first->get());

  clock.advance(std::chrono::hours(24 * 1) + std::chrono::seconds(1));  // under 2 days left
  auto next = ca->ocsp_responder();
  BOOST_REQUIRE(next.ok());
  BOOST_TEST(next->get() != first->get());
  BOOST_TEST((*next)->responder_not_after() == clock.now() / 1'000'000 + 7 * day_s);
  BOOST_TEST(ca->ocsp_responder()->get() == next->get());
}

BOOST_AUTO_TEST_CASE(the_rotation_follows_the_configured_validity) {
  temp_dir tmp;
  infra::manual_clock clock(start_us);
  auto ca = open_at(tmp, clock, 3LL * 3600 * 1'000'000, 3600LL * 1'000'000);
  auto first = ca->ocsp_responder();
  BOOST_REQUIRE(first.ok());
  BOOST_TEST((*first)->responder_not_after() == start_us / 1'000'000 + 3 * 3600);
  clock.advance(std::chrono::minutes(119));
  BOOST_TEST(ca->ocsp_responder()->get() == first->get());
  clock.advance(std::chrono::minutes(2));
  BOOST_TEST(ca->ocsp_responder()->get() != first->get());
}

BOOST_AUTO_TEST_SUITE_END()
