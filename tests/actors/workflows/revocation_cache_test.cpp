// Revocation signing against a fake read side: what goes into a CRL, how its number is
// recorded (and retried on a conflict), and how the cache follows the read model. Signing
// itself is faked (the DER is the content's summary); OCSP and real signatures are covered
// end to end in tests/integration/pki_test.cpp.
#include <boost/test/unit_test.hpp>

#include <map>
#include <mutex>

#include "actors/workflows/revocation_cache.hpp"
#include "infra/clock.hpp"

using namespace certctl;
using actors::revocation_entry;

namespace {

constexpr std::int64_t s = 1'000'000;
constexpr std::int64_t t0 = 1790000000LL * s;
constexpr std::int64_t day = 86400 * s;

/// The read model as a list of entries, a CRL-number table and a settable position.
class fake_reader final : public actors::revocation_reader {
 public:
  void add(revocation_entry e) {
    std::lock_guard<std::mutex> l(mu_);
    entries_.push_back(std::move(e));
    position_ = std::max(position_, entries_.back().changed_position);
  }
  void set_crl_number(const std::string& issuer, std::int64_t n) {
    std::lock_guard<std::mutex> l(mu_);
    crl_numbers_[issuer] = n;
  }

  actors::revocation_read<std::vector<revocation_entry>> changed_after(std::int64_t position,
                                                                       size_t limit) override {
    return select("", position, limit);
  }
  actors::revocation_read<std::vector<revocation_entry>> entries_of(const std::string& issuer_id,
                                                                    std::int64_t position,
                                                                    size_t limit) override {
    return select(issuer_id, position, limit);
  }
  actors::revocation_read<std::int64_t> last_crl_number(const std::string& issuer_id) override {
    std::lock_guard<std::mutex> l(mu_);
    auto it = crl_numbers_.find(issuer_id);
    return it == crl_numbers_.end() ? 0 : it->second;
  }
  std::int64_t projected_position() override {
    std::lock_guard<std::mutex> l(mu_);
    return position_;
  }

 private:
  std::vector<revocation_entry> select(const std::string& issuer, std::int64_t after,
                                       size_t limit) {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<revocation_entry> out;
    for (const auto& e : entries_)  // added in position order
      if (e.changed_position > after && (issuer.empty() || e.issuer_id == issuer) &&
          out.size() < limit)
        out.push_back(e);
    return out;
  }

  std::mutex mu_;
  std::vector<revocation_entry> entries_;
  std::map<std::string, std::int64_t> crl_numbers_;
  std::int64_t position_ = 0;
};

revocation_entry entry(const std::string& serial, std::int64_t not_after,
                       std::optional<std::int64_t> revoked_at, std::int64_t position,
                       int reason = 0) {
  return {"iss", serial, "mc-" + serial, not_after, revoked_at, reason, 0, position};
}

/// The CRLs "signed": one line per call, "<number>:<serial>,<serial>".
struct fake_authority {
  std::vector<std::string> signed_crls;
  actors::revocation_authority authority() {
    actors::revocation_authority a;
    a.issuer_id = "iss";
    a.sign_crl = [this](const crypto::crl_content& c) -> crypto::crypto_result<crypto::bytes> {
      std::string line = std::to_string(c.crl_number) + ":";
      for (const auto& e : c.revoked) line += e.serial_hex + ",";
      signed_crls.push_back(line);
      return crypto::bytes(line.begin(), line.end());
    };
    a.responder = []() -> result<std::shared_ptr<const crypto::ocsp_signer>, std::string> {
      return std::string("no responder in this test");
    };
    return a;
  }
};

struct cache_fixture {
  infra::manual_clock clock{t0};
  std::shared_ptr<fake_reader> reader = std::make_shared<fake_reader>();
  fake_authority ca;
  std::vector<std::int64_t> recorded;
  actors::revocation_cache cache{reader, clock};

  cache_fixture() {
    cache.add_authority(ca.authority());
    cache.set_crl_recorder([this](const std::string& issuer, const actors::crl_publication& p) {
      BOOST_TEST(issuer == "iss");
      recorded.push_back(p.crl_number);
      return actors::crl_record_result{true, false, ""};
    });
  }

  std::string crl() {
    std::string error;
    auto c = cache.crl("iss", &error);
    BOOST_REQUIRE_MESSAGE(c != nullptr, error);
    return c->der;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(revocation_cache_suite)

BOOST_FIXTURE_TEST_CASE(a_crl_lists_the_revoked_unexpired_entries_under_the_next_number,
                        cache_fixture) {
  reader->add(entry("0A", t0 + 90 * day, std::nullopt, 3));
  reader->add(entry("0B", t0 + 90 * day, t0 - day, 4, 1));
  reader->add(entry("0C", t0 - day, t0 - 2 * day, 5));  // expired: may leave the CRL
  reader->set_crl_number("iss", 6);
  // start() loads the numbers used and syncs; its thread may sign the first CRL itself, so
  // it is stopped before the checks (the result is the same either way).
  BOOST_REQUIRE(cache.start().ok());
  cache.stop();
  BOOST_TEST(crl() == "7:0B,");
  BOOST_TEST(recorded == std::vector<std::int64_t>{7});
  BOOST_TEST(crl() == "7:0B,");  // current: served again, not re-signed
  BOOST_TEST(ca.signed_crls.size() == 1u);
  BOOST_TEST(cache.has_issuer("iss"));
  BOOST_TEST(!cache.has_issuer("other"));  // no resolver: only the added issuer
}

BOOST_FIXTURE_TEST_CASE(a_revocation_the_read_model_shows_makes_a_new_crl_at_once, cache_fixture) {
  reader->add(entry("0A", t0 + 90 * day, std::nullopt, 3));
  BOOST_TEST(crl() == "1:");  // the first request syncs first: the reader is ahead
  reader->add(entry("0A", t0 + 90 * day, t0, 8, 4));
  BOOST_TEST(crl() == "2:0A,");
  const auto rows = cache.crl_cache_rows();
  BOOST_REQUIRE(rows.size() == 1u);
  BOOST_TEST(rows[0].tracked_certificates == 1u);
  BOOST_TEST(!rows[0].dirty);
  BOOST_TEST(rows[0].crl->crl_number == 2);
}

BOOST_FIXTURE_TEST_CASE(a_used_number_is_retried_above_what_the_read_model_knows, cache_fixture) {
  int conflicts = 0;
  cache.set_crl_recorder([this, &conflicts](const std::string&, const actors::crl_publication& p) {
    recorded.push_back(p.crl_number);
    if (conflicts++ == 0) {
      reader->set_crl_number("iss", 10);  // another node published up to 10 meanwhile
      return actors::crl_record_result{false, true, "number used"};
    }
    return actors::crl_record_result{true, false, ""};
  });
  BOOST_TEST(crl() == "11:");
  BOOST_TEST(recorded == (std::vector<std::int64_t>{1, 11}));
}

BOOST_FIXTURE_TEST_CASE(a_crl_that_cannot_be_recorded_is_not_served, cache_fixture) {
  cache.set_crl_recorder([](const std::string&, const actors::crl_publication&) {
    return actors::crl_record_result{false, false, "store down"};
  });
  std::string error;
  BOOST_TEST(cache.crl("iss", &error) == nullptr);
  BOOST_TEST(error.find("store down") != std::string::npos);
  BOOST_TEST(cache.crl_cache_rows().at(0).dirty);
}

BOOST_AUTO_TEST_CASE(loaded_in_the_background_requests_wait_for_the_load_not_answer_without_it) {
  // The server's setting: start() returns at once, the first request syncs (or waits for the
  // thread's load), so a revoked certificate is never missed because the load was not done.
  infra::manual_clock clock{t0};
  auto reader = std::make_shared<fake_reader>();
  reader->add(entry("0A", t0 + 90 * day, std::nullopt, 3));
  reader->add(entry("0B", t0 + 90 * day, t0 - day, 4, 1));
  fake_authority ca;
  actors::revocation_cache_options o;
  o.load_in_background = true;
  actors::revocation_cache cache{reader, clock, o};
  cache.add_authority(ca.authority());
  BOOST_REQUIRE(cache.start().ok());
  std::string error;
  auto crl = cache.crl("iss", &error);
  BOOST_REQUIRE_MESSAGE(crl != nullptr, error);
  BOOST_TEST(crl->der == "1:0B,");
  cache.stop();
}

BOOST_AUTO_TEST_SUITE_END()
