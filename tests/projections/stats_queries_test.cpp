// The dashboard aggregations (per-status counts, per-day series) and the bulk selection over
// the entity read models, on every backend.
#include <rapidjson/document.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "events/time.hpp"
#include "projections/entity_projections.hpp"
#include "projections/projector.hpp"
#include "projections/stats_queries.hpp"
#include "tests/projections/test_projections.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using namespace certctl::projections;
using testing::projection_env;

namespace {

// 2026-09-21T14:13:20Z: an hour earlier and two hours later are still the same UTC day.
constexpr events::timestamp_us now = 1790000000000000;
constexpr events::timestamp_us minute = 60000000;
constexpr events::timestamp_us hour = 60 * minute;
constexpr events::timestamp_us day = 24 * hour;

using strings = std::vector<std::string>;

template <class T>
T must(db_result<T> r) {
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(r).value();
}

std::string cert_body(const std::string& owner, const std::string& profile) {
  return R"({"name":"n","common_name":"c.example.com","owner_id":")" + owner +
         R"(","team_id":"t-1","issuer_id":"iss-local","renewal_policy_id":"rp-1",)" +
         R"("certificate_profile_id":")" + profile + R"("})";
}

std::string issued(const std::string& serial, events::timestamp_us not_after) {
  return R"({"job_id":"j","serial_number":")" + serial +
         R"(","not_before":"2026-01-01T00:00:00Z","not_after":")" +
         events::format_rfc3339(not_after) + R"(","fingerprint_sha256":"ff","pem_chain":"PEM"})";
}

/// Six certificates, five versions and five jobs spread over 400 days before `now`.
struct seeded {
  explicit seeded(const std::string& backend) : env(backend), p(env.log.store(), env.db) {
    events::timestamp_us t = now - 400 * day;
    auto ev = [&](const std::string& stream, const std::string& type, const std::string& body) {
      return env.append(stream, type, body, "test", t += minute);
    };
    auto job = [&](const std::string& id, const std::string& cert, const char* outcome,
                   const std::string& agent) {
      ev("job-" + id, "job.created",
         R"({"type":"Issuance","certificate_id":")" + cert +
             R"(","status":"Pending","max_attempts":1,"awaiting_csr_mode":"server")" +
             (agent.empty() ? "" : R"(,"agent_id":")" + agent + "\"") + "}");
      ev("job-" + id, "job.started", "{}");
      if (std::string(outcome) == "completed") ev("job-" + id, "job.completed", "{}");
      if (std::string(outcome) == "failed")
        ev("job-" + id, "job.failed", R"({"error":"ca down","retry":false})");
    };
    job("old", "mc-a", "completed", "");  // 400 days ago: outside every window

    t = now - 40 * day;
    ev("certificate-mc-a", "certificate.created", cert_body("o-1", "prof-1"));
    ev("certificate-mc-a", "certificate.issued", issued("a", now + day));

    t = now - day;
    ev("certificate-mc-b", "certificate.created", cert_body("o-1", "prof-2"));
    ev("certificate-mc-b", "certificate.issued", issued("b", now + 2 * hour));
    ev("certificate-mc-c", "certificate.created", cert_body("o-2", "prof-1"));
    ev("certificate-mc-c", "certificate.issued", issued("c", now - hour));  // already expired
    job("y1", "mc-b", "failed", "");
    job("y2", "mc-c", "completed", "");

    t = now - hour;
    ev("certificate-mc-d", "certificate.created", cert_body("o-1", "prof-1"));
    ev("certificate-mc-d", "certificate.issued", issued("d", now + day));
    ev("certificate-mc-d", "certificate.revoked", R"({"reason":"superseded"})");
    ev("certificate-mc-e", "certificate.created", cert_body("o-2", "prof-1"));
    ev("certificate-mc-e", "certificate.issued", issued("e", now + 10 * day));
    ev("certificate-mc-f", "certificate.created", cert_body("o-1", "prof-1"));
    job("t1", "mc-e", "completed", "ag-1");
    last = ev("job-t2", "job.created",
              R"({"type":"Renewal","certificate_id":"mc-f","status":"Pending","max_attempts":1,)"
              R"("awaiting_csr_mode":"server"})");
    BOOST_REQUIRE(register_entity_projections(p).ok());
    BOOST_REQUIRE(*p.catch_up() == last);
  }
  projection_env env;
  projector p;
  std::int64_t last = 0;
};

std::vector<std::int64_t> counts(const std::vector<day_bucket>& b) {
  std::vector<std::int64_t> out;
  for (const auto& x : b) out.push_back(x.count);
  return out;
}

std::vector<std::int64_t> failures(const std::vector<day_bucket>& b) {
  std::vector<std::int64_t> out;
  for (const auto& x : b) out.push_back(x.failed);
  return out;
}

using ints = std::vector<std::int64_t>;

}  // namespace

BOOST_AUTO_TEST_SUITE(stats_queries_suite)

BOOST_DATA_TEST_CASE(certificates_are_counted_per_status,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  const auto by_status = must(certificates_by_status(*s.env.db));
  BOOST_TEST(
      (by_status == std::vector<status_count>{{"Active", 4}, {"Pending", 1}, {"Revoked", 1}}));
  rapidjson::Document d;
  d.Parse(status_counts_json(by_status).c_str());
  BOOST_REQUIRE(d.IsObject() && d["status_counts"].IsArray());
  BOOST_TEST(d["status_counts"].Size() == 3u);
  BOOST_TEST(std::string(d["status_counts"][1]["status"].GetString()) == "Pending");
  BOOST_TEST(d["status_counts"][1]["count"].GetInt64() == 1);
}

BOOST_DATA_TEST_CASE(the_expiration_timeline_counts_live_certificates_per_day_from_today,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  // Today: mc-b (in two hours); mc-c expired an hour ago. Tomorrow: mc-a; mc-d is revoked.
  const auto three = must(expiration_timeline(*s.env.db, now, 3));
  BOOST_REQUIRE(three.size() == 3u);
  BOOST_TEST(three[0].date == "2026-09-21");
  BOOST_TEST(three[2].date == "2026-09-23");
  BOOST_TEST(counts(three) == (ints{1, 1, 0}));
  const auto month = must(expiration_timeline(*s.env.db, now, 30));
  BOOST_REQUIRE(month.size() == 30u);
  BOOST_TEST(month[10].date == "2026-10-01");
  BOOST_TEST(month[10].count == 1);  // mc-e
  std::int64_t total = 0;
  for (const auto& b : month) total += b.count;
  BOOST_TEST(total == 3);

  BOOST_TEST(expiration_timeline(*s.env.db, now, 0).error().code == db_errc::invalid_argument);
  BOOST_TEST(expiration_timeline(*s.env.db, now, 366).error().code == db_errc::invalid_argument);
  BOOST_TEST(must(expiration_timeline(*s.env.db, now, 365)).size() == 365u);
}

BOOST_DATA_TEST_CASE(job_trends_split_completed_and_failed_per_day,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  const auto two = must(job_trends(*s.env.db, now, 2));
  BOOST_REQUIRE(two.size() == 2u);
  BOOST_TEST(two[0].date == "2026-09-20");
  BOOST_TEST(two[1].date == "2026-09-21");
  BOOST_TEST(counts(two) == (ints{1, 1}));    // y2 yesterday, t1 today
  BOOST_TEST(failures(two) == (ints{1, 0}));  // y1 yesterday; t2 has not finished
  // A year back still misses the job finished 400 days ago.
  std::int64_t completed = 0;
  for (const auto& b : must(job_trends(*s.env.db, now, 365))) completed += b.count;
  BOOST_TEST(completed == 2);
  BOOST_TEST(job_trends(*s.env.db, now, -1).error().code == db_errc::invalid_argument);

  rapidjson::Document d;
  d.Parse(job_trends_json(two).c_str());
  BOOST_REQUIRE(d.IsObject() && d["trends"].IsArray() && d["trends"].Size() == 2u);
  BOOST_TEST(std::string(d["trends"][0]["date"].GetString()) == "2026-09-20");
  BOOST_TEST(d["trends"][0]["completed"].GetInt64() == 1);
  BOOST_TEST(d["trends"][0]["failed"].GetInt64() == 1);
}

BOOST_DATA_TEST_CASE(the_issuance_rate_counts_versions_per_day,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  BOOST_TEST(counts(must(issuance_rate(*s.env.db, now, 2))) == (ints{2, 2}));
  const auto month = must(issuance_rate(*s.env.db, now, 30));
  BOOST_TEST(month.size() == 30u);
  BOOST_TEST(month.front().date == "2026-08-23");
  const auto fifty = must(issuance_rate(*s.env.db, now, 50));
  BOOST_TEST(fifty[50 - 1 - 40].date == "2026-08-12");
  BOOST_TEST(fifty[50 - 1 - 40].count == 1);  // mc-a, 40 days ago

  rapidjson::Document d;
  d.Parse(day_counts_json("rate", must(issuance_rate(*s.env.db, now, 2))).c_str());
  BOOST_REQUIRE(d.IsObject() && d["rate"].IsArray() && d["rate"].Size() == 2u);
  BOOST_TEST(d["rate"][1]["count"].GetInt64() == 2);
  BOOST_TEST(std::string(d["rate"][1]["date"].GetString()) == "2026-09-21");
}

BOOST_DATA_TEST_CASE(bulk_selection_combines_criteria_and_keeps_the_callers_order,
                     bdata::make(testing::conformance_backends()), backend) {
  seeded s(backend);
  sql::database& db = *s.env.db;
  BOOST_TEST(select_certificate_ids(db, {}, 10).error().code == db_errc::invalid_argument);

  certificate_selector owner;
  owner.owner_id = "o-1";
  BOOST_TEST(must(select_certificate_ids(db, owner, 10)) ==
             (strings{"mc-a", "mc-b", "mc-d", "mc-f"}));
  owner.profile_id = "prof-1";
  BOOST_TEST(must(select_certificate_ids(db, owner, 10)) == (strings{"mc-a", "mc-d", "mc-f"}));
  // One more than the limit, so the caller can refuse an oversized selection.
  BOOST_TEST(must(select_certificate_ids(db, owner, 1)).size() == 2u);

  certificate_selector agent;
  agent.agent_id = "ag-1";
  BOOST_TEST(must(select_certificate_ids(db, agent, 10)) == strings{"mc-e"});

  certificate_selector listed;
  listed.ids = strings{"mc-f", "mc-x", "mc-a", "mc-f", "mc-c"};
  BOOST_TEST(must(select_certificate_ids(db, listed, 10)) == (strings{"mc-f", "mc-a", "mc-c"}));
  listed.owner_id = "o-1";
  BOOST_TEST(must(select_certificate_ids(db, listed, 10)) == (strings{"mc-f", "mc-a"}));

  // More ids than one statement takes: matched across chunks.
  certificate_selector many;
  many.ids = strings{};
  for (int i = 0; i < 1200; ++i) many.ids->push_back("mc-none-" + std::to_string(i));
  many.ids->push_back("mc-e");
  BOOST_TEST(must(select_certificate_ids(db, many, 1000)) == strings{"mc-e"});
}

BOOST_AUTO_TEST_SUITE_END()
