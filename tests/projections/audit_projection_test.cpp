// The audit read model and its queries for GET /api/v1/audit and /api/v1/audit/{id}.
#include <rapidjson/document.h>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "events/time.hpp"
#include "projections/audit_projection.hpp"
#include "projections/audit_queries.hpp"
#include "projections/projector.hpp"
#include "tests/projections/test_projections.hpp"

namespace bdata = boost::unit_test::data;
using namespace certctl;
using namespace certctl::projections;
using testing::projection_env;

namespace {

constexpr events::timestamp_us t0 = 1790000000000000;
constexpr events::timestamp_us minute = 60000000;

/// 20 events: certificates mc-0..mc-3 and one issuer, three principals, a minute apart.
void seed(projection_env& env) {
  const char* principals[] = {"apikey-alice", "system:renewal", "agent:edge-1"};
  for (int i = 0; i < 20; ++i) {
    const bool issuer = i % 5 == 4;
    env.append(issuer ? "issuer-iss-local" : "certificate-mc-" + std::to_string(i % 4),
               issuer ? "issuer.updated" : (i % 2 ? "certificate.renewed" : "certificate.issued"),
               "{\"i\":" + std::to_string(i) + ",\"note\":\"n\\u00e9\"}", principals[i % 3],
               t0 + i * minute);
  }
}

std::vector<std::int64_t> positions(const audit_page& p) {
  std::vector<std::int64_t> out;
  for (const auto& r : p.rows) out.push_back(r.position);
  return out;
}

audit_page list(projection_env& env, const audit_filter& f) {
  auto r = list_audit_events(*env.db, f);
  BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
  return std::move(r).value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(audit_projection_suite)

BOOST_AUTO_TEST_CASE(stream_ids_split_at_the_first_dash) {
  BOOST_TEST(split_stream_id("certificate-mc-1").first == "certificate");
  BOOST_TEST(split_stream_id("certificate-mc-1").second == "mc-1");
  BOOST_TEST(split_stream_id("standalone").first == "standalone");
  BOOST_TEST(split_stream_id("standalone").second == "");
  BOOST_TEST(actor_type_of("system:renewal") == "System");
  BOOST_TEST(actor_type_of("agent:edge-1") == "Agent");
  BOOST_TEST(actor_type_of("apikey-alice") == "User");
}

BOOST_DATA_TEST_CASE(filters_and_pages_come_newest_first_with_a_total,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  seed(env);
  projector p(env.log.store(), env.db);
  BOOST_REQUIRE(p.add(std::make_shared<audit_projection>()).ok());
  BOOST_REQUIRE(*p.catch_up() == 20);

  audit_filter all;
  all.per_page = 8;
  auto first = list(env, all);
  BOOST_TEST(first.total == 20);
  BOOST_TEST(positions(first) == (std::vector<std::int64_t>{20, 19, 18, 17, 16, 15, 14, 13}));
  all.page = 3;
  auto last = list(env, all);
  BOOST_TEST(positions(last) == (std::vector<std::int64_t>{4, 3, 2, 1}));
  BOOST_TEST(last.total == 20);
  all.page = 4;
  auto beyond = list(env, all);
  BOOST_TEST(beyond.rows.empty());
  BOOST_TEST(beyond.total == 20);

  audit_filter by_actor;
  by_actor.principal = "system:renewal";
  auto sys = list(env, by_actor);
  BOOST_TEST(sys.total == 7);  // i = 1, 4, 7, ..., 19
  BOOST_TEST(positions(sys).front() == 20);

  audit_filter by_entity;
  by_entity.entity_kind = "certificate";
  by_entity.entity_id = "mc-1";
  BOOST_TEST(positions(list(env, by_entity)) == (std::vector<std::int64_t>{18, 14, 6, 2}));
  by_entity.entity_id.reset();
  BOOST_TEST(list(env, by_entity).total == 16);

  audit_filter by_type;
  by_type.event_type = "issuer.updated";
  BOOST_TEST(positions(list(env, by_type)) == (std::vector<std::int64_t>{20, 15, 10, 5}));

  audit_filter by_time;
  by_time.from = t0 + 5 * minute;  // both ends inclusive: i = 5..7
  by_time.to = t0 + 7 * minute;
  BOOST_TEST(positions(list(env, by_time)) == (std::vector<std::int64_t>{8, 7, 6}));
  by_time.principal = "apikey-alice";  // filters combine: i = 6
  BOOST_TEST(positions(list(env, by_time)) == (std::vector<std::int64_t>{7}));

  audit_filter bad;
  bad.per_page = 501;
  BOOST_TEST(list_audit_events(*env.db, bad).error().code == db_errc::invalid_argument);
  bad.per_page = 10;
  bad.page = 0;
  BOOST_TEST(list_audit_events(*env.db, bad).error().code == db_errc::invalid_argument);
}

BOOST_DATA_TEST_CASE(one_event_by_id_renders_as_the_api_audit_event,
                     bdata::make(testing::conformance_backends()), backend) {
  projection_env env(backend);
  seed(env);
  projector p(env.log.store(), env.db);
  BOOST_REQUIRE(p.add(std::make_shared<audit_projection>()).ok());
  BOOST_REQUIRE(p.catch_up().ok());
  const auto ev = env.log.store().read_all(3, 1)->front();  // i = 2: mc-2, issued, agent

  auto got = get_audit_event(*env.db, ev.event_id);
  BOOST_REQUIRE(got.ok());
  BOOST_REQUIRE(got->has_value());
  const audit_row& row = **got;
  BOOST_TEST(row.position == 3);
  BOOST_TEST(row.entity_kind == "certificate");
  BOOST_TEST(row.entity_id == "mc-2");
  BOOST_TEST(row.principal == "agent:edge-1");
  BOOST_TEST(row.occurred_at == t0 + 2 * minute);
  BOOST_TEST(row.occurred_at_rfc3339 == events::format_rfc3339(t0 + 2 * minute));
  BOOST_TEST(row.payload == ev.payload);
  BOOST_TEST(!get_audit_event(*env.db, "no-such-id")->has_value());

  rapidjson::Document doc;
  const std::string json = audit_event_json(row);
  doc.Parse(json.c_str());
  BOOST_REQUIRE(!doc.HasParseError());
  BOOST_TEST(std::string(doc["id"].GetString()) == ev.event_id);
  BOOST_TEST(std::string(doc["actor"].GetString()) == "agent:edge-1");
  BOOST_TEST(std::string(doc["actor_type"].GetString()) == "Agent");
  BOOST_TEST(std::string(doc["action"].GetString()) == "certificate.issued");
  BOOST_TEST(std::string(doc["resource_type"].GetString()) == "certificate");
  BOOST_TEST(std::string(doc["resource_id"].GetString()) == "mc-2");
  BOOST_TEST(std::string(doc["timestamp"].GetString()) == row.occurred_at_rfc3339);
  BOOST_REQUIRE(doc["details"].IsObject());
  BOOST_TEST(doc["details"]["i"].GetInt() == 2);
  BOOST_TEST(std::string(doc["details"]["note"].GetString()) == "n\xc3\xa9");

  audit_filter f;
  f.per_page = 2;
  const std::string body = audit_page_json(list(env, f));
  rapidjson::Document page;
  page.Parse(body.c_str());
  BOOST_REQUIRE(!page.HasParseError());
  BOOST_TEST(page["data"].Size() == 2u);
  BOOST_TEST(page["total"].GetInt64() == 20);
  BOOST_TEST(page["page"].GetInt64() == 1);
  BOOST_TEST(page["per_page"].GetInt64() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
